// A printer's settings as one Settings object: its own sections (serial, profile, camera, …) from printers.json over
// the Gantry-wide ones from settings.json. A change is split back: each section goes to the file it lives in, and
// only a file whose part changed is written.
import { PRINTER_SECTIONS, type PrinterSettings, type SettingsStore } from '../config/settings-store.js';
import type { Settings } from '../config/settings.js';
import type { JsonStore } from '../store/json-store.js';
import type { PrintersFile } from './printers-file.js';

export class UnitSettings implements SettingsStore {
  private cache: { global: Settings; own: PrinterSettings; merged: Settings } | undefined;

  constructor(
    private readonly global: JsonStore<Settings>,
    private readonly printers: JsonStore<PrintersFile>,
    readonly printerId: string,
  ) {}

  private own(): PrinterSettings {
    const rec = this.printers.data.printers.find((p) => p.id === this.printerId);
    if (!rec) throw new Error(`printer ${this.printerId} is not configured`);
    return rec.settings;
  }

  get data(): Settings {
    // both stores replace their data on every save: the merged view is rebuilt only after one did
    const global = this.global.data;
    const own = this.own();
    if (this.cache?.global !== global || this.cache.own !== own) this.cache = { global, own, merged: { ...global, ...own } };
    return this.cache.merged;
  }

  async update(fn: (s: Settings) => void): Promise<void> {
    const before = this.data;
    const draft = structuredClone(before);
    fn(draft);
    const changed = (Object.keys(draft) as (keyof Settings)[]).filter((k) => JSON.stringify(draft[k]) !== JSON.stringify(before[k]));
    const mine = changed.filter((k) => (PRINTER_SECTIONS as readonly string[]).includes(k));
    const shared = changed.filter((k) => !mine.includes(k));
    if (mine.length > 0) {
      await this.printers.update((f) => {
        const rec = f.printers.find((p) => p.id === this.printerId);
        if (!rec) throw new Error(`printer ${this.printerId} is not configured`);
        for (const k of mine) Object.assign(rec.settings, { [k]: draft[k] });
      });
    }
    if (shared.length > 0) await this.global.update((s) => shared.forEach((k) => Object.assign(s, { [k]: draft[k] })));
  }
}
