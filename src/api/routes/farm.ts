// /api/gantry/farm/queue: the farm queue, shared by every printer of this Gantry (src/farm/farm-queue.ts), through
// its operations (src/ops/builtin/farm.ts). The same at every printer's base URL.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, readCommand, readJsonObject } from '../http.js';
import { callOp } from '../ops.js';

export function farmRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { farm } = deps;
  app.get('/api/gantry/farm/queue', (c) => c.json(farm.view()));
  app.post('/api/gantry/farm/queue', async (c) => {
    const b = await readJsonObject(c);
    if (typeof b['path'] !== 'string') throw badRequest('Send {"path", "copies", "constraints"}');
    const item = (await callOp(deps, c, 'farm.add', b)) as { id: string };
    c.header('Location', `/api/gantry/farm/queue/${item.id}`);
    return c.json(item, 201);
  });
  app.post('/api/gantry/farm/queue/:id', async (c) => {
    const { command, body } = await readCommand(c, ['move', 'requeue', 'printed'] as const);
    const id = c.req.param('id');
    await callOp(deps, c, `farm.${command}`, command === 'move' ? { id, position: body['position'] } : { id });
    return c.json(farm.view());
  });
  app.delete('/api/gantry/farm/queue/:id', async (c) => {
    await callOp(deps, c, 'farm.remove', { id: c.req.param('id') });
    return c.body(null, 204);
  });
  return app;
}
