// GET /api/gantry/status: this printer's status model as it is (src/status/types.ts), what the page, a farm view
// or an automation reads in one call instead of /api/printer + /api/job + the queue.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';

export function statusRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/gantry/status', (c) => c.json(deps.status.snapshot()));
  return app;
}
