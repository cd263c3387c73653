// What `<base>/<printer>/cmd/<action>` and `<base>/<printer>/set/<field>` do to that one printer: the same
// operations the REST API calls (src/ops/), with the permissions of the MQTT command role. MQTT has no one to
// answer, so a refusal is a log line; commands are idempotent (QoS 1 may deliver a message twice): a second pause
// of a paused job is refused by the job's state table and only logged.
import { type Role, permissionsOf } from '../accounts/permissions.js';
import type { Logger } from '../log.js';
import type { OpFarm, OpPrinter } from '../ops/operation.js';
import type { Operations } from '../ops/registry.js';
import { ServiceError } from '../service-error.js';
import { MAX_TARGET } from '../printer/commands.js';

/** MQTT's command names (what Home Assistant's buttons publish) and the operations they are. Any operation may also
 * be called by its own name (`cmd/job.toggle`) with a JSON object of parameters as the payload. */
const ACTIONS: Record<string, string> = {
  pause: 'job.pause',
  resume: 'job.resume',
  cancel: 'job.cancel',
  queue_next: 'queue.bedClear',
  connect: 'connection.connect',
  disconnect: 'connection.disconnect',
  emergency_stop: 'printer.emergencyStop',
};

/** `cmd/<action>` is the emergency stop, by its button's name or its operation's. */
export function isEmergencyStop(action: string): boolean {
  return (ACTIONS[action] ?? action) === 'printer.emergencyStop';
}

/** The printer a channel's commands act on, and who they act as. */
export interface CommandTarget {
  ops: Operations;
  printer: OpPrinter;
  /** the farm queue, which `cmd/farm.*` reach from any printer's topics as from the bridge's */
  farm: OpFarm;
  /** the MQTT settings' command role: what an MQTT command may do */
  role(): Role;
  log: Logger;
}

async function call(t: CommandTarget, what: string, op: string, input: Record<string, unknown>): Promise<void> {
  try {
    await t.ops.call(op, { user: null, permissions: permissionsOf([t.role()]), target: t.printer, farm: t.farm, log: t.log }, input);
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    // refused by the printer's state (nothing to cancel, not connected): expected with QoS 1 and retries
    if (err.kind === 'conflict') t.log.info(`MQTT ${what}: ${err.message}`);
    else if (err.kind === 'forbidden') t.log.warn(`MQTT command refused: the MQTT role "${t.role()}" lacks what ${op} needs (${err.message})`);
    else t.log.warn(`MQTT ${what}: ${err.message}`);
  }
}

export async function runCommand(t: CommandTarget, action: string, payload = ''): Promise<void> {
  const op = ACTIONS[action] ?? (t.ops.get(action) ? action : undefined);
  if (!op) {
    t.log.warn(`MQTT: unknown command ${action}`);
    return;
  }
  await runOp(t, action, op, ACTIONS[action] ? '' : payload);
}

/** The farm queue's commands, `<base>/bridge/farm/cmd/<name>`: `add`, `remove`, `move`, `printed`, `requeue` (or
 * their operation names, `farm.add`), each with a JSON object of parameters; nothing but the farm's operations. */
export async function runFarmCommand(t: CommandTarget, action: string, payload: string): Promise<void> {
  const op = action.startsWith('farm.') ? action : `farm.${action}`;
  if (!t.ops.get(op)) {
    t.log.warn(`MQTT: unknown farm queue command ${action}`);
    return;
  }
  await runOp(t, `farm ${action}`, op, payload);
}

async function runOp(t: CommandTarget, action: string, op: string, payload: string): Promise<void> {
  let input: Record<string, unknown> = {};
  if (payload.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(payload);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      t.log.warn(`MQTT ${action}: the payload must be a JSON object of parameters`);
      return;
    }
  }
  await call(t, action, op, input);
}

/** `<heater>_target`: the target with the printer's offset, as the REST API sets it (printer.setTarget). */
export async function setField(t: CommandTarget, field: string, text: string): Promise<void> {
  const m = /^(tool\d+|bed|chamber)_target$/.exec(field);
  if (!m) {
    t.log.warn(`MQTT: unknown setting ${field}`);
    return;
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > MAX_TARGET) {
    t.log.warn(`MQTT: ${field} must be a temperature from 0 to ${MAX_TARGET}, not ${JSON.stringify(text.slice(0, 20))}`);
    return;
  }
  await call(t, field, 'printer.setTarget', { targets: { [m[1]!]: value } });
}
