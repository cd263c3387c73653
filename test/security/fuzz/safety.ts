// What the fuzzer must never make Gantry do for real, whatever it generates: run a system command, open a
// serial port or start a printer, start a camera, or talk to an MQTT broker. Applied to every case just before
// it is sent (a request after all its mutations), so no generator change can slip one through.
import type { FuzzCase } from './cases.js';
import { parsedBody } from './parsed.js';

const BAUDRATES = new Set([0, 250000, 230400, 115200, 57600, 38400, 19200, 9600]);
/** the camera sources POST /api/settings accepts (src/api/routes/settings.ts) */
const CAMERA_SOURCE = /^(none|auto|testsrc|rpicam(:\d+)?|\/dev\/[\w./:-]+)$/;
const MQTT_URL = /^(mqtts?|wss?):\/\//;

/** Decodes what can be decoded: %XX that do not form UTF-8 stay as they are. */
export function decodeLenient(s: string): string {
  let out = s;
  for (let i = 0; i < 3; i++) {
    const next = out.replace(/(%[0-9a-f]{2})+/gi, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
    if (next === out) break;
    out = next;
  }
  return out;
}

type Verdict = { send: true; rewritten?: string } | { send: false; reason: string };

const obj = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export function safetyCheck(c: FuzzCase): Verdict {
  const path = decodeLenient(c.target.split('?')[0]!).toLowerCase();
  // reboot / shutdown / restart: the admin key would run them (the rig's commands are `true` and its restart
  // a counter, but the brief is to never execute them from the fuzzer)
  if (c.identity === 'admin' && c.method !== 'GET' && c.method !== 'HEAD' && path.includes('system')) {
    return { send: false, reason: 'system command execution with the admin key' };
  }
  const body = parsedBody(c);
  if (!body) return { send: true };
  // connect: AUTO would scan and open this machine's serial devices, VIRTUAL would start a printer. A request
  // the route will refuse anyway (a port that is not a string, a printer profile other than _default) is sent
  // as it is; otherwise a baudrate the route refuses stops it before anything is opened, whatever the port.
  if (path.includes('connection') && body['command'] === 'connect') {
    const port = body['port'];
    const profile = body['printerProfile'];
    const raw = body['baudrate'];
    const n = typeof raw === 'string' ? Number(raw) : raw;
    const portPasses = port === undefined || port === null || (typeof port === 'string' && port !== '');
    const profilePasses = profile === undefined || profile === null || profile === '_default';
    const baudPasses = raw === undefined || raw === null || (typeof n === 'number' && Number.isInteger(n) && BAUDRATES.has(n));
    if (portPasses && profilePasses && baudPasses) {
      body['baudrate'] = 12345;
      return rewrite(c, body, 'connect: baudrate made invalid so nothing is opened');
    }
  }
  // settings: a camera source would start ffmpeg, an MQTT URL a connection to a broker
  const gantry = obj(body['gantry']);
  const camera = obj(gantry?.['camera']);
  const mqtt = obj(gantry?.['mqtt']);
  let changed = false;
  if (typeof camera?.['source'] === 'string' && CAMERA_SOURCE.test(camera['source']) && camera['source'] !== 'none') {
    camera['source'] = 'none';
    changed = true;
  }
  if (typeof mqtt?.['url'] === 'string' && MQTT_URL.test(mqtt['url'])) {
    mqtt['url'] = '';
    changed = true;
  }
  return changed ? rewrite(c, body, 'settings: camera source / MQTT URL neutralized') : { send: true };
}

function rewrite(c: FuzzCase, body: Record<string, unknown>, why: string): Verdict {
  try {
    c.body = JSON.stringify(body);
  } catch {
    // nested too deep for JSON.stringify: not sent rather than sent as it was
    return { send: false, reason: `${why} (body too deep to rewrite)` };
  }
  c.notes.push(`safety: ${why}`);
  return { send: true, rewritten: why };
}
