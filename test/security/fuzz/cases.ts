// One fuzz case from (seed, index): an identity, a route, and a request built from it and then broken in the
// path, method, query, headers and body. Keys are placeholders (~KEY~<identity>~, characters no encoding step
// changes) filled in at send time, so the same case prints the same on every run.
import { mutateText, mutateValue } from './body.js';
import { type Json, isJsonObject, setKey, toJsonText } from './json-text.js';
import { type UploadBody, uploadBody } from './multipart.js';
import { type Rng, caseRng } from './prng.js';
import { encodeComponent } from './encode.js';
import { ROUTES, type RouteSpec, segment } from './routes.js';
import { hostileString } from './values.js';

export const IDENTITIES = ['none', 'wrong', 'readonly', 'user', 'admin'] as const;
export type IdentityName = (typeof IDENTITIES)[number];
/** Identities that hold a real key. */
export type KeyedIdentity = 'readonly' | 'user' | 'admin';

export interface FuzzCase {
  seed: number;
  index: number;
  identity: IdentityName;
  /** the route the case was built from (the request may have been bent away from it) */
  route: string;
  method: string;
  /** the request target: path and query, exactly as sent (but for key placeholders) */
  target: string;
  headers: [string, string][];
  body: string | Buffer | undefined;
  /** Transfer-Encoding: chunked instead of a Content-Length */
  chunked: boolean;
  /** a method Node's HTTP parser refuses before Gantry sees the request (it answers 400 itself) */
  parserLevel: boolean;
  notes: string[];
  /** the upload's structure, for POST /api/files/local */
  upload?: Omit<UploadBody, 'contentType' | 'body'>;
}

export const keyPlaceholder = (who: KeyedIdentity) => `~KEY~${who}~`;
/** a real key with its last character changed: a near miss */
export const nearMissPlaceholder = (who: KeyedIdentity) => `~NEAR~${who}~`;

const ODD_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'MKCOL', 'SEARCH', 'PURGE', 'LOCK'];
const UNPARSEABLE_METHODS = ['FOO', 'BREW', 'GETS'];
const JUNK_PATHS = ['/api', '/api/', '/api/gantry', '/api/files/local/', '/downloads', '/downloads/files/', '/plugin', '/plugin/appkeys', '/sockjs', '/sockjs/info', '/webcam/x', '/api/printer/x', '/api/gantry/users/', '/api/system', '/*', '*'];

/** routes with a body have more to break: twice as likely */
const WEIGHTED_ROUTES = ROUTES.map((route): [number, RouteSpec] => [route.body ? 2 : 1, route]);

function pickIdentity(r: Rng): IdentityName {
  return r.weighted<IdentityName>([[20, 'none'], [15, 'wrong'], [20, 'readonly'], [20, 'user'], [25, 'admin']]);
}

