// The one typed event bus. Every event name and payload is declared here, so producers and the surfaces that
// listen agree at compile time.
import { EventEmitter } from 'node:events';
import type { FirmwareInfo } from './printer/firmware.js';
import type { HostPrompt } from './printer/host-prompt.js';
import type { Position } from './printer/parse.js';
import type { PrinterStateId } from './printer/state.js';
import type { TemperatureSample } from './printer/temperature-history.js';

export interface GantryEvents {
  'printer.state': { printerId: string; state: PrinterStateId; text: string; error: string };
  'printer.connected': { printerId: string; port: string; baudrate: number };
  'printer.disconnected': { printerId: string };
  'printer.temperature': { printerId: string; sample: TemperatureSample };
  'printer.position': { printerId: string; position: Position };
  'printer.firmware': { printerId: string; firmware: FirmwareInfo };
  'printer.log': { printerId: string; line: string };
  'printer.message': { printerId: string; text: string };
  'printer.action': { printerId: string; name: string; params: string };
  'printer.error': { printerId: string; reason: string; message: string };
  'printer.stream-done': { printerId: string };
  /** the firmware restarted while connected (OctoPrint's PrinterReset); `idle`: no job was running */
  'printer.reset': { printerId: string; idle: boolean };
  /** a blocking heat-up (M109/M190/M191/M116) started (its command) or ended (null) */
  'printer.heating': { printerId: string; command: string | null };
  /** the firmware showed a host prompt, or the shown one closed (null) */
  'printer.prompt': { printerId: string; prompt: HostPrompt | null };
  'settings.updated': Record<string, never>;
  'files.analysed': { path: string };
  /** a file came in; `printerId`: the printer whose API received it (the one select/print act on); the file is every printer's */
  'files.uploaded': { printerId: string; path: string; select: boolean; print: boolean; effectiveSelect: boolean; effectivePrint: boolean };
  /** a file was selected for printing (OctoPrint's FileSelected), or the selection cleared (FileDeselected) */
  'job.selected': { printerId: string; path: string; name: string; size: number; user: string | null };
  'job.deselected': { printerId: string };
  'job.started': { printerId: string; path: string; fromQueue: boolean };
  'job.layer': { printerId: string; path: string; layer: number; z: number };
  'job.paused': { printerId: string; path: string };
  'job.resumed': { printerId: string; path: string };
  /** `printTime`: seconds printed, pauses excluded (OctoPrint's PrintDone `time`) */
  'job.ended': { printerId: string; path: string; result: 'success' | 'failed' | 'cancelled'; reason: string | null; fromQueue: boolean; printTime: number; size: number; user: string | null };
  'queue.changed': { printerId: string; items: number; bedClear: boolean };
  /** an app asks for a key: `id` is what approvers decide by (never the app's poll secret) */
  'appkeys.request': { id: string; app: string; user: string | null; remoteAddress: string | null };
  'appkeys.decided': { id: string; user: string | null };
  /** login sessions that ended (logout, password or role change, removal, revoked key): their sockets close */
  'sessions.ended': { ids: string[] };
  'timelapse.frame': { printerId: string; name: string; frame: number };
  'timelapse.render': { printerId: string; name: string; state: 'started' | 'progress' | 'done' | 'failed'; progress: number; file: string | null; error: string | null; gcode: string | null };
  /** videos or frame sets deleted or pruned */
  'timelapse.changed': { printerId: string };
  'files.changed': { path: string; kind: 'added' | 'removed' | 'folder-added' };
  /** a printer was added or removed: the ids there are now */
  'printers.changed': { ids: string[] };
  /** the farm queue changed (an item added, started, finished, moved, or why it waits) */
  'farm.changed': { items: number; printing: number; waiting: number };
  /** a serial device no printer claims was plugged in (`firmware`: its name from M115, null when it did not answer) */
  'printers.found': { port: string; firmware: string | null };
}

/** Events about one printer. A unit's bus (EventBus.scope) stamps its printer id on them and hears only its own;
 * every other event (files, settings, accounts) is the whole Gantry's and reaches every unit. */
