// Small persistent state (settings, keys) with lowdb over the durable adapter, merged over defaults so a
// file from an older version, or a partly edited one, still loads.
import { Low } from 'lowdb';
import type { Logger } from '../log.js';
import { DurableJsonFile } from './durable-json-file.js';

export class JsonStore<T extends object> {
  private readonly db: Low<T>;

  private constructor(db: Low<T>) {
    this.db = db;
  }

  static async open<T extends object>(path: string, defaults: T, log: Logger): Promise<JsonStore<T>> {
    const db = new Low<T>(new DurableJsonFile<T>(path, log), structuredClone(defaults));
    await db.read();
    db.data = deepMerge(structuredClone(defaults), db.data ?? {}) as T;
    return new JsonStore(db);
  }

  get data(): T {
    return this.db.data;
  }

  async update(fn: (data: T) => void): Promise<void> {
    fn(this.db.data);
    await this.db.write();
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copies `patch` onto `base`, recursing into objects; keeps only keys that exist in base and values of the same kind. */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return base;
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in base)) {
      // free-form maps (keyed by id) are allowed to grow
      if (Object.keys(base).length === 0) base[k] = v;
      continue;
    }
    const cur = base[k];
    if (isPlainObject(cur)) deepMerge(cur, v);
    else if (cur === null || v === null || typeof cur === typeof v || (Array.isArray(cur) && Array.isArray(v))) base[k] = v;
  }
  return base;
}
