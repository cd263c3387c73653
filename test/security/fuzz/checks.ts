// What every answer must be: never 5xx; every 4xx a JSON object with an `error` string (those from the HTTP
// layer too); and a request from an identity that lacks the route's permission (permission-map.ts) refused
// with 403 before the route runs.
import { type Permission, permissionsOf } from '../../../src/accounts/permissions.js';
import { normalizedPath } from '../../../src/api/http.js';
import { permissionFor } from '../../../src/api/permission-map.js';
import { builtinOperations } from '../../../src/ops/builtin/index.js';
import type { FuzzCase, IdentityName } from './cases.js';
import type { RawResponse } from './send.js';

/** the operations Gantry declares: operation-backed routes need what these declare */
const OPS = builtinOperations();

const PERMS: Record<IdentityName, Permission[]> = {
  none: [],
  wrong: [],
  readonly: permissionsOf(['readonly']),
  user: permissionsOf(['user']),
  admin: permissionsOf(['admin']),
};

/** Targets @hono/node-server passes through untouched (no dot segments, only these characters): for them the
 * path Gantry's auth sees is exactly normalizedPath(target), so the expected permission can be computed. */
const PLAIN_TARGET = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
/** Node's default maxHeaderSize (16 KiB) less room for the headers Node adds */
const HEADER_LIMIT = 16 * 1024 - 512;
/** the prefixes the auth middleware guards (app.ts) */
const GUARDED = /^\/(api|downloads|plugin)\/|^\/webcam(\/|$)/;

/** The permission the case needs and lacks, when the server must refuse it with 403; undefined otherwise. */
export function lackedPermission(c: FuzzCase, cameraLanOpen: boolean): string | undefined {
  if (c.parserLevel || !PLAIN_TARGET.test(c.target) || DOT_SEGMENT.test(c.target)) return undefined;
  if (c.headers.some(([k]) => k.toLowerCase() === 'host')) return undefined;
  // over Node's 16 KB header limit the request is refused (431) before anything reads it
  if (c.target.length + c.headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 0) > HEADER_LIMIT) return undefined;
  const path = normalizedPath(`http://127.0.0.1${c.target}`);
  if (!GUARDED.test(path)) return undefined;
  if (cameraLanOpen && (path === '/webcam' || path.startsWith('/webcam/') || path === '/downloads/camera/current')) return undefined;
  const required = permissionFor(c.method, path, OPS);
  if (required === 'PUBLIC') return undefined;
  if (required === 'ANY') return c.identity === 'none' || c.identity === 'wrong' ? 'a signed-in identity' : undefined;
  return required.some((p) => PERMS[c.identity].includes(p)) ? undefined : required.join(' or ');
}

/** Problems with one answer; empty when it is fine. */
export function checkResponse(c: FuzzCase, res: RawResponse, cameraLanOpen: boolean): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`answered ${res.status}`);
  // Node's HTTP parser refuses unknown methods before the app sees them (src/api/http-server.ts answers)
  if (c.parserLevel && res.status !== 400) problems.push(`expected 400 for method ${c.method}, got ${res.status}`);
  if (res.status >= 400 && res.status < 500 && c.method !== 'HEAD') {
    const type = String(res.headers['content-type'] ?? '');
    let error: unknown;
    try {
      error = (JSON.parse(res.body.toString('utf8')) as { error?: unknown }).error;
    } catch {
      error = undefined;
    }
    if (!/json/i.test(type) || typeof error !== 'string') problems.push(`${res.status} is not a JSON {error} (Content-Type ${type || 'none'})`);
  }
  const lacked = lackedPermission(c, cameraLanOpen);
  if (lacked && res.status !== 403) problems.push(`expected 403 (${c.identity} lacks ${lacked}), got ${res.status}`);
  return problems;
}
