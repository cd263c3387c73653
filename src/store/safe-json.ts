// JSON from disk or from a client, parsed without the keys that reach an object's prototype. JSON.parse itself
// makes `__proto__` an ordinary own property, but any later copy by assignment (`target[key] = value`, a merge
// over defaults) would set the target's prototype through it, and `constructor.prototype` walks to a shared one.
// Dropping the keys at parse means no code downstream has to remember.

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** True for a key no object built from outside input may carry. */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN.has(key);
}

/** JSON.parse, minus `__proto__`, `constructor` and `prototype` keys at any depth (a reviver returning undefined drops the key). */
export function parseJsonSafe(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (FORBIDDEN.has(key) ? undefined : value));
}
