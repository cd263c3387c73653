// /api/gantry/printers: the printers of this Gantry, added, changed and removed at run time. Each answers at its own
// OctoPrint-compatible base URL (`path`); the default one also at today's URLs.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv, PrinterInput } from '../context.js';
import { badRequest, readJsonObject, requireNumber } from '../http.js';

const optionalString = (v: unknown, name: string, max = 200): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw badRequest(`${name} must be a non-empty string of at most ${max} characters`);
  return v;
};

/** The fields a printer is added or changed with, checked for shape (the registry checks the rest: id, port). */
function parseInput(b: Record<string, unknown>): Omit<PrinterInput, 'id'> {
  const out: Omit<PrinterInput, 'id'> = {};
  const name = optionalString(b['name'], 'name', 100);
  if (name !== undefined) out.name = name;
  const serial = b['serial'];
  if (serial !== undefined) {
    if (typeof serial !== 'object' || serial === null || Array.isArray(serial)) throw badRequest('serial must be {"port", "baudrate"}');
    const s = serial as Record<string, unknown>;
    const port = optionalString(s['port'], 'serial.port', 4096);
    if (port !== undefined && /[\0\r\n]/.test(port)) throw badRequest('serial.port may not contain control characters');
    out.serial = {};
    if (port !== undefined) out.serial.port = /^(auto|virtual|none)$/i.test(port) ? port.toUpperCase() : port;
    if (s['baudrate'] !== undefined) out.serial.baudrate = requireNumber(s['baudrate'], 'serial.baudrate', 0, 10_000_000);
  }
  const camera = b['camera'];
  if (camera !== undefined) {
    if (typeof camera !== 'object' || camera === null || Array.isArray(camera)) throw badRequest('camera must be {"source"}');
    const source = optionalString((camera as Record<string, unknown>)['source'], 'camera.source', 4096);
    out.camera = source === undefined ? {} : { source };
  }
  const profile = b['printerProfile'];
  if (profile !== undefined) {
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) throw badRequest('printerProfile must be an object');
    out.printerProfile = profile as Record<string, unknown>;
  }
  return out;
}

export function printerListRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/gantry/printers', (c) => c.json({ printers: deps.printers.list() }));
  app.get('/api/gantry/printers/:id', (c) => {
    const p = deps.printers.list().find((x) => x.id === c.req.param('id'));
    return p ? c.json(p) : c.json({ error: `No printer "${c.req.param('id')}"` }, 404);
  });
  app.post('/api/gantry/printers', async (c) => {
    const b = await readJsonObject(c);
    if (typeof b['id'] !== 'string') throw badRequest('Send {"id", "name", "serial": {"port", "baudrate"}}');
    const view = await deps.printers.add({ id: b['id'], ...parseInput(b) });
    c.header('Location', `/api/gantry/printers/${view.id}`);
    return c.json(view, 201);
  });
  app.patch('/api/gantry/printers/:id', async (c) => c.json(await deps.printers.update(c.req.param('id'), parseInput(await readJsonObject(c)))));
  app.delete('/api/gantry/printers/:id', async (c) => {
    await deps.printers.remove(c.req.param('id'));
    return c.body(null, 204);
  });
  return app;
}
