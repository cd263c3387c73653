// /api/gantry/recovery: an interrupted print (restart, crash, power loss) offered for resuming at its last layer.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { readCommand } from '../http.js';

export function recoveryRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { jobs, storage } = deps;
  app.get('/api/gantry/recovery', (c) => {
    const cp = jobs.checkpoint;
    if (!cp || jobs.active) return c.json({ available: false });
    const meta = storage.metaFor(cp.path);
    return c.json({
      available: true,
      file: { path: cp.path, exists: meta !== undefined, unchanged: meta?.hash === cp.hash },
      layer: cp.layer,
      z: cp.z,
      filepos: cp.filepos,
      targets: cp.targets,
      interruptedAt: cp.savedAt / 1000,
    });
  });
  app.post('/api/gantry/recovery', async (c) => {
    const { command } = await readCommand(c, ['resume', 'discard'] as const);
    if (command === 'discard') await jobs.discardCheckpoint();
    else await jobs.recover(c.get('user'));
    return c.body(null, 204);
  });
  return app;
}
