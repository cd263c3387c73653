// A case's JSON body as Gantry reads it (Request.text(): UTF-8 with a leading BOM dropped, then JSON.parse),
// for the safety rewrite and the known-finding matchers.
import type { FuzzCase } from './cases.js';

export function parsedBody(c: FuzzCase): Record<string, unknown> | undefined {
  if (c.body === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(typeof c.body === 'string' ? Buffer.from(c.body) : c.body));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a key path, through own properties only (a `__proto__` key is data here, as after JSON.parse). */
export function at(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** String(v) throws: an object with a "toString" (or "valueOf") key that is not a function (TypeError), or an array
 * nested thousands deep (RangeError: Array.prototype.join recurses). */
export function stringThrows(v: unknown): boolean {
  try {
    String(v);
    return false;
  } catch {
    return true;
  }
}
