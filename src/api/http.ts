// Request/response rules shared by every route: JSON errors, JSON command bodies, OctoPrint's booleans.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isPlainObject } from '../store/json-store.js';
import { parseJsonSafe } from '../store/safe-json.js';

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (msg: string) => new HttpError(400, msg);
export const conflict = (msg: string) => new HttpError(409, msg);

export function jsonError(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.json({ error: message }, status);
}

/** Reads a JSON object body: 415 when it is not JSON, 400 when it does not parse or is not an object. Keys that
 * reach a prototype are dropped. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'Expected a JSON body (Content-Type: application/json)');
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    // without __proto__ / constructor / prototype keys: handlers copy bodies into settings and stores
    value = parseJsonSafe(text);
  } catch {
    throw badRequest('Malformed JSON body');
  }
  if (!isPlainObject(value)) throw badRequest('Expected a JSON object');
  return value;
}

/** A JSON body with a `command` from `valid`; other keys are returned as-is (unknown ones ignored by callers). */
export async function readCommand<T extends string>(c: Context, valid: readonly T[]): Promise<{ command: T; body: Record<string, unknown> }> {
  const body = await readJsonObject(c);
  const command = body['command'];
  if (typeof command !== 'string' || !(valid as readonly string[]).includes(command)) {
    throw badRequest(`command is invalid; expected one of: ${valid.join(', ')}`);
  }
  return { command: command as T, body };
}

/** OctoPrint's booleans and numbers, read as every surface reads them (src/ops/params.ts): a bad number is a 400 */
export { boolValue as parseBool, numberValue as requireNumber } from '../ops/params.js';

/** A number (or numeric string) within [min, max] (whole if asked), else undefined: for settings that collect
 * every error before answering. */
export function numberIn(v: unknown, min: number, max: number, integer = false): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) return undefined;
  return n;
}

/** Absolute URL for a path on this server, as clients expect in `Location` and `refs`. */
export function absoluteUrl(c: Context, path: string): string {
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() || new URL(c.req.url).protocol.replace(':', '');
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim() || c.req.header('host') || new URL(c.req.url).host;
  const incoming = (c.env as { incoming?: object } | undefined)?.incoming;
  return `${proto}://${host}${(incoming && bases.get(incoming)) ?? ''}${path}`;
}

// The base URL a request came in under (/printers/<id>), which the front strips before the printer's API sees the
// path: the URLs that API hands out (a timelapse's download, a file's) stay under the same printer.
const bases = new WeakMap<object, string>();

export function rememberBase(req: object, base: string): void {
  bases.set(req, base);
}

/** Collapses `//` (pyoctoprintapi sends `//api/printer/bed`). */
export function normalizedPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  const path = q < 0 ? url.slice(start) : url.slice(start, q);
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}

/** The peer's address as the socket sees it (never a forwarded header: anyone can send one of those). */
export function remoteAddress(c: Context): string | null {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? null;
}
