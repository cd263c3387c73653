// /api/gantry/printers: the printers of this Gantry, added, changed and removed at run time. Each answers at its own
// OctoPrint-compatible base URL (`path`); the default one also at today's URLs.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv, PrinterInput } from '../context.js';
import { badRequest, parseBool, readJsonObject, requireNumber } from '../http.js';
import { ServiceError } from '../../service-error.js';

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

/** An id for a found printer: from what its firmware calls the machine, else "printer-2", "printer-3"…; never one
 * that is taken. */
function idFor(machine: string | null | undefined, taken: string[]): string {
  const base = (machine ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'printer';
  // "printer" is the default printer's: the first other one is printer-2
  for (let n = base === 'printer' ? 2 : 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!taken.includes(id)) return id;
  }
}

export function printerListRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  // ?status=true: each with its status model, so a farm view reads every printer in one request
  app.get('/api/gantry/printers', (c) => c.json({ printers: parseBool(c.req.query('status')) ? deps.printers.listWithStatus() : deps.printers.list() }));
  // devices plugged in that no printer claims; each with the one call that adds it, addressed by its port (URL-encoded):
  // not by its place in the list, which another device plugged in or out meanwhile would give to another device
  app.get('/api/gantry/printers/found', async (c) =>
    c.json({ found: (await deps.found.list()).map((f) => ({ ...f, add: `/api/gantry/printers/found/${encodeURIComponent(f.port)}/add` })) }),
  );
  app.post('/api/gantry/printers/found/:port/add', async (c) => {
    const found = await deps.found.list();
    const port = c.req.param('port');
    const f = found.find((x) => x.port === port);
    if (!f) throw new ServiceError(404, `No new printer found on ${port.slice(0, 200)}; GET /api/gantry/printers/found lists them (${found.length} now)`);
    // a body is optional: {"id", "name"}
    const b = (c.req.header('content-type') ?? '').includes('json') ? await readJsonObject(c) : {};
    if (b['id'] !== undefined && typeof b['id'] !== 'string') throw badRequest('id must be a string');
    const input = parseInput({ name: b['name'] });
    const id = (b['id'] as string | undefined) ?? idFor(f.firmware?.machineType, deps.printers.list().map((p) => p.id));
    const view = await deps.printers.add({ id, name: input.name ?? f.firmware?.machineType ?? id, serial: { port: f.port, baudrate: f.baudrate ?? 0 } });
    c.header('Location', `/api/gantry/printers/${view.id}`);
    return c.json(view, 201);
  });
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
