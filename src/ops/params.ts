// Reading an operation's parameters from a surface's loose input (JSON body, MQTT payload): a clear 'invalid'
// error naming the parameter, never a thrown TypeError.
import { ServiceError } from '../service-error.js';

const invalid = (msg: string) => new ServiceError(400, msg);

export function stringParam(input: Record<string, unknown>, name: string, opts: { optional?: false; max?: number }): string;
export function stringParam(input: Record<string, unknown>, name: string, opts: { optional: true; max?: number }): string | undefined;
export function stringParam(input: Record<string, unknown>, name: string, opts: { optional?: boolean; max?: number } = {}): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw invalid(`${name} is missing`);
  }
  if (typeof v !== 'string' || v.length === 0 || v.length > (opts.max ?? 4096)) throw invalid(`${name} must be a non-empty string of at most ${opts.max ?? 4096} characters`);
  return v;
}

const TRUES = new Set(['true', 'yes', 'y', '1', 'on']);

/** A number (or a numeric string, as form fields and MQTT payloads carry them) within [min, max]. */
export function numberValue(v: unknown, name: string, min = -Infinity, max = Infinity): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(`${name} must be a number`);
  if (n < min || n > max) throw invalid(`${name} must be between ${min} and ${max}`);
  return n;
}

export function numberParam(input: Record<string, unknown>, name: string, min = -Infinity, max = Infinity, fallback?: number): number {
  const raw = input[name];
  if ((raw === undefined || raw === null) && fallback !== undefined) return fallback;
  return numberValue(raw, name, min, max);
}

/** OctoPrint's booleans: true, "true", "yes", "y", "1", 1; anything else (an object, a list) is `fallback`. */
export function boolValue(v: unknown, fallback = false): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  // anything else (an object, an array nested 10 000 deep) is not a boolean: never String() it
  if (typeof v !== 'string') return fallback;
  return TRUES.has(v.trim().toLowerCase());
}

export function oneOf<T extends string>(input: Record<string, unknown>, name: string, values: readonly T[], fallback: T): T {
  const v = input[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalid(`${name} must be one of ${values.join(', ')}`);
  return v as T;
}

export const noParams = (): Record<string, never> => ({});
