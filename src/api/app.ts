// The HTTP API: OctoPrint-compatible routes plus Gantry's own under /api/gantry.
import { Hono } from 'hono/tiny';
import { bodyLimit } from 'hono/body-limit';
import { NotOperationalError } from '../printer/printer.js';
import { apiAuth } from './auth.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { HttpError, jsonError, normalizedPath } from './http.js';
import { connectionRoutes } from './routes/connection.js';
import { healthRoutes } from './routes/health.js';
import { printerRoutes } from './routes/printer.js';
import { printerProfileRoutes } from './routes/printerprofiles.js';
import { versionRoutes } from './routes/version.js';
import { fileRoutes } from './routes/files.js';
import { jobRoutes } from './routes/job.js';
import { accountRoutes } from './routes/accounts.js';
import { appKeyRoutes } from './routes/appkeys.js';
import { settingsRoutes } from './routes/settings.js';
import { systemRoutes } from './routes/system.js';
import { queueRoutes } from './routes/queue.js';
import { recoveryRoutes } from './routes/recovery.js';
import { webcamRoutes } from './routes/webcam.js';
import { timelapseRoutes } from './routes/timelapse.js';
import { staticRoutes } from './static.js';
import { ServiceError } from '../service-error.js';

const JSON_BODY_LIMIT = 100 * 1024;

export function createApi(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>({ getPath: (req) => normalizedPath(req.url) });

  const auth = apiAuth(deps, normalizedPath);
  app.use('/api/*', auth);
  app.use('/downloads/*', auth);
  app.use('/plugin/*', auth);
  app.use('/webcam', auth);
  app.use('/webcam/*', auth);
  const jsonLimit = bodyLimit({ maxSize: JSON_BODY_LIMIT, onError: (c) => jsonError(c, 413, `Request body larger than ${JSON_BODY_LIMIT / 1024} KB`) });
  // uploads stream to disk with their own limit; everything else is a small JSON body
  app.use('/api/*', (c, next) => (c.req.method === 'POST' && /^\/api\/files\/(local|sdcard)\/?$/.test(normalizedPath(c.req.url)) ? next() : jsonLimit(c, next)));

  for (const routes of [healthRoutes, versionRoutes, connectionRoutes, printerRoutes, printerProfileRoutes, jobRoutes, accountRoutes, appKeyRoutes, settingsRoutes, systemRoutes, queueRoutes, recoveryRoutes]) {
    app.route('/', routes(deps));
  }
  app.route('/', fileRoutes(deps) as unknown as Hono<ApiEnv>);
  app.route('/', webcamRoutes(deps) as unknown as Hono<ApiEnv>);
  app.route('/', timelapseRoutes(deps) as unknown as Hono<ApiEnv>);
  // the web page last: everything above wins
  app.route('/', staticRoutes() as unknown as Hono<ApiEnv>);

  app.notFound((c) => jsonError(c, 404, `Not found: ${c.req.method} ${normalizedPath(c.req.url)}`));
  app.onError((err, c) => {
    if (err instanceof HttpError) return jsonError(c, err.status, err.message);
    if (err instanceof NotOperationalError) return jsonError(c, 409, err.message);
    if (err instanceof ServiceError) return jsonError(c, err.status, err.message);
    deps.log.error(`${c.req.method} ${normalizedPath(c.req.url)} failed: ${err.stack ?? err.message}`);
    return jsonError(c, 500, 'Internal error; see the Gantry log');
  });
  return app;
}
