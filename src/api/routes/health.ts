import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';

/** No key needed, never waits on the printer: for systemd watchdogs, load balancers and humans. */
export function healthRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/gantry/health', (c) => {
    const p = deps.printer;
    return c.json({
      status: 'ok',
      version: deps.version,
      uptime: Math.round((Date.now() - deps.startedAt) / 1000),
      printer: { state: p.stateText, error: p.error || null, port: p.port, baudrate: p.baudrate, firmware: p.firmware?.name ?? null },
    });
  });
  return app;
}