function oddPath(r: Rng, path: string, notes: string[]): string {
  const op = r.weighted<string>([[3, 'double-slash'], [2, 'trailing-slash'], [2, 'case'], [2, 'dot-segment'], [2, 'long-segment'], [1, 'params'], [1, 'nul'], [1, 'encoded-slash'], [1, 'backslash'], [1, 'absolute-form']]);
  notes.push(`path: ${op}`);
  const slashes = [...path.matchAll(/\//g)].map((m) => m.index);
  const at = slashes.length ? r.pick(slashes) : 0;
  switch (op) {
    case 'double-slash':
      return r.chance(0.5) ? '/' + path : path.slice(0, at) + '//' + path.slice(at + 1);
    case 'trailing-slash':
      return path.endsWith('/') ? path.slice(0, -1) || '/' : path + '/';
    case 'case':
      return r.chance(0.5) ? path.toUpperCase() : path.replace(/[a-z]/, (c) => c.toUpperCase());
    case 'dot-segment':
      return path.slice(0, at) + r.pick(['/.', '/x/..', '/%2e%2e', '/%2E', '/..%2f', '/.%00', '/%c0%ae%c0%ae']) + path.slice(at);
    case 'long-segment':
      return path + '/' + r.pick(['a', '%41', 'é']).repeat(r.pick([300, 2000, 4000]));
    case 'params':
      return path + r.pick([';x=1', ';', '#frag', '%23x', '?', '??', '&']);
    case 'nul':
      return path + r.pick(['%00', '%00.gcode', '%', '%2', '%zz', '%ff', '%ed%a0%80']);
    case 'encoded-slash':
      return path.replace(/\/(?=[^/]*$)/, r.pick(['%2f', '%2F', '%252f']));
    case 'backslash':
      return path.replace(/\//g, (s, i: number) => (i > 0 && r.chance(0.5) ? '\\' : s));
    default:
      return `http://${r.pick(['127.0.0.1', 'evil.example', 'localhost:1'])}${path}`;
  }
}

function queryString(r: Rng, route: RouteSpec, notes: string[]): [string, string][] {
  const pairs = route.query?.(r) ?? [];
  if (r.chance(0.2)) {
    const key = r.pick(['apikey', 'recursive', 'force', 'history', 'limit', 'offset', 'exclude', 'size', 'action', 'unrendered', '__proto__', 'apikey[]']);
    pairs.push([key, r.chance(0.5) ? hostileString(r) : String(r.pick([true, 1, -1, 'yes', '', '1e309', 'NaN']))]);
    notes.push(`query: ${key}`);
  }
  return pairs;
}

function encodeQuery(r: Rng, pairs: [string, string][]): string {
  if (pairs.length === 0) return '';
  const enc = (s: string) => (r.chance(0.8) ? encodeComponent(s) : segment(r, s).replace(/[&#]/g, encodeURIComponent));
  return '?' + pairs.map(([k, v]) => (v === '' && r.chance(0.3) ? enc(k) : `${enc(k)}=${enc(v)}`)).join('&');
}

/** How the key travels: header, Bearer, ?apikey=, or header plus a different query key (the header wins). */
function presentKey(r: Rng, identity: IdentityName, headers: [string, string][], query: [string, string][], notes: string[]): void {
  if (identity === 'none') {
    const how = r.weighted<string>([[10, 'nothing'], [1, 'empty-header'], [1, 'empty-bearer'], [1, 'basic'], [1, 'empty-query'], [1, 'garbage-cookie']]);
    if (how !== 'nothing') notes.push(`no key: ${how}`);
    if (how === 'empty-header') headers.push(['X-Api-Key', '']);
    if (how === 'empty-bearer') headers.push(['Authorization', 'Bearer ']);
    if (how === 'basic') headers.push(['Authorization', 'Basic YWRtaW46YWRtaW4=']);
    if (how === 'empty-query') query.push(['apikey', '']);
    if (how === 'garbage-cookie') headers.push(['Cookie', `gantry_session=${r.pick(['x', 'a'.repeat(5000), '%00', '__proto__'])}`], ['X-CSRF-Token', 'x']);
    return;
  }
  let key: string;
  if (identity === 'wrong') {
    key = r.weighted<() => string>([
      [3, () => nearMissPlaceholder(r.pick(['readonly', 'user', 'admin'] as const))],
      // header values must be Latin-1 without CR, LF or NUL, or Node's client refuses to send them
      [4, () => hostileString(r).replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim() || 'x'],
      [1, () => 'A'.repeat(r.pick([43, 1000, 8000]))],
    ])();
  } else key = keyPlaceholder(identity);
  const how = r.weighted<string>([[6, 'header'], [2, 'bearer'], [2, 'query'], [1, 'header+query']]);
  if (how !== 'header') notes.push(`key as ${how}`);
  if (how === 'header' || how === 'header+query') headers.push(['X-Api-Key', key]);
  if (how === 'bearer') headers.push(['Authorization', `${r.pick(['Bearer', 'bearer', 'BEARER'])} ${key}`]);
  if (how === 'query') query.push(['apikey', key]);
  if (how === 'header+query') query.push(['apikey', identity === 'admin' ? 'wrong' : keyPlaceholder('admin')]);
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json', 'application/json; charset=utf-16'];
const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/jsonx', 'application/xml', 'json', '', 'application/json-patch+json', '*/*'];

function jsonBody(r: Rng, valid: Json, headers: [string, string][], notes: string[]): string | Buffer {
  const value = isJsonObject(valid) && r.chance(0.7) ? mutateValue(r, valid, notes) : valid;
  let text: string | Buffer = toJsonText(value);
  if (r.chance(0.15)) text = mutateText(r, text, notes);
  const wrongType = r.chance(0.1);
  if (wrongType) notes.push('wrong content type');
  const type = wrongType ? r.pick(WRONG_TYPES) : r.pick(JSON_TYPES);
  if (type !== '' || r.chance(0.5)) headers.push(['Content-Type', type]);
  return text;
}

function extraHeaders(r: Rng, headers: [string, string][], notes: string[]): void {
  if (!r.chance(0.12)) return;
  const [name, value] = r.pick<[string, () => string]>([
    ['Range', () => r.pick(['bytes=0-', 'bytes=-5', 'bytes=5-1', 'bytes=99999999999999999999-', 'bytes=0-99999999999999999999', 'bytes=0-0,1-1', 'bytes=abc', 'bytes=-0', 'items=0-1', 'bytes=-'])],
    ['X-Forwarded-Host', () => r.pick(['evil.example', '', 'a'.repeat(4000), 'x, y', '[::1', 'é'])],
    ['X-Forwarded-Proto', () => r.pick(['javascript', '', 'https, http', 'x'.repeat(1000)])],
    ['Host', () => r.pick(['evil.example', '', '[::1', '127.0.0.1:99999', 'a'.repeat(2000), 'x y', 'é'])],
    ['If-None-Match', () => r.pick(['*', '""', 'W/"x"'])],
    ['Accept-Encoding', () => r.pick(['br', 'gzip', 'identity;q=0', '*'])],
    ['X-CSRF-Token', () => 'x'],
    ['Origin', () => 'http://evil.example'],
  ]);
  headers.push([name, value()]);
  notes.push(`header ${name}`);
}

export function generateCase(seed: number, index: number): FuzzCase {
  const r = caseRng(seed, index);
  const notes: string[] = [];
  const identity = pickIdentity(r);
  const junk = r.chance(0.05);
  const route: RouteSpec = junk ? { method: r.pick(['GET', 'POST', 'DELETE']), pattern: '(junk path)', path: () => r.pick(JUNK_PATHS) } : r.weighted(WEIGHTED_ROUTES);
  let method = route.method;
  let parserLevel = false;
  if (r.chance(0.08)) {
    if (r.chance(0.1)) {
      method = r.pick(UNPARSEABLE_METHODS);
      parserLevel = true;
    } else method = r.pick(ODD_METHODS);
    notes.push(`method ${method}`);
  }
  let path = route.path(r);
  if (r.chance(0.25)) path = oddPath(r, path, notes);
  const headers: [string, string][] = [];
  const query = queryString(r, route, notes);
  presentKey(r, identity, headers, query, notes);
  extraHeaders(r, headers, notes);

  let body: string | Buffer | undefined;
  let upload: FuzzCase['upload'];
  const spec = route.body;
  if (spec?.kind === 'multipart') {
    const u = uploadBody(r);
    headers.push(['Content-Type', u.contentType]);
    body = u.body;
    upload = { fields: u.fields, filename: u.filename, structure: u.structure };
    notes.push(`upload ${u.structure}`);
  } else if (spec?.kind === 'form') {
    const fields = spec.make(r);
    body = new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)])).toString();
    headers.push(['Content-Type', r.chance(0.9) ? 'application/x-www-form-urlencoded' : r.pick(WRONG_TYPES)]);
  } else if (spec?.kind === 'json') {
    const valid = spec.make(r);
    // DELETE /api/gantry/keys: try to revoke another identity's real key
    if (route.pattern === '/api/gantry/keys' && route.method === 'DELETE' && (identity === 'readonly' || identity === 'user') && r.chance(0.5)) {
      setKey(valid, 'key', keyPlaceholder(r.pick((['readonly', 'user', 'admin'] as const).filter((w) => w !== identity))));
      notes.push("another identity's key");
    }
    body = jsonBody(r, valid, headers, notes);
  } else if (r.chance(0.1)) {
    body = jsonBody(r, { command: hostileString(r) }, headers, notes);
    notes.push('unexpected body');
  }
  const chunked = body !== undefined && r.chance(0.08);
  if (chunked) notes.push('chunked');
  return { seed, index, identity, route: `${route.method} ${route.pattern}`, method, target: path + encodeQuery(r, query), headers, body, chunked, parserLevel, notes, ...(upload ? { upload } : {}) };
}
