// A lowdb adapter that survives power loss: write a temp file, fdatasync it, rename it over the old one,
// fsync the directory. A reader sees the old file or the new one, never half of one; a write that fails (disk
// full) removes its temp file. A file that does not parse is moved aside (kept for inspection) and the caller
// starts from defaults: no crash loop. Keys that reach a prototype are dropped at parse (safe-json.ts).
import { open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import type { Logger } from '../log.js';
import { type Staged, sha256, uniqueTag } from './commit.js';
import { parseJsonSafe } from './safe-json.js';

export class DurableJsonFile<T> implements Adapter<T> {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: Logger,
    private readonly mode = 0o600,
  ) {}

  async read(): Promise<T | null> {
    await this.removeStaleTemps();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const data = parseJsonSafe(text);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not a JSON object');
      return data as T;
    } catch (err) {
      const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(this.path, aside);
      this.log.error(`${this.path} is corrupt (${(err as Error).message}); moved it to ${aside} and started from defaults`);
      return null;
    }
  }

  /** Writes are serialized: each one lands whole, in call order. */
  write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 2) + '\n';
    const next = this.chain.then(() => this.writeNow(text));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async writeNow(text: string): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      const fh = await open(tmp, 'w', this.mode);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      // a half-written temp (ENOSPC mid-write) must not stay behind to fill the disk further or confuse anyone
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // The new file is in place and readable: failing the save now would tell the caller it did not happen while
    // the file says it did. Only its survival over a power cut is in doubt, so say that and go on.
    try {
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      this.log.error(`${this.path} saved, but syncing its folder failed (${(err as Error).message}); a power cut now may undo the save`);
    }
  }

  /** Writes `data` whole to a temp file beside this one, synced, and returns it (its path, content and sha256): half
   * of a change that spans files (src/store/commit.ts puts every staged file in place together). A failed stage
   * leaves nothing behind. The temp's name is this save's own (no later save reuses it, so a journal left behind
   * never points at another save's content), and one `read` removes, so a stage no commit followed is gone at the
   * next start. */
  async stage(data: T): Promise<Staged> {
    const tmp = `${this.path}.tmp-${uniqueTag()}-commit`;
    const content = JSON.stringify(data, null, 2) + '\n';
    try {
      const fh = await open(tmp, 'w', this.mode);
      try {
        await fh.writeFile(content, 'utf8');
        await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { tmp, path: this.path, content, sha256: sha256(content) };
  }

  private async removeStaleTemps(): Promise<void> {
    const prefix = `${basename(this.path)}.tmp-`;
    let names: string[];
    try {
      names = await readdir(dirname(this.path));
    } catch {
      return;
    }
    for (const n of names) if (n.startsWith(prefix)) await unlink(join(dirname(this.path), n)).catch(() => undefined);
  }
}
