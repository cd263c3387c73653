// The printers of one Gantry: the default one (today's URLs, its settings in settings.json) and any added at run
// time (printers.json), each a PrinterUnit. Adding or removing one never restarts, or disturbs, the others.
import { generateApiKey } from '../accounts/api-keys.js';
import type { PrinterInput, PrinterView, PrintersApi } from '../api/context.js';
import { PRINTER_SECTIONS, type PrinterSettings } from '../config/settings-store.js';
import { type Settings, defaultSettings } from '../config/settings.js';
import { ServiceError } from '../service-error.js';
import { type JsonStore, deepMerge } from '../store/json-store.js';
import { deviceOf } from '../transport/discovery.js';
import { DEFAULT_PRINTER_ID, PRINTER_ID, type PrintersFile } from './printers-file.js';
import type { PrinterStatus } from '../status/types.js';
import { PrinterUnit, type UnitGlobals, type UnitRunOptions } from './unit.js';
import { UnitSettings } from './unit-settings.js';

/** a printer's own sections as a new printer gets them: the defaults, no camera (the default printer's camera is
 * most likely the only one), and a camera token of its own */
function newPrinterSettings(input: PrinterInput): PrinterSettings {
  const d = defaultSettings();
  const own = Object.fromEntries(PRINTER_SECTIONS.map((k) => [k, d[k]])) as PrinterSettings;
  own.appearance.name = input.name ?? input.id;
  own.camera.source = 'none';
  own.camera.token = generateApiKey();
  applyInput(own, input);
  return own;
}

function applyInput(own: PrinterSettings, input: Omit<PrinterInput, 'id'>): void {
  if (input.name !== undefined) own.appearance.name = input.name;
  if (input.serial?.port !== undefined) own.serial.port = input.serial.port;
  if (input.serial?.baudrate !== undefined) own.serial.baudrate = input.serial.baudrate;
  if (input.camera?.source !== undefined) own.camera.source = input.camera.source;
  if (input.printerProfile) own.printerProfile = deepMerge(own.printerProfile, input.printerProfile) as Settings['printerProfile'];
}

const notFound = (id: string) => new ServiceError(404, `No printer "${id}"`);

export class PrinterRegistry implements PrintersApi {
  private readonly units = new Map<string, PrinterUnit>();
  private readonly globals: UnitGlobals;
  /** one change of the set of printers at a time (two adds of one id, an add racing a remove) */
  private changing: Promise<unknown> = Promise.resolve();
  /** devices the port finder is asking who they are: left alone by autodetection, waited for by a new printer */
  private readonly probing = new Map<string, Promise<unknown>>();

  constructor(
    globals: Omit<UnitGlobals, 'printers' | 'claimedBy'>,
    private readonly settings: JsonStore<Settings>,
    private readonly file: JsonStore<PrintersFile>,
  ) {
    this.globals = { ...globals, printers: this, claimedBy: (id) => this.claimedBy(id) };
  }

  /** Opens the default printer and every saved one (not connected yet: start()). */
  async open(defaultRun: UnitRunOptions): Promise<void> {
    this.units.set(DEFAULT_PRINTER_ID, await PrinterUnit.open(DEFAULT_PRINTER_ID, this.settings, this.globals, defaultRun));
    for (const rec of this.file.data.printers) {
      if (this.units.has(rec.id)) continue;
      try {
        this.units.set(rec.id, await PrinterUnit.open(rec.id, new UnitSettings(this.settings, this.file, rec.id), this.globals));
      } catch (err) {
        this.globals.log.error(`printer ${rec.id} not started: ${(err as Error).message}`);
      }
    }
  }

  /** Connects every printer as configured. */
  start(): void {
    for (const unit of this.units.values()) unit.start();
  }

  get defaultUnit(): PrinterUnit {
    return this.units.get(DEFAULT_PRINTER_ID)!;
  }

  get(id: string): PrinterUnit | undefined {
    return this.units.get(id);
  }

  all(): PrinterUnit[] {
    return [...this.units.values()];
  }

  listWithStatus(): (PrinterView & { status: PrinterStatus })[] {
    return this.all().map((u) => ({ ...this.view(u), status: u.status.snapshot() }));
  }

  list(): PrinterView[] {
    return this.all().map((u) => this.view(u));
  }

  add(input: PrinterInput): Promise<PrinterView> {
    return this.serially(async () => {
      if (!PRINTER_ID.test(input.id)) throw new ServiceError(400, `A printer id is 1 to 32 of a-z 0-9 - _, starting with a letter or digit (it becomes its URL, /printers/<id>/, and MQTT topic), not "${input.id}"`);
      // <base>/bridge/ holds the whole Gantry's MQTT topics (its last will, the host's health)
      if (input.id === 'bridge') throw new ServiceError(400, 'A printer cannot be called "bridge": MQTT\'s <base>/bridge/ topics are the whole Gantry\'s');
      if (this.units.has(input.id)) throw new ServiceError(409, `There is a printer "${input.id}" already`);
      const own = newPrinterSettings(input);
      await this.checkPortFree(input.id, own.serial.port);
      await this.file.update((f) => f.printers.push({ id: input.id, created: Date.now(), settings: own }));
      let unit: PrinterUnit;
      try {
        unit = await PrinterUnit.open(input.id, new UnitSettings(this.settings, this.file, input.id), this.globals);
      } catch (err) {
        await this.file.update((f) => (f.printers = f.printers.filter((p) => p.id !== input.id))).catch(() => undefined);
        throw err;
      }
      this.units.set(input.id, unit);
      await this.probed(own.serial.port);
      unit.start();
      this.globals.log.info(`printer ${input.id} added (${own.serial.port})`);
      this.changed();
      return this.view(unit);
    });
  }

