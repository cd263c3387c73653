// The local files folder: G-code files in folders, with metadata (hash, display name, user data, print
// statistics) kept in one small durable JSON file. Writes are atomic: temp file, fsync, rename, dir fsync.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../log.js';
import { ServiceError } from '../service-error.js';
import type { StoredAnalysis } from './analysis/analysis-queue.js';
import { JsonStore } from '../store/json-store.js';
import { PathError, isGcodeName, joinPath, sanitizePath, within } from './paths.js';

export interface FileMeta {
  hash: string;
  display: string;
  userdata?: unknown;
  prints: { success: number; failure: number; last?: { date: number; success: boolean; printTime: number } };
  printTimes: number[];
  analysis?: StoredAnalysis;
}

interface MetaFile {
  files: Record<string, FileMeta>;
}

export interface FileEntry {
  kind: 'file';
  name: string;
  path: string;
  size: number;
  date: number;
  meta: FileMeta;
}

export interface FolderEntry {
  kind: 'folder';
  name: string;
  path: string;
  size: number;
  children: (FileEntry | FolderEntry)[];
}

export type Entry = FileEntry | FolderEntry;

export class StorageError extends ServiceError {}

const TMP_DIR = '.tmp';

export class FileStorage {
  private constructor(
    readonly root: string,
    private readonly meta: JsonStore<MetaFile>,
    private readonly log: Logger,
  ) {}

  static async open(root: string, metaPath: string, log: Logger): Promise<FileStorage> {
    await mkdir(root, { recursive: true });
    // anything left in .tmp is from an upload that never finished: never visible, removed at start
    await rm(join(root, TMP_DIR), { recursive: true, force: true });
    await mkdir(join(root, TMP_DIR), { recursive: true });
    const meta = await JsonStore.open<MetaFile>(metaPath, { files: {} }, log);
    return new FileStorage(root, meta, log);
  }

  abs(relative: string): string {
    return within(this.root, relative);
  }

