// /api/gantry/farm/queue: the farm queue, shared by every printer of this Gantry (src/farm/farm-queue.ts). The same
// at every printer's base URL.
import { Hono } from 'hono/tiny';
import type { FarmConstraints } from '../../farm/requirements.js';
import { FileStorage } from '../../files/storage.js';
import { ServiceError } from '../../service-error.js';
import { isPlainObject } from '../../store/json-store.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, readCommand, readJsonObject, requireNumber } from '../http.js';

const CONSTRAINT_KEYS = ['nozzleDiameter', 'filamentType', 'printers'];

/** `constraints` of an added item, checked: what the item asks of a printer beyond what the file says. */
function parseConstraints(v: unknown, printerIds: string[]): FarmConstraints {
  if (v === undefined) return {};
  if (!isPlainObject(v)) throw badRequest('constraints must be {"nozzleDiameter", "filamentType", "printers"}');
  const unknown = Object.keys(v).filter((k) => !CONSTRAINT_KEYS.includes(k));
  if (unknown.length > 0) throw badRequest(`constraints may hold ${CONSTRAINT_KEYS.join(', ')}; not ${unknown.join(', ')}`);
  const out: FarmConstraints = {};
  if (v['nozzleDiameter'] !== undefined) out.nozzleDiameter = requireNumber(v['nozzleDiameter'], 'constraints.nozzleDiameter', 0.1, 2);
  const t = v['filamentType'];
  if (t !== undefined) {
    if (typeof t !== 'string' || !t.trim() || t.length > 40 || /[\0-\x1f]/.test(t)) throw badRequest('constraints.filamentType must be a filament type such as PLA or PETG');
    out.filamentType = t.trim();
  }
  const p = v['printers'];
  if (p !== undefined) {
    if (!Array.isArray(p) || p.length === 0 || !p.every((x) => typeof x === 'string')) throw badRequest('constraints.printers must be a list of printer ids');
    const missing = (p as string[]).filter((id) => !printerIds.includes(id));
    if (missing.length > 0) throw badRequest(`constraints.printers: no printer ${missing.map((m) => `"${m}"`).join(', ')}; GET /api/gantry/printers lists them`);
    out.printers = [...new Set(p as string[])];
  }
  return out;
}

export function farmRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { farm } = deps;
  app.get('/api/gantry/farm/queue', (c) => c.json(farm.view()));
  app.post('/api/gantry/farm/queue', async (c) => {
    const b = await readJsonObject(c);
    if (typeof b['path'] !== 'string') throw badRequest('Send {"path", "copies", "constraints"}');
    const path = FileStorage.path(b['path']);
    const copies = b['copies'] === undefined ? 1 : requireNumber(b['copies'], 'copies', 1, 1000);
    const constraints = parseConstraints(b['constraints'], deps.printers.list().map((p) => p.id));
    if ((await deps.storage.exists(path)) !== 'file') throw new ServiceError(404, `${path} not found`);
    const item = await farm.add(path, copies, constraints, c.get('user'));
    c.header('Location', `/api/gantry/farm/queue/${item.id}`);
    return c.json(item, 201);
  });
  app.post('/api/gantry/farm/queue/:id', async (c) => {
    const { command, body } = await readCommand(c, ['move', 'requeue', 'printed'] as const);
    const id = c.req.param('id');
    if (command === 'move') await farm.move(id, requireNumber(body['position'], 'position', 0));
    else await farm.resolve(id, command);
    return c.json(farm.view());
  });
  app.delete('/api/gantry/farm/queue/:id', async (c) => {
    await farm.remove(c.req.param('id'));
    return c.body(null, 204);
  });
  return app;
}