  update(id: string, patch: Omit<PrinterInput, 'id'>): Promise<PrinterView> {
    return this.serially(async () => {
      const unit = this.units.get(id);
      if (!unit) throw notFound(id);
      if (patch.serial !== undefined && unit.jobs.active) throw new ServiceError(409, `Printer "${id}" is printing; change its connection when the print is done`);
      if (patch.serial?.port !== undefined) await this.checkPortFree(id, patch.serial.port);
      await unit.settings.update((s) => applyInput(s, patch));
      this.globals.bus.emit('settings.updated', {});
      this.changed();
      return this.view(unit);
    });
  }

  remove(id: string): Promise<void> {
    return this.serially(async () => {
      const unit = this.units.get(id);
      if (!unit) throw notFound(id);
      if (unit.isDefault) throw new ServiceError(409, `"${id}" is the default printer (today's URLs answer for it); it cannot be removed, only disconnected`);
      if (unit.jobs.active) throw new ServiceError(409, `Printer "${id}" is printing; cancel the print or wait for it to end before removing the printer`);
      // Off the list first, and no print may start on it any more (the farm dispatcher, its own queue, the API and
      // MQTT all ask it through its job runner): a print started while the removal is saved would be torn down by
      // the stop. Then saved: a crash from here on never brings back a printer the user removed; a save that fails
      // puts it back, listed, running and able to print, as the error says. Then stopped.
      unit.jobs.refuseStarts(`Printer "${id}" is being removed`);
      const order = [...this.units.keys()];
      this.units.delete(id);
      const putBack = () => {
        const units = new Map(this.units);
        this.units.clear();
        for (const k of order) if (k === id || units.has(k)) this.units.set(k, k === id ? unit : units.get(k)!);
        for (const [k, u] of units) if (!this.units.has(k)) this.units.set(k, u);
        unit.jobs.refuseStarts(undefined);
        // what its own queue held back meanwhile
        void unit.queue.maybeStartNext().catch((err: Error) => this.globals.log.warn(`queue: cannot start the next item: ${err.message}`));
      };
      const saved = this.file.data.printers.find((p) => p.id === id);
      try {
        await this.file.update((f) => (f.printers = f.printers.filter((p) => p.id !== id)));
      } catch (err) {
        putBack();
        throw err;
      }
      // a start that got past its checks before the refusal: the printer stays, and its print
      if (unit.jobs.active) {
        await this.file.update((f) => void (saved && !f.printers.some((p) => p.id === id) && f.printers.push(saved))).catch((err: Error) => this.globals.log.error(`printer ${id}: could not list it in printers.json again: ${err.message}`));
        putBack();
        throw new ServiceError(409, `Printer "${id}" started printing while it was being removed; it stays. Cancel the print or wait for it to end, then remove it`);
      }
      await unit.stop();
      this.globals.log.info(`printer ${id} removed (its queue and timelapses stay in printers/${id}/)`);
      this.changed();
    });
  }

  async stop(): Promise<void> {
    await this.changing.catch(() => undefined);
    await Promise.all(this.all().map((u) => u.stop()));
  }

  /** Marks a device as being probed until `done` settles (src/printers/port-finder.ts). */
  hold(device: string, done: Promise<unknown>): void {
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.probing.set(device, settled);
    void settled.then(() => {
      if (this.probing.get(device) === settled) this.probing.delete(device);
    });
  }

  /** Waits for a probe of this port's device to end: the new printer's handshake must not meet the probe's. */
  private async probed(port: string): Promise<void> {
    if (this.probing.size === 0 || /^(AUTO|VIRTUAL|NONE)$/i.test(port)) return;
    await this.probing.get(await deviceOf(port));
  }

  /** The devices the other printers are bound to or connected to, and those being probed. */
  async claimedBy(id: string): Promise<string[]> {
    const out: string[] = [...this.probing.keys()];
    for (const u of this.units.values()) {
      if (u.id === id) continue;
      const bound = u.boundPort();
      if (bound) out.push(bound);
      if (u.printer.port) out.push(u.printer.port);
    }
    return out;
  }

  private async checkPortFree(id: string, port: string): Promise<void> {
    if (/^(AUTO|VIRTUAL|NONE)$/i.test(port)) return;
    const device = await deviceOf(port);
    for (const u of this.units.values()) {
      if (u.id === id) continue;
      for (const p of [u.boundPort(), u.printer.port]) {
        if (p && (await deviceOf(p)) === device) throw new ServiceError(409, `${port} belongs to printer "${u.id}"`);
      }
    }
  }

  private view(u: PrinterUnit): PrinterView {
    const s = u.settings.data;
    const target = u.connectTarget();
    return {
      id: u.id,
      name: s.appearance.name,
      default: u.isDefault,
      path: `/printers/${u.id}/`,
      port: u.printer.port ?? target.port,
      baudrate: u.printer.baudrate ?? target.baudrate,
      state: u.printer.state,
      stateText: u.printer.stateText,
      printing: u.jobs.active,
      progress: u.jobs.active ? u.jobs.progress().completion : null,
      file: u.jobs.printingPath ?? null,
    };
  }

  private changed(): void {
    this.globals.bus.emit('printers.changed', { ids: [...this.units.keys()] });
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changing.then(fn);
    this.changing = run.catch(() => undefined);
    return run;
  }
}
