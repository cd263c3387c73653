// Every route Gantry serves (src/api/routes/*.ts, permission-map.ts), each with a well-formed request the
// fuzzer then breaks: a concrete path, the query it reads, and a valid-shaped body.
import { type Json, type JsonObject, setKey } from './json-text.js';
import type { Rng } from './prng.js';
import { encodeComponent } from './encode.js';
import { hostileNumber, hostileString } from './values.js';

export interface RouteSpec {
  method: string;
  /** the route as written in the routes file: for reports and known-finding skips */
  pattern: string;
  path(r: Rng): string;
  query?(r: Rng): [string, string][];
  /** json: a JSON body (valid-shaped here); multipart: an upload; form: login's urlencoded alternative */
  body?: { kind: 'json' | 'multipart' | 'form'; make(r: Rng): JsonObject };
}

/** Files the rig creates before the run (fixtures.ts), so paths hit real entries as well as missing ones. */
export const FIXTURE_PATHS = ['fixture.gcode', 'fixture-dir', 'fixture-dir/inner.gcode'];
const FILE_PATHS = [...FIXTURE_PATHS, 'missing.gcode', 'fz-1.gcode', 'fz-dir-1', 'fixture-dir/missing', 'FIXTURE.GCODE', ''];

/** A path segment as a client might send it: encoded, raw, or double-encoded. Node's client refuses raw
 * spaces, control characters and characters past U+00FF, so those are always percent-encoded. */
