// Which permission each API call needs. Anything not listed needs ADMIN: secure by default.
import type { Permission } from '../accounts/permissions.js';

type Rule = [method: string | '*', prefix: string, permission: Permission | 'PUBLIC' | 'ANY'];

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
  ['POST', '/api/connection', 'CONNECTION'],
  ['GET', '/api/printerprofiles', 'CONNECTION'],
  ['GET', '/api/printer', 'STATUS'],
  ['POST', '/api/printer', 'CONTROL'],
  ['GET', '/api/job', 'STATUS'],
  ['POST', '/api/job', 'PRINT'],
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
  ['*', '/api/gantry/queue', 'PRINT'],
  // the farm queue as a printer's own: anyone who may see status sees it, who may print changes it
  ['GET', '/api/gantry/farm/queue', 'STATUS'],
  ['*', '/api/gantry/farm/queue', 'PRINT'],
  ['GET', '/api/settings', 'SETTINGS_READ'],
  ['GET', '/api/gantry/cameras', 'SETTINGS'],
  ['POST', '/api/settings', 'SETTINGS'],
  ['*', '/api/system', 'SYSTEM'],
  ['*', '/api/gantry/keys', 'ANY'],
  ['POST', '/api/gantry/password', 'ANY'],
  ['*', '/api/gantry/users', 'ADMIN'],
];

/** `PUBLIC`: no identity needed; `ANY`: any signed-in identity; else the permission. */
export function permissionFor(method: string, path: string): Permission | 'PUBLIC' | 'ANY' {
  for (const [m, prefix, perm] of RULES) {
    if ((m === '*' || m === method || (m === 'GET' && method === 'HEAD')) && (path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : prefix + '/') || path.startsWith(prefix + '?'))) {
      return perm;
    }
  }
  return 'ADMIN';
}
