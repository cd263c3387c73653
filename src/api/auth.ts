// Every /api call needs a key (X-Api-Key, Authorization: Bearer, or ?apikey=) unless the settings open status
// reads to anonymous clients. Failures are 403 with a JSON error, as OctoPrint answers anonymous requests.
import type { MiddlewareHandler } from 'hono';
import { findKey } from '../accounts/api-keys.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { jsonError } from './http.js';

const PUBLIC = new Set(['/api/gantry/health']);
const STATUS_READS = new Set(['/api/version', '/api/server', '/api/printer', '/api/connection', '/api/job', '/api/printerprofiles']);

export function presentedKey(header: (name: string) => string | undefined, query: (name: string) => string | undefined): string | undefined {
  const x = header('x-api-key');
  if (x) return x;
  const auth = header('authorization');
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  return query('apikey') || undefined;
}

export function apiAuth(deps: ApiDeps, path: (url: string) => string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const p = path(c.req.url);
    if (PUBLIC.has(p)) return next();
    const key = presentedKey((n) => c.req.header(n), (n) => c.req.query(n));
    const rec = key ? findKey(deps.keys.data, key) : undefined;
    if (rec) {
      c.set('user', rec.user);
      return next();
    }
    if (!key && c.req.method === 'GET' && deps.settings.data.api.allowAnonymousStatus && STATUS_READS.has(p)) {
      c.set('user', null);
      return next();
    }
    return jsonError(c, 403, key ? 'Invalid API key' : 'Missing API key: send it as X-Api-Key, Authorization: Bearer, or ?apikey=');
  };
}
