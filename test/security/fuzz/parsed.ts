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
