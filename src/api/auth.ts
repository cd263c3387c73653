// Who is asking, and may they? An API key (X-Api-Key, Authorization: Bearer, ?apikey=) or a login session
// cookie (state-changing requests then need the session's CSRF token in X-CSRF-Token). Every route needs a
// permission (permission-map.ts); failures are 403 with a JSON error, as OctoPrint answers them.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { permissionsOf } from '../accounts/permissions.js';
import type { Identity } from '../accounts/users.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { jsonError } from './http.js';
import { permissionFor } from './permission-map.js';

import { SESSION_COOKIE } from '../accounts/sessions.js';

export { SESSION_COOKIE };

export function presentedKey(header: (name: string) => string | undefined, query: (name: string) => string | undefined): string | undefined {
  const x = header('x-api-key');
  if (x) return x;
  const auth = header('authorization');
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  return query('apikey') || undefined;
}

/** Constant-time comparison of a presented secret with the expected one ('' never matches). */
function sameSecret(presented: string | undefined, expected: string): boolean {
  if (!presented || !expected) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function apiAuth(deps: ApiDeps, path: (url: string) => string): MiddlewareHandler<ApiEnv> {
  // a refused request's body is never read: close the connection after the answer instead of draining it
  const refuse = (c: Context<ApiEnv>, message: string) => {
    if (c.req.header('content-length') !== undefined || c.req.header('transfer-encoding') !== undefined) c.header('Connection', 'close');
    return jsonError(c, 403, message);
  };
  return async (c, next) => {
    const p = path(c.req.url);
    const method = c.req.method;
    // the camera may be opened to the LAN (settings camera.lanOpen): players that cannot send a key
    const cameraPath = (method === 'GET' || method === 'HEAD') && (p === '/webcam' || p.startsWith('/webcam/') || p === '/downloads/camera/current');
    const camera = deps.settings.data.camera;
    // the camera opened to the LAN, or its own token (camera URLs in the settings carry it): the camera and nothing else
    const openCamera = cameraPath && (camera.lanOpen || sameSecret(c.req.query('token'), camera.token));
    const required = openCamera ? 'PUBLIC' : permissionFor(method, p, deps.ops);
    const key = presentedKey((n) => c.req.header(n), (n) => c.req.query(n));
    let identity: Identity | undefined;
    let sessionId: string | undefined;
    if (key) {
      identity = deps.accounts.byKey(key);
      if (!identity && required !== 'PUBLIC') return refuse(c, 'Invalid API key');
      // someone holds the admin key and uses it: the install is taken, keyless first-run setup closes
      if (identity && deps.accounts.isAdminKey(identity.key)) await deps.accounts.markAdminKeyUsed().catch((err: Error) => deps.log.warn(`cannot record the admin key's first use: ${err.message}`));
    } else {
      const session = deps.sessions.get(getCookie(c, SESSION_COOKIE));
      if (session) {
        const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
        if (!safe && c.req.header('x-csrf-token') !== session.csrf && required !== 'PUBLIC') {
          return refuse(c, 'Missing or wrong CSRF token (send the X-CSRF-Token header)');
        }
        identity = { name: session.user, roles: session.roles, via: 'session' }; // roles as of now (sessions.get)
        sessionId = session.id;
      }
    }
    c.set('identity', identity ?? null);
    c.set('user', identity?.name ?? null);
    c.set('sessionId', sessionId ?? null);
    if (required === 'PUBLIC') return next();
    if (!identity) {
      if (method === 'GET' && required !== 'ANY' && required.length === 1 && required[0] === 'STATUS' && deps.settings.data.api.allowAnonymousStatus) return next();
      return refuse(c, 'Missing API key: send it as X-Api-Key, Authorization: Bearer, or ?apikey=, or log in');
    }
    if (required !== 'ANY') {
      const held = permissionsOf(identity.roles);
      if (!required.some((p) => held.includes(p))) return refuse(c, `Insufficient permissions: ${required.join(' or ')} needed`);
    }
    return next();
  };
}
