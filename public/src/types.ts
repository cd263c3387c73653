// The shapes the page reads from the API and the push socket (OctoPrint's, plus Gantry's additions).
import type { Heater } from './figures.js';
import type { PrinterView } from '../../src/printers/printer-view.js';

export type { Heater };

export interface TempSample {
  time: number;
  [heater: string]: Heater | number;
}

export interface PrinterState {
  text: string;
  error?: string;
  flags: Record<'operational' | 'paused' | 'printing' | 'pausing' | 'cancelling' | 'sdReady' | 'error' | 'ready' | 'closedOrError' | 'finishing' | 'resuming', boolean>;
}

export interface JobInfo {
  file: { name: string | null; path: string | null; display: string | null; size: number | null };
  estimatedPrintTime: number | null;
  user: string | null;
}

export interface Progress {
  completion: number | null;
  printTime: number | null;
  printTimeLeft: number | null;
}

export interface Current {
  state: PrinterState;
  job: JobInfo;
  progress: Progress;
  currentZ: number | null;
  temps: TempSample[];
  logs: string[];
  messages: string[];
  busyFiles: { path: string }[];
}

export interface Me {
  name: string;
  permissions: string[];
  session: string;
  admin: boolean;
}

export interface FileEntry {
  name: string;
  path: string;
  display?: string;
  type: 'folder' | 'machinecode';
  size?: number;
  date?: number;
  thumbnail?: string;
  children?: FileEntry[];
  refs: { resource: string; download?: string };
  gcodeAnalysis?: {
    estimatedPrintTime: number | null;
    filament: Record<string, { length: number; volume: number }> | null;
    layers?: { count: number; layerHeight: number | null };
    dimensions?: { width: number; depth: number; height: number } | null;
  };
  prints?: { success: number; failure: number };
}

export interface SettingsView {
  appearance: { name: string };
  serial: { port: string | null; baudrate: number | null; autoconnect: boolean; autoReconnect: boolean };
  temperature: { profiles: { name: string; extruder: number; bed: number }[] };
  webcam: { webcamEnabled: boolean; streamUrl: string; snapshotUrl: string; flipH: boolean; flipV: boolean; rotate90: boolean };
  gantry: {
    mqtt: { url: string; username: string; password: string; baseTopic: string; discovery: string; cameraInterval: number };
    camera: { source: string; width: number; height: number; fps: number; lanOpen: boolean; flipH: boolean; flipV: boolean; rotate90: boolean };
    timelapse: { type: string; interval: number; minDelay: number; postRoll: number; renderAfterPrint: string; preset: string; park: boolean };
    printerProfile: { name: string; volume: { width: number; depth: number; height: number }; heatedBed: boolean; heatedChamber: boolean; extruder: { count: number; nozzleDiameter: number } };
  };
}

/** a printer of this Gantry (GET /api/gantry/printers), in the shape the API builds it */
export type { PrinterView } from '../../src/printers/printer-view.js';

/** the parts of a printer's status model (src/status/types.ts) the farm view reads; the dashboard gets the same
 * figures through the push socket's `current`, which is made from the same model */
export interface StatusModel {
  state: { id: string; text: string; error: string; flags: PrinterState['flags'] };
  temperatures: Record<string, Heater>;
  job: { active: boolean; file: { name: string; display: string; path: string } | null };
  progress: Progress;
  camera: { available: boolean };
}

/** GET /api/gantry/printers?status=true: a printer with its status model */
export interface PrinterWithStatus extends PrinterView {
  status: StatusModel;
}

/** What every view gets. */
export interface Ctx {
  me: Me;
  /** the printer this page controls (?printer=, else the one chosen last, else the default) */
  printerId: string;
  /** that printer's URL for a printer-scoped path ('/api/job' → '/printers/two/api/job'; the default printer's at /).
   * Global things (files, accounts, keys, system) keep their paths at /. */
  at(path: string): string;
  can(permission: string): boolean;
  settings(): SettingsView;
  reloadSettings(): Promise<SettingsView>;
  /** latest push `current` (or `history`) merged state */
  current(): Current | undefined;
  onCurrent(fn: (c: Current, fromHistory: boolean) => void): void;
  onEvent(type: string | string[], fn: (payload: Record<string, unknown>) => void): void;
  onPlugin(fn: (plugin: string, data: Record<string, unknown>) => void): void;
  /** true while this view is on screen */
  visible(view: string): boolean;
  onShow(view: string, fn: (shown: boolean) => void): void;
}
