// Hostile values: what a broken or malicious client puts where a route expects a well-formed field.
import { type Json, type JsonObject, Raw, setKey } from './json-text.js';
import type { Rng } from './prng.js';

const UNICODE = ['é', 'ﬁ', '\u202e', '\u200b', '\ufeff', '😀', '\ud800', '\udfff', 'İ', 'ß', '𝕏', 'e\u0301', '\uffff', '٣', '한', '\u0085', '\u2028'];
const CONTROL = ['\u0000', '\r\n', '\n', '\r', '\t', '\u001b[31m', '\u0007', '\u007f', '\b', '\f', '\u000b'];
const TRAVERSAL = [
  '..', '.', '../', '../../etc/passwd', '..\\..\\windows', '%2e%2e%2f', '%2e%2e/', '....//', '/', '//', '.tmp', '.tmp/x', 'fixture-dir/../..',
  '~', '/etc/passwd', 'C:\\x', 'a/./b', 'a//b', '%00', '%', '%zz', 'fixture.gcode%00.txt', '.git/config',
];
const NUMERIC = ['NaN', 'Infinity', '-Infinity', '1e309', '-1', '0x10', '1_000', '  42  ', '9'.repeat(400), '0', '-0', '1.5', '1e3', ' ', 'true', 'null', 'undefined', '[]', '{}'];
const INJECTION = [
  "'; DROP TABLE files--", '<script>alert(1)</script>', '${7*7}', '{{7*7}}', '%s%s%n', '$(reboot)', '`id`', '| cat /etc/passwd', 'M112', 'G28\nM112',
  'M104 S999', 'T99', 'tool', 'tool99', 'tool-1', 'tool0 ', 'TOOL0', 'tool٣', 'tool0x', 'tool00', 'tool1e1', 'x', 'X', 'e', 'xyz',
];
const PROTO = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then'];
const WORDS = [
  'select', 'unselect', 'move', 'copy', 'analyse', 'slice', 'connect', 'disconnect', 'fake_ack', 'start', 'restart', 'cancel', 'pause', 'resume',
  'toggle', 'render', 'discard', 'target', 'offset', 'jog', 'home', 'feedrate', 'extrude', 'flowrate', 'admin', 'user', 'readonly', 'root',
  'AUTO', 'VIRTUAL', 'device', 'entity', 'off', 'timed', 'zchange', 'always', 'ultrafast', 'core', 'custom', 'stream', 'snapshot', '_default',
  'fixture.gcode', 'fixture-dir', 'fixture-dir/inner.gcode', 'missing.gcode', 'fz-1.gcode', 'fz-dir-1', 'tool0', 'tool1', 'bed', 'chamber',
];

/** A whole or fractional number a validator may mishandle; some as raw text JSON.stringify cannot write. */
export function hostileNumber(r: Rng): Json {
  return r.weighted<() => Json>([
    [6, () => r.pick([0, 1, -1, 0.5, -0.5, 1.5, 7, 10, 49.99, 50, 50.01, 75, 125, 255, 256, 499.9, 500, 500.01, 501, 1000, 1000.5, 250000, 115200])],
    [4, () => r.pick([2 ** 31 - 1, 2 ** 31, 2 ** 32, -(2 ** 31), 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, 5e-324, -5e-324, 1e-7, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])],
    [3, () => new Raw(r.pick(['1e309', '-1e309', '-0', '1e-400', '123456789012345678901234567890', '1E2', '0.0000001', '-0.0', '1e+2', '100000000000000000000000000000000000000000000000000000000000']))],
    [2, () => r.int(-100_000, 100_000) / r.pick([1, 10, 1000])],
  ])();
}

export function hostileString(r: Rng): string {
  return r.weighted<() => string>([
    [2, () => r.pick(['', ' ', '   ', '\t'])],
    [3, () => r.pick(['A', 'é', '0', '/']).repeat(r.pick([64, 65, 100, 101, 199, 200, 201, 256, 257, 1025, 10_001, 70_000]))],
    [3, () => Array.from({ length: r.int(1, 6) }, () => r.pick(UNICODE)).join('') + r.pick(['', 'x', '.gcode'])],
    [3, () => r.pick(['a', 'M117 ', 'fixture', '']) + Array.from({ length: r.int(1, 4) }, () => r.pick(CONTROL)).join('') + r.pick(['', 'b', '.gcode'])],
    [3, () => r.pick(TRAVERSAL)],
    [3, () => r.pick(NUMERIC)],
    [3, () => r.pick(INJECTION)],
    [2, () => r.pick(PROTO)],
    [4, () => r.pick(WORDS)],
  ])();
}

/** Object keys: the expected ones elsewhere, prototype names, empty, huge, unicode. */
export function hostileKey(r: Rng): string {
  return r.weighted<() => string>([
    [3, () => r.pick(PROTO)],
    [3, () => r.pick(WORDS)],
    [1, () => r.pick(['', ' ', 'a'.repeat(5000), '😀', '\u0000', 'tool0', 'targets', 'command', 'commands', 'script', 'path', 'key', 'roles', 'password'])],
    [1, () => hostileString(r).slice(0, 300)],
  ])();
}

/** Nesting built as text: deep enough to overflow any recursive walk of the parsed value. */
export function deepNesting(r: Rng): Raw {
  const depth = r.pick([64, 1000, 10_000, 30_000]);
  const leaf = r.pick(['1', '"x"', 'null', '{}', '[]']);
  if (r.chance(0.5)) return new Raw('['.repeat(depth) + leaf + ']'.repeat(depth));
  const key = r.pick(['a', '__proto__', 'command', 'tool0']);
  return new Raw(`{"${key}":`.repeat(depth) + leaf + '}'.repeat(depth));
}

export function hostileValue(r: Rng, depth = 0): Json {
  return r.weighted<() => Json>([
    [30, () => hostileString(r)],
    [25, () => hostileNumber(r)],
    [6, () => r.pick([true, false])],
    [6, () => null],
    [depth < 2 ? 8 : 0, () => Array.from({ length: r.pick([0, 1, 2, 5]) }, () => hostileValue(r, depth + 1))],
    [depth < 2 ? 8 : 0, () => hostileObject(r, depth + 1)],
    [2, () => deepNesting(r)],
    [1, () => Array.from({ length: r.pick([1000, 10_000]) }, (_, i) => i)],
  ])();
}

export function hostileObject(r: Rng, depth = 0): JsonObject {
  const out: JsonObject = {};
  for (let i = r.int(0, 3); i > 0; i--) setKey(out, hostileKey(r), hostileValue(r, depth + 1));
  return out;
}

/** A prototype-pollution payload: if any of it lands on Object.prototype, every object on the server sees it. */
export function pollution(r: Rng): [string, Json] {
  const payload: JsonObject = {};
  setKey(payload, r.pick(['admin', 'isAdmin', 'roles', 'polluted', 'lanOpen', 'allowAnonymousStatus']), r.pick<Json>([true, ['admin'], 'yes', 1]));
  if (r.chance(0.5)) return ['__proto__', payload];
  const proto: JsonObject = {};
  setKey(proto, 'prototype', payload);
  return ['constructor', proto];
}
