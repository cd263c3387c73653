import { Hono } from 'hono/tiny';
import { AUTODETECT_BAUDRATES, VIRTUAL_PORT } from '../../printer/printer.js';
import { isNetworkTarget } from '../../transport/open.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, conflict, parseBool, readCommand } from '../http.js';
import { callOp, requirePermission } from '../ops.js';

const BAUDRATES = [...AUTODETECT_BAUDRATES].sort((a, b) => b - a);

/** A client's value for an error message. Not String(v): an object with a "toString" key, or a list nested
 * thousands deep, makes that throw (a 500 instead of the 400). */
function shown(v: unknown): string {
  if (typeof v === 'string') return v.length > 100 ? `${v.slice(0, 100)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'an object' : typeof v;
}

export function connectionRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { printer, settings } = deps;

  const portOptions = async () => [...(await deps.listPorts()), VIRTUAL_PORT];

  app.get('/api/connection', async (c) => {
    const s = settings.data;
    const connected = printer.port !== null && printer.state !== 'OFFLINE' && printer.state !== 'CLOSED_WITH_ERROR';
    return c.json({
      current: {
        // OctoPrint's get_current_connection: "Closed" when there is no link (its /api/job says "Offline")
        state: printer.state === 'OFFLINE' ? 'Closed' : printer.stateText,
        port: connected ? printer.port : null,
        baudrate: connected ? printer.baudrate : null,
        printerProfile: '_default',
      },
      options: {
        ports: await portOptions(),
        baudrates: BAUDRATES,
        printerProfiles: [{ id: '_default', name: s.printerProfile.name }],
        portPreference: s.serial.port === 'AUTO' ? null : s.serial.port,
        baudratePreference: s.serial.baudrate || null,
        printerProfilePreference: '_default',
        autoconnect: s.serial.autoconnect,
      },
    });
  });

  app.post('/api/connection', async (c) => {
    const { command, body } = await readCommand(c, ['connect', 'disconnect', 'fake_ack'] as const);
    if (command === 'disconnect') {
      await callOp(deps, c, 'connection.disconnect');
      return c.body(null, 204);
    }
    if (command === 'fake_ack') {
      // runs no operation: checked here, not only by the door (which takes any of the route's operations')
      requirePermission(deps, c, 'fake_ack', 'CONNECTION');
      if (!printer.operational) throw conflict('Printer is not operational');
      printer.fakeAck();
      return c.body(null, 204);
    }
    // connect (and what it saves: port, baud rate, autoconnect) needs what connecting does
    requirePermission(deps, c, 'connection.connect');
    // no port or baud rate given: where this printer connects when asked without one (gantry serve --serial, else
    // its settings), as the page's and MQTT's connect do
    const target = deps.unit.connectTarget();
    const port = body['port'] === undefined || body['port'] === null ? target.port : body['port'];
    if (typeof port !== 'string' || port.length === 0) throw badRequest('port must be a string');
    const known = port.toUpperCase() === 'AUTO' || port.toUpperCase() === VIRTUAL_PORT || isNetworkTarget(port) || (await portOptions()).includes(port);
    // Only device files may be opened: a path elsewhere is refused even if it exists.
    if (!known && !/^\/dev\/[\w./-]+$/.test(port)) throw badRequest(`Invalid port: ${port}`);
    const rawBaud = body['baudrate'] === undefined || body['baudrate'] === null ? target.baudrate : body['baudrate'];
    const baudrate = typeof rawBaud === 'string' ? Number(rawBaud) : rawBaud;
    if (typeof baudrate !== 'number' || !Number.isInteger(baudrate) || (baudrate !== 0 && !BAUDRATES.includes(baudrate))) {
      throw badRequest(`Invalid baudrate: ${shown(rawBaud)}`);
    }
    const profile = body['printerProfile'];
    if (profile !== undefined && profile !== null && profile !== '_default') throw badRequest(`Invalid printer profile: ${shown(profile)}`);
    if (parseBool(body['save']) || body['autoconnect'] !== undefined) {
      await settings.update((s) => {
        if (parseBool(body['save'])) {
          s.serial.port = port;
          s.serial.baudrate = baudrate;
        }
        if (body['autoconnect'] !== undefined) s.serial.autoconnect = parseBool(body['autoconnect']);
      });
    }
    // Like OctoPrint: answer now; the outcome shows in the state (and its error text).
    printer.connect(port, baudrate).catch((err: Error) => deps.log.warn(`connect failed: ${err.message}`));
    return c.body(null, 204);
  });

  return app;
}
