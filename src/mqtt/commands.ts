// What `<base>/<printer>/cmd/<action>` and `<base>/<printer>/set/<field>` do to that one printer. Commands are
// idempotent (QoS 1 may deliver a message twice) and a refusal is a log line: MQTT has no one to answer.
import { type Permission, type Role, permissionsOf } from '../accounts/permissions.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import type { Logger } from '../log.js';
import { HeaterError, MAX_TARGET, heaterOf, targetLine } from '../printer/commands.js';
import type { Printer } from '../printer/printer.js';
import { stateFlags } from '../printer/state.js';
import type { HeaterLayout } from '../printer/octoprint-shapes.js';

const COMMANDS: Record<string, Permission> = {
  pause: 'PRINT',
  resume: 'PRINT',
  cancel: 'PRINT',
  queue_next: 'PRINT',
  connect: 'CONNECTION',
  disconnect: 'CONNECTION',
  emergency_stop: 'CONTROL',
};

/** The printer a channel's commands act on, and what they need to know. */
export interface CommandTarget {
  printer: Printer;
  jobs: JobRunner;
  queue: PrintQueue;
  /** where Connect connects: the port and baud rate this printer connects to at start */
  connectTarget(): { port: string; baudrate: number };
  /** the printer profile's heaters */
  heaters(): HeaterLayout;
  /** the MQTT settings' command role: what an MQTT command may do */
  role(): Role;
  log: Logger;
}

function allowed(t: CommandTarget, permission: Permission): boolean {
  if (permissionsOf([t.role()]).includes(permission)) return true;
  t.log.warn(`MQTT command refused: the MQTT role "${t.role()}" lacks ${permission}`);
  return false;
}

export async function runCommand(t: CommandTarget, action: string): Promise<void> {
  const need = COMMANDS[action];
  if (!need) {
    t.log.warn(`MQTT: unknown command ${action}`);
    return;
  }
  if (!allowed(t, need)) return;
  const { printer, jobs, queue } = t;
  // a second pause on a paused job changes nothing (the job's state table says so); what the table refuses
  // (nothing to cancel) is only logged
  switch (action) {
    case 'pause':
    case 'resume':
    case 'cancel':
      try {
        jobs.request(action);
      } catch (err) {
        t.log.info(`MQTT ${action}: ${(err as Error).message}`);
      }
      return;
    case 'queue_next':
      await queue.confirmBedClear();
      return;
    case 'connect': {
      // only from Offline, Error or Offline after error: a second delivery must not restart a connect under way
      if (!stateFlags(printer.state).closedOrError) return;
      const { port, baudrate } = t.connectTarget();
      t.log.info(`MQTT: connecting to ${port}`);
      // the failure is in the state topic too (printer.error), even when the state stayed "Offline after error"
      await printer.connect(port, baudrate).catch((err: Error) => t.log.warn(`MQTT connect to ${port} failed: ${err.message}`));
      return;
    }
    case 'disconnect':
      await printer.disconnect();
      return;
    case 'emergency_stop':
      if (printer.operational) printer.emergencyStop();
      return;
  }
}

/** `<heater>_target`: the target with the printer's offset, as the REST API sets it (src/printer/commands.ts). */
export function setField(t: CommandTarget, field: string, text: string): void {
  const m = /^(tool\d+|bed|chamber)_target$/.exec(field);
  if (!m) {
    t.log.warn(`MQTT: unknown setting ${field}`);
    return;
  }
  if (!allowed(t, 'CONTROL')) return;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > MAX_TARGET) {
    t.log.warn(`MQTT: ${field} must be a temperature from 0 to ${MAX_TARGET}, not ${JSON.stringify(text.slice(0, 20))}`);
    return;
  }
  let heater;
  try {
    heater = heaterOf(m[1]!, t.heaters());
  } catch (err) {
    if (!(err instanceof HeaterError)) throw err;
    t.log.warn(`MQTT: ${field}: ${err.message}`);
    return;
  }
  if (!t.printer.operational) return;
  t.printer.commands([targetLine(heater, value, t.printer.offsets)]);
}
