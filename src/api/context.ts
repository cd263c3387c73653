// What routes get to work with. Routes depend on this interface, not on how main.ts builds it.
import type { ServerResponse } from 'node:http';
import type { AppKeys } from '../accounts/app-keys.js';
import type { Sessions } from '../accounts/sessions.js';
import type { Accounts, Identity } from '../accounts/users.js';
import type { SettingsStore } from '../config/settings-store.js';
import type { PrinterStatus, StatusSource } from '../status/types.js';
import type { OpPrinter } from '../ops/operation.js';
import type { Operations } from '../ops/registry.js';
import type { Logger } from '../log.js';
import type { FileStorage } from '../files/storage.js';
import type { AnalysisQueue } from '../files/analysis/analysis-queue.js';
import type { History } from '../jobs/history.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import type { MjpegRelay } from '../camera/relay.js';
import type { DetectedCamera } from '../camera/detect.js';
import type { PrinterBus } from '../events.js';
import type { TimelapseService } from '../timelapse/timelapse.js';
import type { Printer } from '../printer/printer.js';
import type { SystemHealth } from '../system/health.js';
import type { FarmQueue } from '../farm/farm-queue.js';
import type { FoundPrinter } from '../printers/port-finder.js';
import type { PrinterView } from '../printers/printer-view.js';

export interface ApiDeps {
  printer: Printer;
  /** this printer's status, the one model every surface translates */
  status: StatusSource;
  /** the operations every surface calls, and this printer as their target */
  ops: Operations;
  unit: OpPrinter;
  /** where this printer's API is mounted: '' for the default printer, '/printers/<id>' for the others. The camera
   * links in the settings carry it (absolute URLs take the base the request came in under: api/http.ts), so a client
   * pointed at one printer stays on it */
  basePath: string;
  bus: PrinterBus;
  storage: FileStorage;
  jobs: JobRunner;
  history: History;
  analysis: AnalysisQueue;
  queue: PrintQueue;
  /** the camera relay, when a camera is configured */
  camera: () => MjpegRelay | undefined;
  /** timelapse recording, rendering and the library of videos */
  timelapse: () => TimelapseService | undefined;
  /** cameras this machine could capture from, with their formats */
  listCameras(): Promise<DetectedCamera[]>;
  thumbnailDir: string;
  /** this printer's settings: its own sections over the Gantry-wide ones */
  settings: SettingsStore;
  accounts: Accounts;
  sessions: Sessions;
  appKeys: AppKeys;
  /** Runs a system command (reboot, shutdown); resolves with its exit code. */
  runSystemCommand(argv: string[]): Promise<number>;
  /** This answer is written before Gantry closes its connections when it is stopped (for a few seconds at most):
   * the answer to a shutdown or reboot, whose command makes systemd stop Gantry at once. */
  answerBeforeStop(res: ServerResponse): void;
  /** Restarts Gantry (systemd brings it back). */
  restart(): void;
  log: Logger;
  version: string;
  startedAt: number;
  listPorts(): Promise<string[]>;
  /** the data directory (backup and restore) */
  dataDir: string;
  /** every printer of this Gantry */
  printers: PrintersApi;
  /** the Pi's health, read now */
  systemHealth(): Promise<SystemHealth>;
  /** the farm queue: jobs for whichever printer fits and is free */
  farm: Pick<FarmQueue, 'view' | 'add' | 'remove' | 'move' | 'resolve'>;
  /** serial devices plugged in that no printer claims */
  found: FoundPrintersApi;
}

/** Serial devices no printer claims, as src/printers/port-finder.ts found them. */
export interface FoundPrintersApi {
  list(): Promise<FoundPrinter[]>;
}

export type { PrinterView };

/** What the API may ask for a printer to be added with, already checked for shape. */
export interface PrinterInput {
  id: string;
  name?: string;
  serial?: { port?: string; baudrate?: number };
  camera?: { source?: string };
  printerProfile?: Record<string, unknown>;
}

/** The printers of this Gantry (src/printers/registry.ts). */
export interface PrintersApi {
  list(): PrinterView[];
  /** each printer with its status model */
  listWithStatus(): (PrinterView & { status: PrinterStatus })[];
  add(input: PrinterInput): Promise<PrinterView>;
  update(id: string, patch: Omit<PrinterInput, 'id'>): Promise<PrinterView>;
  remove(id: string): Promise<void>;
}

export interface ApiEnv {
  Variables: { user: string | null; identity: Identity | null; sessionId: string | null };
}