export const PRINTER_EVENTS: ReadonlySet<keyof GantryEvents> = new Set<keyof GantryEvents>([
  'printer.state', 'printer.connected', 'printer.disconnected', 'printer.temperature', 'printer.position', 'printer.firmware',
  'printer.log', 'printer.message', 'printer.action', 'printer.error', 'printer.stream-done', 'printer.reset', 'printer.heating', 'printer.prompt',
  'job.selected', 'job.deselected', 'job.started', 'job.layer', 'job.paused', 'job.resumed', 'job.ended', 'queue.changed', 'timelapse.frame', 'timelapse.render', 'timelapse.changed',
]);

/** A payload as a unit's code emits it: its bus adds the printer id. */
export type Unstamped<T> = T extends { printerId: string } ? Omit<T, 'printerId'> & { printerId?: string } : T;

/** What a printer's own services (the link, its jobs, queue, timelapse, push and MQTT surfaces) see: their printer's
 * events and the global ones. */
export interface PrinterBus {
  readonly printerId: string;
  on<K extends keyof GantryEvents>(name: K, listener: (payload: GantryEvents[K]) => void): () => void;
  emit<K extends keyof GantryEvents>(name: K, payload: Unstamped<GantryEvents[K]>): void;
  listeners(name: keyof GantryEvents): number;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  /** each printer's listeners on its own emitter: an event costs the same with one printer or three hundred */
  private readonly printers = new Map<string, EventEmitter>();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  /** Every event of this name, whichever printer it is about. */
  on<K extends keyof GantryEvents>(name: K, listener: (payload: GantryEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }

  emit<K extends keyof GantryEvents>(name: K, payload: GantryEvents[K]): void {
    this.emitter.emit(name, payload);
    const id = (payload as { printerId?: string }).printerId;
    if (id !== undefined) this.printers.get(id)?.emit(name, payload);
  }

  listeners(name: keyof GantryEvents, printerId?: string): number {
    return this.emitter.listenerCount(name) + (printerId === undefined ? 0 : (this.printers.get(printerId)?.listenerCount(name) ?? 0));
  }

  /** The bus one printer's services use: emits carry `printerId`, listeners hear that printer's events only. */
  scope(printerId: string): PrinterBus {
    return new ScopedBus(this, printerId);
  }

  /** @internal for ScopedBus */
  onPrinter<K extends keyof GantryEvents>(printerId: string, name: K, listener: (payload: GantryEvents[K]) => void): () => void {
    let em = this.printers.get(printerId);
    if (!em) {
      em = new EventEmitter();
      em.setMaxListeners(1000);
      this.printers.set(printerId, em);
    }
    const own = em;
    own.on(name, listener);
    return () => {
      own.off(name, listener);
      if (own.eventNames().length === 0 && this.printers.get(printerId) === own) this.printers.delete(printerId);
    };
  }
}

class ScopedBus implements PrinterBus {
  constructor(
    private readonly root: EventBus,
    readonly printerId: string,
  ) {}

  on<K extends keyof GantryEvents>(name: K, listener: (payload: GantryEvents[K]) => void): () => void {
    return PRINTER_EVENTS.has(name) ? this.root.onPrinter(this.printerId, name, listener) : this.root.on(name, listener);
  }

  emit<K extends keyof GantryEvents>(name: K, payload: Unstamped<GantryEvents[K]>): void {
    // the link already names its printer (on its hot path): no copy then
    const stamped = !PRINTER_EVENTS.has(name) || (payload as { printerId?: string }).printerId === this.printerId ? payload : { ...payload, printerId: this.printerId };
    this.root.emit(name, stamped as GantryEvents[K]);
  }

  /** who would hear this printer's event (a producer skips building a payload nobody hears) */
  listeners(name: keyof GantryEvents): number {
    return this.root.listeners(name, PRINTER_EVENTS.has(name) ? this.printerId : undefined);
  }
}
