import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { absoluteUrl } from '../http.js';

export function printerProfileRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/printerprofiles', (c) => {
    const p = deps.settings.data.printerProfile;
    return c.json({
      profiles: {
        _default: {
          ...p,
          id: '_default',
          default: true,
          current: true,
          resource: absoluteUrl(c, `/api/printerprofiles/_default`),
          volume: { ...p.volume, custom_box: false },
        },
      },
    });
  });
  return app;
}
