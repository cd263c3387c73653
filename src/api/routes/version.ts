import { Hono } from 'hono/tiny';
import { OCTOPRINT_COMPAT_VERSION } from '../../octoprint/version.js';
import type { ApiDeps, ApiEnv } from '../context.js';

export function versionRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/version', (c) =>
    c.json({ api: '0.1', server: OCTOPRINT_COMPAT_VERSION, text: `OctoPrint ${OCTOPRINT_COMPAT_VERSION} (Gantry ${deps.version})` }),
  );
  app.get('/api/server', (c) => c.json({ version: OCTOPRINT_COMPAT_VERSION, safemode: false }));
  return app;
}
