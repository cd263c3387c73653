// An operation, declared once with its parameters and permission, served by every surface: the HTTP routes, MQTT
// and (through them) the page call `Operations.call`, so a command means the same everywhere (Moonraker's
// register_endpoint). A surface only translates its request shape into the parameters and the error into its
// answer (src/service-error.ts: each error has a kind).
import type { Permission } from '../accounts/permissions.js';
import type { SettingsStore } from '../config/settings-store.js';
import type { FarmQueue } from '../farm/farm-queue.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import type { Logger } from '../log.js';
import type { Printer } from '../printer/printer.js';

/** The printer an operation acts on: a unit's parts (src/printers/unit.ts). */
export interface OpPrinter {
  readonly id: string;
  readonly printer: Printer;
  readonly jobs: JobRunner;
  readonly queue: PrintQueue;
  readonly settings: SettingsStore;
  /** where it connects when asked to without a port */
  connectTarget(): { port: string; baudrate: number };
  /** what the library (shared by every printer) has at this path */
  fileKind(path: string): Promise<'file' | 'folder' | undefined>;
}

/** What is the whole Gantry's, not one printer's: the farm queue (src/farm/farm-queue.ts) and the printers it may
 * send work to. */
export interface OpFarm {
  readonly queue: Pick<FarmQueue, 'add' | 'remove' | 'move' | 'resolve'>;
  printerIds(): string[];
}

/** Who calls, and on which printer. */
export interface OpCall {
  user: string | null;
  permissions: readonly Permission[];
  target: OpPrinter;
  farm: OpFarm;
  log: Logger;
}

export interface Operation<P = unknown> {
  /** `area.verb`, e.g. `job.pause`: MQTT's cmd/<name> and the ops listing use it */
  readonly name: string;
  readonly permission: Permission;
  /** what it does, for the listing */
  readonly summary: string;
  /** the parameters from a surface's loose input, or a ServiceError of kind 'invalid' */
  parse(input: Record<string, unknown>): P;
  /** what it made, if anything (a queue item): the HTTP route answers with it */
  run(call: OpCall, params: P): Promise<unknown> | unknown;
}

/** Declares an operation, its parameter type inferred from `parse` and checked against `run`. The registry holds it
 * with the type erased: the parameters only ever travel from an operation's own parse to its own run. */
export const operation = <P>(op: Operation<P>): Operation => op as unknown as Operation;
