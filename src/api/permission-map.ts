// Which permission each API call needs. Anything not listed needs ADMIN: secure by default.
// A route that carries out operations (src/ops/) names them instead of a permission: the permission is the one the
// operation declares (one source of truth for every surface), checked here at the door, before the body is read, and
// again by the operation itself (Operations.call) for the one the request turns out to run.
import type { Permission } from '../accounts/permissions.js';

/** the operations a route runs, by name */
interface Ops {
  ops: readonly string[];
}
const ops = (...names: string[]): Ops => ({ ops: names });

type Rule = [method: string | '*', prefix: string, need: Permission | 'PUBLIC' | 'ANY' | Ops];

/** What a request needs: no identity (`PUBLIC`), any signed-in identity (`ANY`), or one of these permissions. */
export type Required = 'PUBLIC' | 'ANY' | readonly Permission[];

/** The permission an operation declares, by its name (src/ops/registry.ts). */
export interface OpPermissions {
  get(name: string): { permission: Permission } | undefined;
}

const RULES: Rule[] = [
  ['GET', '/api/gantry/health', 'PUBLIC'],
  ['*', '/api/login', 'PUBLIC'],
  ['*', '/api/logout', 'PUBLIC'],
  ['GET', '/api/currentuser', 'PUBLIC'],
  ['POST', '/api/gantry/setup', 'PUBLIC'],
  ['GET', '/api/gantry/setup', 'PUBLIC'],
  ['GET', '/plugin/appkeys/probe', 'PUBLIC'],
  ['POST', '/plugin/appkeys/request', 'PUBLIC'],
  ['GET', '/plugin/appkeys/request/', 'PUBLIC'],
  ['POST', '/plugin/appkeys/decision/', 'PLUGIN_APPKEYS_GRANT'],
  ['*', '/api/gantry/appkeys', 'PLUGIN_APPKEYS_GRANT'],
  ['GET', '/api/version', 'STATUS'],
  ['GET', '/api/server', 'STATUS'],
  ['GET', '/api/connection', 'STATUS'],
  // connect (with a port, or where the printer is configured to) and disconnect; fake_ack goes with them
  ['POST', '/api/connection', ops('connection.connect', 'connection.disconnect')],
  ['GET', '/api/printerprofiles', 'CONNECTION'],
  ['GET', '/api/printer', 'STATUS'],
  // tool, bed, chamber, printhead and command
  ['POST', '/api/printer', ops('printer.setTarget', 'printer.setOffset', 'printer.selectTool', 'printer.extrude', 'printer.flowrate', 'printer.jog', 'printer.home', 'printer.feedrate', 'printer.gcode')],
  ['GET', '/api/job', 'STATUS'],
  ['POST', '/api/job', ops('job.start', 'job.restart', 'job.cancel', 'job.pause', 'job.resume', 'job.toggle')],
  // answering the printer's prompt (M0, M600) moves it on, as the terminal would: OctoPrint's plugin wants control
  ['*', '/api/plugin/action_command_prompt', 'CONTROL'],
  ['GET', '/api/files', 'FILES_LIST'],
  ['POST', '/api/files/local/', 'FILES_SELECT'],
  ['POST', '/api/files/', 'FILES_UPLOAD'],
  ['DELETE', '/api/files/', 'FILES_DELETE'],
  ['GET', '/downloads/files/', 'FILES_DOWNLOAD'],
  ['GET', '/api/gantry/thumbnails/', 'FILES_LIST'],
  ['GET', '/webcam', 'WEBCAM'],
  ['GET', '/downloads/camera/', 'WEBCAM'],
  ['GET', '/api/timelapse', 'TIMELAPSE_LIST'],
  ['DELETE', '/api/timelapse', 'TIMELAPSE_DELETE'],
  ['POST', '/api/timelapse', 'TIMELAPSE_ADMIN'],
  ['GET', '/downloads/timelapse/', 'TIMELAPSE_DOWNLOAD'],
  ['GET', '/api/gantry/history', 'STATUS'],
  // the Pi's temperature, power, memory and disk: what a status screen shows, no secrets
  ['GET', '/api/gantry/system', 'STATUS'],
  ['GET', '/api/gantry/queue', 'STATUS'],
  // adding, changing and removing printers is the admin's (the default)
  ['GET', '/api/gantry/printers', 'STATUS'],
  ['GET', '/api/gantry/status', 'STATUS'],
  // each operation checks its own permission (src/ops/): a signed-in caller gets that far
  ['GET', '/api/gantry/ops', 'STATUS'],
  ['POST', '/api/gantry/ops/', 'ANY'],
  ['GET', '/api/gantry/recovery', 'STATUS'],
  ['POST', '/api/gantry/recovery', 'PRINT'],
  ['*', '/api/gantry/queue', ops('queue.add', 'queue.bedClear', 'queue.move', 'queue.remove')],
  // the farm queue as a printer's own: anyone who may see status sees it, who may print changes it
  ['GET', '/api/gantry/farm/queue', 'STATUS'],
  ['*', '/api/gantry/farm/queue', ops('farm.add', 'farm.move', 'farm.remove', 'farm.printed', 'farm.requeue')],
  ['GET', '/api/settings', 'SETTINGS_READ'],
  ['GET', '/api/gantry/cameras', 'SETTINGS'],
  ['POST', '/api/settings', 'SETTINGS'],
  ['*', '/api/system', 'SYSTEM'],
  ['*', '/api/gantry/keys', 'ANY'],
  ['POST', '/api/gantry/password', 'ANY'],
  ['*', '/api/gantry/users', 'ADMIN'],
];

function needOf(need: Rule[2], registry: OpPermissions): Required {
  if (need === 'PUBLIC' || need === 'ANY') return need;
  if (typeof need === 'string') return [need];
  const perms = new Set<Permission>();
  for (const name of need.ops) {
    const op = registry.get(name);
    // a route naming an operation nobody declared would be unguarded by mistake: refuse it outright
    if (!op) return ['ADMIN'];
    perms.add(op.permission);
  }
  return [...perms];
}

/** What `method path` needs, the permissions of operation-backed routes taken from `registry`. */
export function permissionFor(method: string, path: string, registry: OpPermissions): Required {
  for (const [m, prefix, need] of RULES) {
    if ((m === '*' || m === method || (m === 'GET' && method === 'HEAD')) && (path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : prefix + '/') || path.startsWith(prefix + '?'))) {
      return needOf(need, registry);
    }
  }
  return ['ADMIN'];
}

/** The operations the table names that `registry` does not hold (a typo or a removed operation): none, or the
 * server does not start. */
export function unknownRouteOps(registry: OpPermissions): string[] {
  return RULES.flatMap(([, , need]) => (typeof need === 'object' ? need.ops.filter((n) => !registry.get(n)) : []));
}