export function segment(r: Rng, s: string): string {
  const raw = s.replace(/[^\u0021-\u00ff]/gu, encodeComponent);
  return r.weighted<() => string>([
    [5, () => s.split('/').map(encodeComponent).join('/')],
    [3, () => raw.replace(/[?#]/g, encodeURIComponent)],
    [1, () => encodeURIComponent(encodeComponent(s))],
    [1, () => raw],
  ])();
}

const filePath = (r: Rng) => segment(r, r.chance(0.6) ? r.pick(FILE_PATHS) : hostileString(r));
const name = (r: Rng, valid: readonly string[]) => segment(r, r.chance(0.5) ? r.pick(valid) : hostileString(r));
const bool = (r: Rng): Json => r.pick<Json>([true, false, 'true', 'yes', 'y', '1', 'on', 'false', 0, 1]);
const num = (r: Rng, valid: readonly number[]): Json => (r.chance(0.7) ? r.pick(valid) : hostileNumber(r));
const str = (r: Rng, valid: readonly string[]): Json => (r.chance(0.7) ? r.pick(valid) : hostileString(r));
const some = <T>(r: Rng, items: readonly T[]): T[] => items.filter(() => r.chance(0.5));
const farmConstraints = (r: Rng): JsonObject => fields(r, { nozzleDiameter: () => num(r, [0.4, 0.6]), filamentType: () => str(r, ['PLA', 'PETG']), printers: () => [str(r, ['printer'])] });

/** Builds an object from optional fields: each present with probability `p`. */
function fields(r: Rng, spec: Record<string, () => Json>, p = 0.7): JsonObject {
  const out: JsonObject = {};
  for (const [k, make] of Object.entries(spec)) if (r.chance(p)) setKey(out, k, make());
  return out;
}

const command = (r: Rng, valid: readonly string[], extra: Record<string, Record<string, () => Json>>): JsonObject => {
  const c = r.pick(valid);
  return { command: c, ...fields(r, extra[c] ?? {}) };
};

const limitQuery = (r: Rng): [string, string][] => some(r, [['history', String(bool(r))], ['limit', String(num(r, [1, 2, 300, 100000]))]] as [string, string][]);

export const ROUTES: RouteSpec[] = [
  // public and status
  { method: 'GET', pattern: '/api/gantry/health', path: () => '/api/gantry/health' },
  { method: 'GET', pattern: '/api/version', path: () => '/api/version' },
  { method: 'GET', pattern: '/api/server', path: () => '/api/server' },
  { method: 'GET', pattern: '/api/currentuser', path: () => '/api/currentuser' },
  { method: 'GET', pattern: '/api/gantry/setup', path: () => '/api/gantry/setup' },
  { method: 'POST', pattern: '/api/gantry/setup', path: () => '/api/gantry/setup', body: { kind: 'json', make: (r) => fields(r, { name: () => str(r, ['fz-setup']), password: () => str(r, ['fuzz-password-9']) }) } },
  {
    method: 'POST',
    pattern: '/api/login',
    path: () => '/api/login',
    body: { kind: 'json', make: (r) => fields(r, { user: () => str(r, ['fuzz-user', 'fuzz-readonly', 'admin', 'nobody']), pass: () => str(r, ['wrong-password']), passive: () => bool(r), remember: () => bool(r) }) },
  },
  { method: 'POST', pattern: '/api/login (form)', path: () => '/api/login', body: { kind: 'form', make: (r) => fields(r, { user: () => str(r, ['fuzz-user', 'nobody']), pass: () => str(r, ['x']), passive: () => bool(r) }) } },
  { method: 'POST', pattern: '/api/logout', path: () => '/api/logout' },
  // app keys
  { method: 'GET', pattern: '/plugin/appkeys/probe', path: () => '/plugin/appkeys/probe' },
  { method: 'POST', pattern: '/plugin/appkeys/request', path: () => '/plugin/appkeys/request', body: { kind: 'json', make: (r) => fields(r, { app: () => str(r, ['Fuzz App']), user: () => str(r, ['fuzz-user']) }) } },
  { method: 'GET', pattern: '/plugin/appkeys/request/:token', path: (r) => `/plugin/appkeys/request/${name(r, ['0123456789abcdef', 'x'])}` },
  { method: 'POST', pattern: '/plugin/appkeys/decision/:token', path: (r) => `/plugin/appkeys/decision/${name(r, ['0123456789abcdef'])}`, body: { kind: 'json', make: (r) => fields(r, { decision: () => bool(r) }) } },
  { method: 'GET', pattern: '/api/gantry/appkeys', path: () => '/api/gantry/appkeys' },
  { method: 'POST', pattern: '/api/gantry/appkeys/:token', path: (r) => `/api/gantry/appkeys/${name(r, ['0123456789abcdef'])}`, body: { kind: 'json', make: (r) => fields(r, { decision: () => bool(r) }) } },
  // connection and printer
  { method: 'GET', pattern: '/api/connection', path: () => '/api/connection' },
  {
    method: 'POST',
    pattern: '/api/connection',
    path: () => '/api/connection',
    body: {
      kind: 'json',
      make: (r) =>
        command(r, ['connect', 'disconnect', 'fake_ack'], {
          connect: { port: () => str(r, ['AUTO', 'VIRTUAL', '/dev/ttyFUZZ0', '/etc/passwd', 'socket://127.0.0.1:1', '']), baudrate: () => num(r, [0, 115200, 250000, 12345]), printerProfile: () => str(r, ['_default', 'other']), save: () => bool(r), autoconnect: () => bool(r) },
        }),
    },
  },
  { method: 'GET', pattern: '/api/printerprofiles', path: () => '/api/printerprofiles' },
  { method: 'GET', pattern: '/api/printer', path: () => '/api/printer', query: (r) => [...limitQuery(r), ...some(r, [['exclude', String(str(r, ['temperature', 'sd', 'state', 'temperature,sd']))]] as [string, string][])] },
  { method: 'GET', pattern: '/api/printer/tool', path: () => '/api/printer/tool', query: limitQuery },
  {
    method: 'POST',
    pattern: '/api/printer/tool',
    path: () => '/api/printer/tool',
    body: {
      kind: 'json',
      make: (r) =>
        command(r, ['target', 'offset', 'select', 'extrude', 'flowrate'], {
          target: { targets: () => ({ [String(str(r, ['tool0', 'tool', 'tool1']))]: num(r, [0, 200, 500]) }) },
          offset: { offsets: () => ({ [String(str(r, ['tool0', 'tool1']))]: num(r, [0, -50, 50]) }) },
          select: { tool: () => str(r, ['tool0', 'tool1']) },
          extrude: { amount: () => num(r, [5, -5, 1000]), speed: () => num(r, [300, 1]) },
          flowrate: { factor: () => num(r, [95, 0.95, 125]) },
        }),
    },
  },
  ...(['bed', 'chamber'] as const).flatMap((h): RouteSpec[] => [
    { method: 'GET', pattern: `/api/printer/${h}`, path: () => `/api/printer/${h}`, query: limitQuery },
    { method: 'POST', pattern: `/api/printer/${h}`, path: () => `/api/printer/${h}`, body: { kind: 'json', make: (r) => command(r, ['target', 'offset'], { target: { target: () => num(r, [60, 0, 500]) }, offset: { offset: () => num(r, [0, 50]) } }) } },
  ]),
  {
    method: 'POST',
    pattern: '/api/printer/printhead',
    path: () => '/api/printer/printhead',
    body: {
      kind: 'json',
      make: (r) =>
        command(r, ['jog', 'home', 'feedrate'], {
          jog: { x: () => num(r, [10, 0, -10000]), y: () => num(r, [0, 5]), z: () => num(r, [1]), absolute: () => bool(r), speed: () => r.pick<Json>([false, 6000, 1]) },
          home: { axes: () => r.pick<Json>([['x', 'y'], ['z'], ['X'], [], 'x', ['q']]) },
          feedrate: { factor: () => num(r, [100, 1.05, 200]) },
        }),
    },
  },
  {
    method: 'POST',
    pattern: '/api/printer/command',
    path: () => '/api/printer/command',
    body: { kind: 'json', make: (r) => (r.chance(0.5) ? { command: str(r, ['M114', 'G28']) } : fields(r, { commands: () => [str(r, ['M117 hi', 'M114']), str(r, ['G28'])], script: () => str(r, ['beforePrintStarted']) })) },
  },
  // jobs, history, queue, recovery
  { method: 'GET', pattern: '/api/job', path: () => '/api/job' },
  { method: 'POST', pattern: '/api/job', path: () => '/api/job', body: { kind: 'json', make: (r) => command(r, ['start', 'restart', 'cancel', 'pause'], { pause: { action: () => str(r, ['pause', 'resume', 'toggle']) } }) } },
  { method: 'GET', pattern: '/api/gantry/history', path: () => '/api/gantry/history', query: (r) => some(r, [['offset', String(num(r, [0, 5]))], ['limit', String(num(r, [1, 50, 1000]))]] as [string, string][]) },
  { method: 'GET', pattern: '/api/gantry/queue', path: () => '/api/gantry/queue' },
  { method: 'POST', pattern: '/api/gantry/queue', path: () => '/api/gantry/queue', body: { kind: 'json', make: (r) => fields(r, { path: () => str(r, FILE_PATHS), copies: () => num(r, [1, 3, 1000]) }) } },
  { method: 'POST', pattern: '/api/gantry/queue/bed-clear', path: () => '/api/gantry/queue/bed-clear' },
  { method: 'POST', pattern: '/api/gantry/queue/:id', path: (r) => `/api/gantry/queue/${name(r, ['00000000-0000-4000-8000-000000000000'])}`, body: { kind: 'json', make: (r) => fields(r, { command: () => str(r, ['move']), position: () => num(r, [0, 1]) }) } },
  { method: 'DELETE', pattern: '/api/gantry/queue/:id', path: (r) => `/api/gantry/queue/${name(r, ['00000000-0000-4000-8000-000000000000'])}` },
  { method: 'GET', pattern: '/api/gantry/farm/queue', path: () => '/api/gantry/farm/queue' },
  { method: 'POST', pattern: '/api/gantry/farm/queue', path: () => '/api/gantry/farm/queue', body: { kind: 'json', make: (r) => fields(r, { path: () => str(r, FILE_PATHS), copies: () => num(r, [1, 3, 1000]), constraints: () => farmConstraints(r) }) } },
  { method: 'POST', pattern: '/api/gantry/farm/queue/:id', path: (r) => `/api/gantry/farm/queue/${name(r, ['00000000-0000-4000-8000-000000000000'])}`, body: { kind: 'json', make: (r) => fields(r, { command: () => str(r, ['move', 'requeue', 'printed']), position: () => num(r, [0, 1]) }) } },
  { method: 'DELETE', pattern: '/api/gantry/farm/queue/:id', path: (r) => `/api/gantry/farm/queue/${name(r, ['00000000-0000-4000-8000-000000000000'])}` },
  { method: 'GET', pattern: '/api/gantry/printers/found', path: () => '/api/gantry/printers/found' },
  { method: 'POST', pattern: '/api/gantry/printers/found/:n/add', path: (r) => `/api/gantry/printers/found/${name(r, ['0', '1'])}/add`, body: { kind: 'json', make: (r) => fields(r, { id: () => str(r, ['found-1']), name: () => str(r, ['Found']) }) } },
  { method: 'GET', pattern: '/api/gantry/recovery', path: () => '/api/gantry/recovery' },
  { method: 'POST', pattern: '/api/gantry/recovery', path: () => '/api/gantry/recovery', body: { kind: 'json', make: (r) => command(r, ['resume', 'discard'], {}) } },
  // files
  ...(['/api/files', '/api/files/local'] as const).map((p): RouteSpec => ({ method: 'GET', pattern: p, path: () => p, query: (r) => some(r, [['recursive', String(bool(r))], ['force', String(bool(r))]] as [string, string][]) })),
  { method: 'GET', pattern: '/api/files/local/*', path: (r) => `/api/files/local/${filePath(r)}`, query: (r) => some(r, [['recursive', String(bool(r))]] as [string, string][]) },
  { method: 'GET', pattern: '/api/files/sdcard/*', path: (r) => `/api/files/sdcard/${filePath(r)}` },
  { method: 'POST', pattern: '/api/files/sdcard', path: () => '/api/files/sdcard' },
  { method: 'POST', pattern: '/api/files/local (upload)', path: () => '/api/files/local', body: { kind: 'multipart', make: () => ({}) } },
  {
    method: 'POST',
    pattern: '/api/files/local/*',
    path: (r) => `/api/files/local/${filePath(r)}`,
    body: {
      kind: 'json',
      make: (r) =>
        command(r, ['select', 'unselect', 'copy', 'move', 'analyse', 'slice'], { select: { print: () => bool(r) }, copy: { destination: () => str(r, ['fixture-dir', '', 'fz-dir-1']) }, move: { destination: () => str(r, ['fixture-dir', '', 'fz-dir-1']) } }),
    },
  },
  { method: 'DELETE', pattern: '/api/files/local/*', path: (r) => `/api/files/local/${filePath(r)}` },
  { method: 'GET', pattern: '/api/gantry/thumbnails/*', path: (r) => `/api/gantry/thumbnails/${filePath(r)}`, query: (r) => some(r, [['size', String(str(r, ['32x32', '300x300']))]] as [string, string][]) },
  { method: 'GET', pattern: '/downloads/files/local/*', path: (r) => `/downloads/files/local/${filePath(r)}` },
  // camera and timelapse
  { method: 'GET', pattern: '/webcam/', path: (r) => r.pick(['/webcam', '/webcam/']), query: (r) => some(r, [['action', String(str(r, ['stream', 'snapshot']))]] as [string, string][]) },
  { method: 'GET', pattern: '/downloads/camera/current', path: () => '/downloads/camera/current' },
  { method: 'GET', pattern: '/api/timelapse', path: () => '/api/timelapse', query: (r) => some(r, [['unrendered', String(bool(r))]] as [string, string][]) },
  {
    method: 'POST',
    pattern: '/api/timelapse',
    path: () => '/api/timelapse',
    body: {
      kind: 'json',
      make: (r) =>
        fields(r, {
          type: () => str(r, ['off', 'zchange', 'timed']), renderAfterPrint: () => str(r, ['always', 'off']), preset: () => str(r, ['auto', 'ultrafast']), interval: () => num(r, [10, 1]),
          minDelay: () => num(r, [5]), fps: () => num(r, [0, 30]), postRoll: () => num(r, [1]), targetSeconds: () => num(r, [10]), threads: () => num(r, [1, 8]), budgetMB: () => num(r, [2048]),
          park: () => bool(r), hardwareEncoder: () => bool(r), save: () => bool(r),
        }, 0.3),
    },
  },
  { method: 'POST', pattern: '/api/timelapse/unrendered/:name', path: (r) => `/api/timelapse/unrendered/${name(r, ['fixture', 'x'])}`, body: { kind: 'json', make: (r) => ({ command: str(r, ['render']) }) } },
  { method: 'DELETE', pattern: '/api/timelapse/unrendered/:name', path: (r) => `/api/timelapse/unrendered/${name(r, ['fixture'])}` },
  { method: 'DELETE', pattern: '/api/timelapse/:name', path: (r) => `/api/timelapse/${name(r, ['fixture.mp4', 'fixture.jpg'])}` },
  { method: 'GET', pattern: '/downloads/timelapse/:name', path: (r) => `/downloads/timelapse/${name(r, ['fixture.mp4', 'fixture.jpg', 'x.txt'])}` },
  // settings
  { method: 'GET', pattern: '/api/settings', path: () => '/api/settings' },
  { method: 'GET', pattern: '/api/gantry/cameras', path: () => '/api/gantry/cameras' },
  {
    method: 'POST',
    pattern: '/api/settings',
    path: () => '/api/settings',
    body: {
      kind: 'json',
      make: (r) =>
        fields(r, {
          appearance: () => fields(r, { name: () => str(r, ['Fuzzed', '']) }),
          serial: () => fields(r, { port: () => str(r, ['AUTO', '/dev/ttyFUZZ0']), baudrate: () => num(r, [0, 115200]), autoconnect: () => bool(r), autoReconnect: () => bool(r), alwaysChecksum: () => bool(r), windowed: () => bool(r) }, 0.3),
          scripts: () => ({ gcode: fields(r, { afterPrintPaused: () => str(r, ['M117 paused\nG91']), afterPrintCancelled: () => str(r, ['M84']) }) }),
          webcam: () => fields(r, { flipH: () => bool(r), flipV: () => bool(r), rotate90: () => bool(r) }, 0.3),
          gantry: () =>
            fields(r, {
              camera: () => fields(r, { source: () => str(r, ['none']), width: () => num(r, [640, 160, 4096]), height: () => num(r, [480]), fps: () => num(r, [15, 60]), lanOpen: () => bool(r), flipH: () => bool(r) }, 0.3),
              printerProfile: () =>
                fields(r, { name: () => str(r, ['Fuzz printer']), volume: () => fields(r, { width: () => num(r, [220, 10, 2000]), depth: () => num(r, [220]), height: () => num(r, [250]) }), heatedBed: () => bool(r), heatedChamber: () => bool(r), extruder: () => fields(r, { count: () => num(r, [1, 8]), nozzleDiameter: () => num(r, [0.4, 2]) }) }, 0.4),
              mqtt: () => fields(r, { url: () => str(r, ['']), username: () => str(r, ['u']), password: () => str(r, ['********', 'p']), clientId: () => str(r, ['c']), baseTopic: () => str(r, ['gantry', 'a/b']), discoveryPrefix: () => str(r, ['homeassistant']), cameraInterval: () => num(r, [0, 10]), discovery: () => str(r, ['device', 'entity']) }, 0.3),
            }, 0.5),
        }, 0.4),
    },
  },
  // system commands: listing only from here; execution is generated for non-admin identities only (safety.ts)
  { method: 'GET', pattern: '/api/system/commands', path: (r) => r.pick(['/api/system/commands', '/api/system/commands/core', '/api/system/commands/custom']) },
  { method: 'POST', pattern: '/api/system/commands/:source/:action', path: (r) => `/api/system/commands/${name(r, ['core', 'custom'])}/${name(r, ['reboot', 'shutdown', 'restart'])}` },
  // users and keys
  { method: 'GET', pattern: '/api/gantry/users', path: () => '/api/gantry/users' },
  { method: 'POST', pattern: '/api/gantry/users', path: () => '/api/gantry/users', body: { kind: 'json', make: (r) => fields(r, { name: () => str(r, ['fz-new', 'fz-other']), password: () => str(r, ['fuzz-password-2', 'short']), roles: () => r.pick<Json>([['user'], ['readonly'], ['admin'], [], ['root'], 'admin', [['admin']]]) }) } },
  { method: 'DELETE', pattern: '/api/gantry/users/:name', path: (r) => `/api/gantry/users/${name(r, ['fz-new', 'fz-other', 'nobody'])}` },
  { method: 'POST', pattern: '/api/gantry/users/:name/password', path: (r) => `/api/gantry/users/${name(r, ['fz-new', 'nobody'])}/password`, body: { kind: 'json', make: (r) => fields(r, { password: () => str(r, ['fuzz-password-3', 'short']) }) } },
  { method: 'GET', pattern: '/api/gantry/keys', path: () => '/api/gantry/keys' },
  { method: 'POST', pattern: '/api/gantry/keys', path: () => '/api/gantry/keys', body: { kind: 'json', make: (r) => fields(r, { app: () => str(r, ['Fuzz']) }) } },
  // key: another identity's real key is put in at send time (cases.ts), to try revoking what is not yours
  { method: 'DELETE', pattern: '/api/gantry/keys', path: () => '/api/gantry/keys', body: { kind: 'json', make: (r) => fields(r, { key: () => str(r, ['not-a-key']) }) } },
  // the web page
  { method: 'GET', pattern: '/* (static)', path: (r) => `/${segment(r, r.pick(['', 'index.html', 'style.css', 'manifest.webmanifest', 'icon.svg', 'src/app.ts', '.git/config', '../package.json', 'js/app.js.map', 'index.html.br', hostileString(r)]))}` },
];
