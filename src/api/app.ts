// The HTTP API: OctoPrint-compatible routes plus Gantry's own under /api/gantry.
import { Hono } from 'hono/tiny';
import { bodyLimit } from 'hono/body-limit';
import { NotOperationalError } from '../printer/printer.js';
import { apiAuth } from './auth.js';
import { permissionFor, unknownRouteOps } from './permission-map.js';
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
import { systemHealthRoutes } from './routes/system-health.js';
import { queueRoutes } from './routes/queue.js';
import { recoveryRoutes } from './routes/recovery.js';
import { webcamRoutes } from './routes/webcam.js';
import { timelapseRoutes } from './routes/timelapse.js';
import { staticRoutes } from './static.js';
import { backupRoutes } from './routes/backup.js';
import { printerListRoutes } from './routes/printers.js';
import { statusRoutes } from './routes/status.js';
import { opsRoutes } from './routes/ops.js';
import { farmRoutes } from './routes/farm.js';
import { ServiceError } from '../service-error.js';

const JSON_BODY_LIMIT = 100 * 1024;
/** login, setup, app-key requests: a few fields */
const PUBLIC_BODY_LIMIT = 8 * 1024;
const UPLOAD_PATH = /^\/api\/files\/(local|sdcard)\/?$/;
/** a backup being restored streams to disk under its own limit (admin only: auth runs first) */
const RESTORE_PATH = /^\/api\/gantry\/restore\/?$/;

export function createApi(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>({ getPath: (req) => normalizedPath(req.url) });
  const unknown = unknownRouteOps(deps.ops);
  if (unknown.length > 0) throw new Error(`api/permission-map.ts names operations nobody declared: ${unknown.join(', ')}`);

  const auth = apiAuth(deps, normalizedPath);
  app.use('/api/*', auth);
  app.use('/downloads/*', auth);
  app.use('/plugin/*', auth);
  app.use('/webcam', auth);
  app.use('/webcam/*', auth);
  // Every body is bounded before anything reads it, and after auth, so a stranger's body is not read at all.
  // Uploads stream to disk under their own limit; what anyone may send without a key gets the smallest limit;
  // everything else is a small JSON body.
  const bounded = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: (c) => {
        c.header('Connection', 'close'); // the rest of an oversized body is not worth reading
        return jsonError(c, 413, `Request body larger than ${max / 1024} KB`);
      },
    });
  const publicLimit = bounded(PUBLIC_BODY_LIMIT);
  const jsonLimit = bounded(JSON_BODY_LIMIT);
  app.use('*', (c, next) => {
    const path = normalizedPath(c.req.url);
    if (c.req.method === 'POST' && (UPLOAD_PATH.test(path) || RESTORE_PATH.test(path))) return next();
    return permissionFor(c.req.method, path, deps.ops) === 'PUBLIC' ? publicLimit(c, next) : jsonLimit(c, next);
  });

  for (const routes of [healthRoutes, versionRoutes, connectionRoutes, printerRoutes, printerProfileRoutes, jobRoutes, accountRoutes, appKeyRoutes, settingsRoutes, systemHealthRoutes, queueRoutes, recoveryRoutes, printerListRoutes, statusRoutes, opsRoutes, farmRoutes]) {
    app.route('/', routes(deps));
  }
  app.route('/', fileRoutes(deps) as unknown as Hono<ApiEnv>);
  app.route('/', webcamRoutes(deps) as unknown as Hono<ApiEnv>);
  app.route('/', timelapseRoutes(deps) as unknown as Hono<ApiEnv>);
  app.route('/', backupRoutes(deps) as unknown as Hono<ApiEnv>);
  app.route('/', systemRoutes(deps) as unknown as Hono<ApiEnv>);
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
