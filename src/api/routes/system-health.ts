// GET /api/gantry/system: the Pi's health (src/system/health.ts). Anyone who may see the printer's status may see it.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';

export function systemHealthRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/gantry/system', async (c) => c.json(await deps.systemHealth()));
  return app;
}
