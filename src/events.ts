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
  /** a blocking heat-up (M109/M190/M191/M116) started (its command) or ended (null) */
  'printer.heating': { printerId: string; command: string | null };
  /** the firmware showed a host prompt, or the shown one closed (null) */
  'printer.prompt': { printerId: string; prompt: HostPrompt | null };
  'settings.updated': Record<string, never>;
  'files.analysed': { path: string };
  'files.uploaded': { path: string; select: boolean; print: boolean; effectiveSelect: boolean; effectivePrint: boolean };
  'job.started': { path: string; fromQueue: boolean };
  'job.layer': { path: string; layer: number; z: number };
  'job.paused': { path: string };
  'job.resumed': { path: string };
  /** `printTime`: seconds printed, pauses excluded (OctoPrint's PrintDone `time`) */
  'job.ended': { path: string; result: 'success' | 'failed' | 'cancelled'; reason: string | null; fromQueue: boolean; printTime: number; size: number; user: string | null };
  'queue.changed': { items: number; bedClear: boolean };
  /** an app asks for a key: `id` is what approvers decide by (never the app's poll secret) */
  'appkeys.request': { id: string; app: string; user: string | null; remoteAddress: string | null };
  'appkeys.decided': { id: string; user: string | null };
  /** login sessions that ended (logout, password or role change, removal, revoked key): their sockets close */
  'sessions.ended': { ids: string[] };
  'timelapse.frame': { name: string; frame: number };
  'timelapse.render': { name: string; state: 'started' | 'progress' | 'done' | 'failed'; progress: number; file: string | null; error: string | null; gcode: string | null };
  /** videos or frame sets deleted or pruned */
  'timelapse.changed': Record<string, never>;
  'files.changed': { path: string; kind: 'added' | 'removed' | 'folder-added' };
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  on<K extends keyof GantryEvents>(name: K, listener: (payload: GantryEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }

  emit<K extends keyof GantryEvents>(name: K, payload: GantryEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  listeners(name: keyof GantryEvents): number {
    return this.emitter.listenerCount(name);
  }
}
