// mjpg-streamer-compatible camera URLs: /webcam/?action=stream and /webcam/?action=snapshot (Home Assistant derives
// the snapshot URL from the stream URL), and OctoPrint's /downloads/camera/current.
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import { ServiceError } from '../../service-error.js';
import type { ApiDeps, ApiEnv } from '../context.js';

type Env = ApiEnv & { Bindings: HttpBindings };

export function webcamRoutes(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const relay = () => {
    const r = deps.camera();
    if (!r) throw new ServiceError(404, 'No camera is configured (gantry serve --camera, or settings camera.source)');
    return r;
  };
  const snapshot = async (c: Context<Env>) => {
    try {
      await relay().snapshot(c.env.outgoing);
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      return c.json({ error: (err as Error).message }, 503);
    }
    return RESPONSE_ALREADY_SENT;
  };
  const webcam = async (c: Context<Env>) => {
    const action = c.req.query('action') ?? 'stream';
    if (action === 'snapshot') return snapshot(c);
    if (action !== 'stream') return c.json({ error: 'action must be stream or snapshot' }, 400);
    relay().stream(c.env.outgoing);
    return RESPONSE_ALREADY_SENT;
  };
  app.get('/webcam', webcam);
  app.get('/webcam/', webcam);
  app.get('/downloads/camera/current', snapshot);
  return app;
}
