// JSON values the fuzzer builds, and their text. A small serializer of our own rather than JSON.stringify:
// it can splice in text JSON.stringify cannot produce (1e309, -0, 30-digit numbers, 40 000 levels of nesting
// that would overflow JSON.stringify's own recursion), and it writes `__proto__` keys as plain keys.

/** Text put into the JSON verbatim. */
export class Raw {
  constructor(readonly text: string) {}
}

export type Json = null | boolean | number | string | Raw | Json[] | { [key: string]: Json };

export type JsonObject = { [key: string]: Json };

export function isJsonObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Raw);
}

/** Sets a key as an own property, even `__proto__` (plain assignment would change the prototype instead). */
export function setKey(obj: JsonObject, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function toJsonText(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(toJsonText).join(',')}]`;
  if (isJsonObject(v)) return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${toJsonText(v[k]!)}`).join(',')}}`;
  // JSON.stringify writes NaN and ±Infinity as null, which is what a JS client would send
  return JSON.stringify(v);
}

/** Copies a body so mutations of one case never leak into the route's template. */
export function cloneJson(v: Json): Json {
  if (v instanceof Raw || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: JsonObject = {};
  for (const k of Object.keys(v)) setKey(out, k, cloneJson(v[k]!));
  return out;
}
