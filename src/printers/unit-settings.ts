// A printer's settings as one Settings object: its own sections (serial, profile, camera, …) from printers.json over
// the Gantry-wide ones from settings.json. A change is split back: each section goes to the file it lives in, and
// only a file whose part changed is written; a change to both is saved as one (src/store/commit.ts), so a crash
// never leaves one file with it and the other without.
import { PRINTER_SECTIONS, type PrinterSettings, type SettingsStore } from '../config/settings-store.js';
import type { Settings } from '../config/settings.js';
import { dirname } from 'node:path';
import { settingsJournal } from '../store/commit.js';
import { JsonStore, change } from '../store/json-store.js';
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
    if (rec) return rec.settings;
    // removed (printers.json is saved before the printer stops): what it had, while it stops
    if (this.cache) return this.cache.own;
    throw new Error(`printer ${this.printerId} is not configured`);
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
    const ownPart = (f: PrintersFile) => {
      const rec = f.printers.find((p) => p.id === this.printerId);
      if (!rec) throw new Error(`printer ${this.printerId} is not configured`);
      for (const k of mine) Object.assign(rec.settings, { [k]: draft[k] });
    };
    const sharedPart = (s: Settings) => shared.forEach((k) => Object.assign(s, { [k]: draft[k] }));
    if (mine.length > 0 && shared.length > 0) {
      await JsonStore.transaction(settingsJournal(dirname(this.printers.file)), [
        change(this.printers, ownPart),
        change(this.global, sharedPart),
      ]);
    } else if (mine.length > 0) await this.printers.update(ownPart);
    else if (shared.length > 0) await this.global.update(sharedPart);
  }
}
