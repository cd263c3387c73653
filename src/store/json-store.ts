// Small persistent state (settings, keys, files metadata, checkpoint, queue) with lowdb over the durable adapter,
// merged over defaults so a file from an older version, or a partly edited one, still loads. Updates are
// transactions: the live data changes only once the file has it.
import { unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { Low } from 'lowdb';
import type { Logger } from '../log.js';
import { ServiceError } from '../service-error.js';
import { DurableJsonFile } from './durable-json-file.js';
import { type Staged, commitStaged, recoverCommit } from './commit.js';
import { isForbiddenKey } from './safe-json.js';

export class JsonStore<T extends object> {
  /** the previous update, settled either way: the next one starts from what it left */
  private last: Promise<void> = Promise.resolve();
  /** a save of this store with others that was committed (its journal written) but not put in place: finished
   * before this store writes again, and every write refused until it is (src/store/commit.ts) */
  private pending: PendingJournal | undefined;

  private constructor(
    private readonly db: Low<T>,
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  static async open<T extends object>(path: string, defaults: T, log: Logger): Promise<JsonStore<T>> {
    const db = new Low<T>(new DurableJsonFile<T>(path, log), structuredClone(defaults));
    await db.read();
    db.data = deepMerge(structuredClone(defaults), db.data ?? {}) as T;
    return new JsonStore(db, path, log);
  }

  /** The saved state. Read it fresh after an update: an update replaces it, it does not edit it in place. */
  get data(): T {
    return this.db.data;
  }

  /**
   * Applies `fn` to a copy, saves the copy, and only then makes it the live data: a save that fails (disk full)
   * leaves the running server with what the file has, never with a change that a restart would lose. Updates run
   * one at a time, each on the result of the one before, so two concurrent updates never lose each other's change.
   * A failed save rejects with a ServiceError: 507 when the disk is full, 500 (with the reason) otherwise; if `fn`
   * throws, the update rejects with that and nothing changes either.
   */
  /** Resolves once every update asked for so far has been saved or has failed (a clean stop waits for it). */
  settled(): Promise<void> {
    return this.last;
  }

  /** the file it is saved in */
  get file(): string {
    return this.path;
  }

  /**
   * One change to several stores, saved all or none (src/store/commit.ts, `journal` its commit point): after a
   * crash every file has the change or none has. The stores' other updates wait for it, and it for them; it rejects,
   * changing nothing, as `update` does.
   */
  static transaction(journal: string, changes: StoreChange[]): Promise<void> {
    const run = Promise.all(changes.map((c) => c.store.last))
      .then(() => Promise.all(changes.map((c) => c.store.finishPending())))
      .then(() => JsonStore.commit(journal, changes));
    for (const c of changes) c.store.last = run.catch(() => undefined);
    return run;
  }

  private static async commit(journal: string, changes: StoreChange[]): Promise<void> {
    const first = changes[0]!.store;
    // a journal no store here knows of (another process's, or one this process lost track of): finished first, so
    // this save's journal never replaces one whose change is not in place yet
    try {
      await recoverCommit(journal, first.log, 'an error');
    } catch (err) {
      throw unfinishedError(basename(first.path), err as Error);
    }
    const nexts = changes.map((c) => {
      const next = structuredClone(c.store.db.data);
      c.fn(next);
      return next;
    });
    const staged: Staged[] = [];
    let current = first;
    let finished: boolean;
    try {
      for (const [i, c] of changes.entries()) {
        current = c.store;
        const adapter = c.store.db.adapter as DurableJsonFile<object>;
        staged.push(await adapter.stage(nexts[i]!));
      }
      finished = await commitStaged(journal, staged, current.log);
    } catch (err) {
      for (const s of staged) await unlink(s.tmp).catch(() => undefined);
      current.log.error(`could not save ${changes.map((c) => c.store.path).join(' and ')}: ${(err as Error).message}; the change was not applied to any of them`);
      throw saveError(basename(current.path), err as NodeJS.ErrnoException);
    }
    // committed: the change is made (a restart would finish it), so the live data has it, whether or not the files
    // are in place yet
    changes.forEach((c, i) => (c.store.db.data = nexts[i]!));
    if (!finished) {
      const pending: PendingJournal = { journal, stores: changes.map((c) => c.store), files: changes.map((c) => basename(c.store.path)) };
      for (const c of changes) c.store.pending = pending;
    }
  }

  /** Finishes this store's committed but unfinished save, if any; rejects (nothing written) while it cannot be. */
  private async finishPending(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    p.finishing ??= recoverCommit(p.journal, this.log, 'an error').then(
      () => {
        for (const s of p.stores) if (s.pending === p) s.pending = undefined;
      },
      (err: Error) => {
        p.finishing = undefined;
        throw err;
      },
    );
    try {
      await p.finishing;
    } catch (err) {
      throw unfinishedError(basename(this.path), err as Error, p.files);
    }
  }

  update(fn: (data: T) => void): Promise<void> {
    const run = this.last.then(() => this.finishPending()).then(() => this.apply(fn));
    this.last = run.catch(() => undefined);
    return run;
  }

  private async apply(fn: (data: T) => void): Promise<void> {
    const next = structuredClone(this.db.data);
    fn(next);
    try {
      await this.db.adapter.write(next);
    } catch (err) {
      this.log.error(`could not save ${this.path}: ${(err as Error).message}; the change was not applied`);
      throw saveError(basename(this.path), err as NodeJS.ErrnoException);
    }
    this.db.data = next;
  }
}

/** One store's part of a transaction: `change(store, fn)` checks `fn` against the store's type. */
export interface StoreChange {
  readonly store: JsonStore<object>;
  readonly fn: (data: object) => void;
}

export const change = <T extends object>(store: JsonStore<T>, fn: (data: T) => void): StoreChange => ({ store: store as unknown as JsonStore<object>, fn: fn as (data: object) => void });

interface PendingJournal {
  journal: string;
  stores: JsonStore<object>[];
  files: string[];
  finishing?: Promise<void>;
}

/** A write refused because an earlier save, committed, is not in place yet and could not be finished now. */
function unfinishedError(name: string, err: Error, files?: string[]): ServiceError {
  const which = files ? `an earlier save of ${files.join(' and ')}` : 'an earlier save';
  return new ServiceError(500, `Could not save ${name}: ${which} is not finished yet and could not be finished now (${err.message}); try again (nothing was changed)`);
}

/** What the API answers for a failed save: the reason, without the server's paths. */
function saveError(name: string, err: NodeJS.ErrnoException): ServiceError {
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
    return new ServiceError(507, `Could not save ${name}: the disk is full; free some space and try again (nothing was changed)`);
  }
  // Node's message is "CODE: description, syscall 'path'": keep "CODE: description"
  const reason = err.code ? err.message.split(',')[0]! : err.message;
  return new ServiceError(500, `Could not save ${name}: ${reason} (nothing was changed)`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** null, array, object, string, number, boolean…: arrays and null are kinds of their own here, unlike typeof. */
function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Copies `patch` onto `base`, recursing into objects; keeps only keys that exist in base and values of the same
 * kind (a null default takes anything: it stands for "not set yet"). An empty object in the defaults is a
 * free-form map keyed by id (files.json's `files`) and takes every key. That is decided once, before copying:
 * asked per key, the map was no longer empty after the first entry, and every other file's metadata was dropped
 * at each start (issue #11: recovery then said the printed file was missing). Keys that reach a prototype are
 * never assigned through.
 */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return base;
  const freeForm = Object.keys(base).length === 0;
  for (const [k, v] of Object.entries(patch)) {
    if (isForbiddenKey(k)) continue;
    // own keys only: `in` would also see toString, __proto__ and the rest of Object.prototype
    if (!Object.hasOwn(base, k)) {
      if (freeForm) base[k] = v;
      continue;
    }
    const cur = base[k];
    if (isPlainObject(cur)) deepMerge(cur, v);
    else if (cur === null || kindOf(cur) === kindOf(v)) base[k] = v;
  }
  return base;
}
