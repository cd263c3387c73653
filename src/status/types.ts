// One printer's status, typed once: every surface (the OctoPrint REST shapes, the push socket, MQTT, the page) is
// a translation of this, so the job object, the temperatures and the state cannot disagree between them.
import type { JobProgress } from '../jobs/job-progress.js';
import type { Position } from '../printer/parse.js';
import type { PrinterStateId, StateFlags } from '../printer/state.js';

export interface HeaterStatus {
  actual: number | null;
  target: number | null;
  /** the temperature offset the user set (OctoPrint's), applied to targets sent by the API */
  offset: number;
}

export interface JobFileStatus {
  name: string;
  path: string;
  display: string;
  origin: 'local';
  size: number;
  /** seconds since the epoch, as OctoPrint has it */
  date: number;
}

export interface JobStatus {
  /** a print is under way (printing, paused, or on its way in or out of either) */
  active: boolean;
  /** the file printing, else the one selected; null with none */
  file: JobFileStatus | null;
  user: string | null;
  estimatedPrintTime: number | null;
  /** seconds, over this file's last successful prints */
  averagePrintTime: number | null;
  lastPrintTime: number | null;
  filament: Record<string, { length: number; volume: number }> | null;
}

export interface PrinterStatus {
  printerId: string;
  name: string;
  state: { id: PrinterStateId; text: string; error: string; flags: StateFlags };
  /** tool0…, bed, chamber as the profile has them; {} until the printer first reports */
  temperatures: Record<string, HeaterStatus>;
  position: Position | null;
  job: JobStatus;
  progress: JobProgress;
  /** the layer the running print is on and the Z it reached it at (from its layer changes; after a restart
   * mid-print, from its checkpoint); null between prints */
  layer: { layer: number; z: number } | null;
  queue: { items: number; bedClear: boolean };
  camera: { available: boolean };
  link: { linesSent: number; resends: number };
}

export type StatusField = keyof PrinterStatus;

/** What a surface reads a printer's status from (src/status/status.ts). */
export interface StatusSource {
  snapshot(): PrinterStatus;
  job(): Pick<PrinterStatus, 'job' | 'progress'>;
  /** the head's Z as far as Gantry knows (a job's sent moves, else the last position report) */
  currentZ(): number | null;
}
