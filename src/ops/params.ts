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

/** A number (or a numeric string, as form fields and MQTT payloads carry them) within [min, max]. */
export function numberParam(input: Record<string, unknown>, name: string, min: number, max: number, fallback?: number): number {
  const raw = input[name];
  if ((raw === undefined || raw === null) && fallback !== undefined) return fallback;
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(`${name} must be a number from ${min} to ${max}`);
  return v;
}

export function oneOf<T extends string>(input: Record<string, unknown>, name: string, values: readonly T[], fallback: T): T {
  const v = input[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalid(`${name} must be one of ${values.join(', ')}`);
  return v as T;
}

export const noParams = (): Record<string, never> => ({});
