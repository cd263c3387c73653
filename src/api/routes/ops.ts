// /api/gantry/ops: every operation by name, for automations (n8n, Node-RED) and the page: GET lists them with the
// permission each needs, POST /api/gantry/ops/<name> runs one on this printer with a JSON object of parameters.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { readJsonObject } from '../http.js';
import { callOp } from '../ops.js';

export function opsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/gantry/ops', (c) => c.json({ ops: deps.ops.list() }));
  app.post('/api/gantry/ops/:name', async (c) => {
    // an empty body is no parameters
    const input = c.req.header('content-length') === '0' || (!c.req.header('content-length') && !c.req.header('transfer-encoding')) ? {} : await readJsonObject(c);
    await callOp(deps, c, c.req.param('name'), input);
    return c.body(null, 204);
  });
  return app;
}