  /** A fresh temp path for an upload in progress (inside the root, so the final rename stays on one disk). */
  tempPath(): string {
    return join(this.root, TMP_DIR, `upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  }

  async freeBytes(): Promise<{ free: number; total: number }> {
    const s = await statfs(this.root);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  }

  async exists(relative: string): Promise<'file' | 'folder' | undefined> {
    try {
      const s = await stat(this.abs(relative));
      return s.isDirectory() ? 'folder' : 'file';
    } catch {
      return undefined;
    }
  }

  metaFor(path: string): FileMeta | undefined {
    return this.meta.data.files[path];
  }

  /** Moves a finished, fsynced temp file into place atomically and records its metadata. */
  async commit(tempPath: string, relative: string, meta: { hash: string; display: string; userdata?: unknown }): Promise<void> {
    const target = this.abs(relative);
    await mkdir(dirname(target), { recursive: true });
    await rename(tempPath, target);
    await fsyncDir(dirname(target));
    await this.meta.update((m) => {
      // keep the print statistics; keep the analysis only if the bytes are the same. Read from the copy being
      // saved, not from before the update: an update queued ahead of this one may have changed the record.
      const old = m.files[relative];
      const same = old?.hash === meta.hash && old.analysis !== undefined;
      m.files[relative] = { ...meta, prints: old?.prints ?? { success: 0, failure: 0 }, printTimes: old?.printTimes ?? [], ...(same ? { analysis: old.analysis } : {}) };
    });
  }

  async mkdir(relative: string): Promise<void> {
    if (await this.exists(relative)) throw new StorageError(409, `${relative} already exists`);
    await mkdir(this.abs(relative), { recursive: true });
  }

  async remove(relative: string): Promise<void> {
    const kind = await this.exists(relative);
    if (!kind || relative === '' || relative.startsWith(TMP_DIR)) throw new StorageError(404, `${relative} not found`);
    await rm(this.abs(relative), { recursive: true, force: true });
    await this.meta.update((m) => {
      for (const key of Object.keys(m.files)) if (key === relative || key.startsWith(relative + '/')) delete m.files[key];
    });
  }

  async copyOrMove(from: string, toFolder: string, move: boolean): Promise<string> {
    const kind = await this.exists(from);
    if (!kind) throw new StorageError(404, `${from} not found`);
    if ((await this.exists(toFolder)) !== 'folder') throw new StorageError(404, `Destination folder ${toFolder || '/'} not found`);
    const name = from.split('/').pop()!;
    const to = joinPath(toFolder, name);
    if (to === from || (await this.exists(to))) throw new StorageError(409, `${to} already exists`);
    if (kind === 'folder' && (to + '/').startsWith(from + '/')) throw new StorageError(409, 'Cannot copy or move a folder into itself');
    if (move) await rename(this.abs(from), this.abs(to));
    else if (kind === 'file') await copyFile(this.abs(from), this.abs(to));
    else throw new StorageError(400, 'Copying folders is not supported; move it instead');
    await fsyncDir(dirname(this.abs(to)));
    await this.meta.update((m) => {
      for (const key of Object.keys(m.files)) {
        if (key !== from && !key.startsWith(from + '/')) continue;
        const next = to + key.slice(from.length);
        m.files[next] = structuredClone(m.files[key]!);
        if (move) delete m.files[key];
      }
    });
    return to;
  }

  /** Stores an analysis if the file is still the one analysed (same hash). */
  async setAnalysis(path: string, hash: string, analysis: StoredAnalysis): Promise<void> {
    if (this.meta.data.files[path]?.hash !== hash) return;
    await this.meta.update((m) => {
      // checked again on the copy: updates queue, and the file may have been replaced or removed meanwhile
      const f = m.files[path];
      if (f?.hash === hash) f.analysis = analysis;
    });
  }

  async recordPrint(path: string, success: boolean, printTime: number): Promise<void> {
    if (!this.meta.data.files[path]) return;
    await this.meta.update((m) => {
      const f = m.files[path];
      if (!f) return; // removed while the update waited its turn
      if (success) f.prints.success++;
      else f.prints.failure++;
      f.prints.last = { date: Math.floor(Date.now() / 1000), success, printTime };
      if (success) f.printTimes = [...f.printTimes, printTime].slice(-10);
    });
  }

  /** Lists a folder; `depth` 1 = direct children only (folders without their children), Infinity = all. */
  async list(folder: string, depth: number): Promise<Entry[]> {
    const dir = this.abs(folder);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      throw new StorageError(404, `Folder ${folder || '/'} not found`);
    }
    const out: Entry[] = [];
    for (const name of names.sort()) {
      if (folder === '' && name === TMP_DIR) continue;
      const path = joinPath(folder, name);
      let s;
      try {
        s = await stat(join(dir, name));
      } catch {
        continue;
      }
      if (s.isDirectory()) {
        const children = depth > 1 ? await this.list(path, depth - 1) : [];
        out.push({ kind: 'folder', name, path, size: children.reduce((a, c) => a + c.size, 0), children });
      } else if (isGcodeName(name)) {
        out.push({ kind: 'file', name, path, size: s.size, date: Math.floor(s.mtimeMs / 1000), meta: this.meta.data.files[path] ?? (await this.adopt(path)) });
      }
    }
    return out;
  }

  async entry(path: string): Promise<Entry> {
    const kind = await this.exists(path);
    if (!kind) throw new StorageError(404, `${path} not found`);
    if (kind === 'folder') {
      const children = await this.list(path, 2);
      return { kind: 'folder', name: path.split('/').pop() ?? '', path, size: children.reduce((a, c) => a + c.size, 0), children };
    }
    const s = await stat(this.abs(path));
    return { kind: 'file', name: path.split('/').pop()!, path, size: s.size, date: Math.floor(s.mtimeMs / 1000), meta: this.meta.data.files[path] ?? (await this.adopt(path)) };
  }

  /** A file that appeared without an upload (copied in by hand): hash it once and remember it. */
  private async adopt(path: string): Promise<FileMeta> {
    const hash = await sha1File(this.abs(path));
    const meta: FileMeta = { hash, display: path.split('/').pop()!, prints: { success: 0, failure: 0 }, printTimes: [] };
    await this.meta.update((m) => (m.files[path] = meta));
    this.log.info(`found ${path} in the files folder; added it`);
    return meta;
  }

  /** Parses a user path for an existing or new entry; PathError → 400 at the API. */
  static path(raw: string): string {
    try {
      return sanitizePath(decodeURIComponent(raw));
    } catch (err) {
      if (err instanceof PathError || err instanceof URIError) throw new StorageError(400, (err as Error).message);
      throw err;
    }
  }

  async discardTemp(tempPath: string): Promise<void> {
    await unlink(tempPath).catch(() => undefined);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function sha1File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha1');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
