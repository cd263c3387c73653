// /api/gantry/queue: the persistent print queue.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, readJsonObject } from '../http.js';
import { callOp } from '../ops.js';

export function queueRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { queue } = deps;
  const view = () => ({ items: queue.data.items, bedClear: queue.data.bedClear, bedClearMode: deps.settings.data.queue.bedClearMode, enabled: deps.settings.data.queue.enabled });

  app.get('/api/gantry/queue', (c) => c.json(view()));
  app.post('/api/gantry/queue', async (c) => {
    const b = await readJsonObject(c);
    if (typeof b['path'] !== 'string') throw badRequest('Send {"path", "copies"}');
    return c.json((await callOp(deps, c, 'queue.add', { path: b['path'], copies: b['copies'] })) as object, 201);
  });
  app.post('/api/gantry/queue/bed-clear', async (c) => {
    await callOp(deps, c, 'queue.bedClear');
    return c.body(null, 204);
  });
  app.post('/api/gantry/queue/:id', async (c) => {
    const b = await readJsonObject(c);
    if (b['command'] !== 'move') throw badRequest('command must be "move" (with "position")');
    await callOp(deps, c, 'queue.move', { id: c.req.param('id'), position: b['position'] });
    return c.json(view());
  });
  app.delete('/api/gantry/queue/:id', async (c) => {
    await callOp(deps, c, 'queue.remove', { id: c.req.param('id') });
    return c.body(null, 204);
  });
  return app;
}
