// The local files folder: G-code files in folders, with metadata (hash, display name, user data, print
// statistics) kept in one small durable JSON file. Writes are atomic: temp file, fsync, rename, dir fsync.
import { createHash } from 'node:crypto';
import { type Stats, constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, realpath, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../log.js';
import { ServiceError } from '../service-error.js';
import type { StoredAnalysis } from './analysis/analysis-queue.js';
import { JsonStore } from '../store/json-store.js';
import { MAX_DEPTH, MAX_PATH_LENGTH, childPath, isGcodeName, isInside, joinPath, sanitizePath, within } from './paths.js';

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
  /** the folder's mtime, seconds (OctoPrint lists it: clients sort folders by it) */
  date: number;
  children: (FileEntry | FolderEntry)[];
}

export type Entry = FileEntry | FolderEntry;

export class StorageError extends ServiceError {}

const TMP_DIR = '.tmp';
const HASH_READ_SIZE = 256 * 1024;

// Symlinks: the files folder may be shared (Samba, a USB stick, a shell user), so a link in it may point anywhere.
// Whatever is read or written for a client goes through real(): the path with every link resolved, and only if it
// is still inside the real root. A link that stays inside keeps working; one that leads out is as good as absent
// (not listed, 404), so nothing outside (its bytes, size or hash) ever reaches a client or the printer.
export class FileStorage {
  private constructor(
    readonly root: string,
    /** the root with its own symlinks resolved (the data dir may itself live behind one) */
    private readonly realRoot: string,
    private readonly meta: JsonStore<MetaFile>,
    private readonly log: Logger,
  ) {}

  static async open(root: string, metaPath: string, log: Logger): Promise<FileStorage> {
    await mkdir(root, { recursive: true });
    // anything left in .tmp is from an upload that never finished: never visible, removed at start
    await rm(join(root, TMP_DIR), { recursive: true, force: true });
    await mkdir(join(root, TMP_DIR), { recursive: true });
    const meta = await JsonStore.open<MetaFile>(metaPath, { files: {} }, log);
    return new FileStorage(root, await realpath(root), meta, log);
  }

  /** The lexical absolute path (no symlinks resolved): for what is about to be created, renamed or removed. */
  abs(relative: string): string {
    return within(this.root, relative);
  }

  /** The real path of an existing entry: 404 if it does not exist or a symlink on the way leads out of the root. */
  async real(relative: string): Promise<string> {
    const real = await this.resolve(relative);
    if (real === undefined) throw new StorageError(404, `${relative || '/'} not found`);
    return real;
  }

  private async resolve(relative: string): Promise<string | undefined> {
    const real = await realpath(this.abs(relative)).catch(() => undefined);
    return real !== undefined && isInside(this.realRoot, real) ? real : undefined;
  }

  /** Whether anything (a dangling or outside symlink too) is at the path. */
  private present(relative: string): Promise<boolean> {
    return lstat(this.abs(relative)).then(
      () => true,
      () => false,
    );
  }

  /** Refuses to create anything in a folder that a symlink leads out of the root (the deepest existing entry on
   * the way must really be inside), or below a file (mkdir would fail with a bare EEXIST/ENOTDIR, a 500). */
  private async assertCreatable(relative: string): Promise<void> {
    for (let p = parentOf(relative); ; p = parentOf(p)) {
      if (await this.present(p)) {
        const real = await this.resolve(p);
        if (real === undefined) throw new StorageError(404, `Folder ${p} not found`);
        if (!(await stat(real)).isDirectory()) throw new StorageError(409, `${p} is a file, not a folder`);
        return;
      }
      if (p === '') return;
    }
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
    const real = await this.resolve(relative);
    if (real === undefined) return undefined;
    const s = await stat(real).catch(() => undefined);
    if (!s) return undefined;
    return s.isDirectory() ? 'folder' : 'file';
  }

  metaFor(path: string): FileMeta | undefined {
    return this.meta.data.files[path];
  }

  /** Moves a finished, fsynced temp file into place atomically and records its metadata. */
  async commit(tempPath: string, relative: string, meta: { hash: string; display: string; userdata?: unknown }): Promise<void> {
    const target = this.abs(relative);
    await this.assertCreatable(relative);
    await mkdir(dirname(target), { recursive: true });
    // rename replaces a symlink at the target itself, never what it points to
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

  /** Creates a folder; false when that folder is already there (not an error, as in OctoPrint's add_folder). A file,
   * or a symlink, of that name is a 409. */
  async mkdir(relative: string): Promise<boolean> {
    const there = await lstat(this.abs(relative)).catch(() => undefined);
    if (there?.isDirectory()) return false;
    if (there) throw new StorageError(409, `${relative} already exists`);
    await this.assertCreatable(relative);
    await mkdir(this.abs(relative), { recursive: true }).catch((err: unknown) => {
      throw diskError(err);
    });
    return true;
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
    const to = childPath(toFolder, name);
    // present, not exists: a symlink there (even one leading out) must not be written through or replaced
    if (to === from || (await this.present(to))) throw new StorageError(409, `${to} already exists`);
    if (kind === 'folder' && (to + '/').startsWith(from + '/')) throw new StorageError(409, 'Cannot copy or move a folder into itself');
    if (move) await rename(this.abs(from), this.abs(to));
    else if (kind === 'file') await this.copyIn(await this.real(from), to);
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

  /** Copies through a temp file, fsynced, then renamed into place: a copy cut short (a full disk) is never visible
   * as a truncated file. */
  private async copyIn(src: string, to: string): Promise<void> {
    const tmp = this.tempPath();
    try {
      // COPYFILE_EXCL: never through a symlink someone planted at the temp name
      await copyFile(src, tmp, constants.COPYFILE_EXCL);
      const fh = await open(tmp, 'r+');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.abs(to));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw diskError(err);
    }
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
    const dir = await this.resolve(folder);
    if (dir === undefined) throw new StorageError(404, `Folder ${folder || '/'} not found`);
    return this.listReal(folder, dir, depth, new Set([dir]));
  }

  /** `chain`: the real folders being listed, outermost first; a symlink back to one of them is a loop, not shown. */
  private async listReal(folder: string, dir: string, depth: number, chain: Set<string>): Promise<Entry[]> {
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
      // what the API could not address (hand-made trees too deep) is not shown either
      if (path.split('/').length > MAX_DEPTH || path.length > MAX_PATH_LENGTH) continue;
      let real = join(dir, name);
      let s: Stats;
      try {
        s = await lstat(real);
        if (s.isSymbolicLink()) {
          // follow it only as far as the root: an outside target is not listed (not even its size)
          real = await realpath(real);
          if (!isInside(this.realRoot, real)) continue;
          s = await stat(real);
        }
      } catch {
        continue;
      }
      if (s.isDirectory()) {
        if (chain.has(real)) continue;
        const children = depth > 1 ? await this.listReal(path, real, depth - 1, new Set([...chain, real])) : [];
        out.push({ kind: 'folder', name, path, size: children.reduce((a, c) => a + c.size, 0), date: Math.floor(s.mtimeMs / 1000), children });
      } else if (s.isFile() && isGcodeName(name)) {
        out.push({ kind: 'file', name, path, size: s.size, date: Math.floor(s.mtimeMs / 1000), meta: this.meta.data.files[path] ?? (await this.adopt(path)) });
      }
    }
    return out;
  }

  async entry(path: string): Promise<Entry> {
    const kind = await this.exists(path);
    if (!kind) throw new StorageError(404, `${path} not found`);
    const s = await stat(await this.real(path));
    if (kind === 'folder') {
      const children = await this.list(path, 2);
      return { kind: 'folder', name: path.split('/').pop() ?? '', path, size: children.reduce((a, c) => a + c.size, 0), date: Math.floor(s.mtimeMs / 1000), children };
    }
    return { kind: 'file', name: path.split('/').pop()!, path, size: s.size, date: Math.floor(s.mtimeMs / 1000), meta: this.meta.data.files[path] ?? (await this.adopt(path)) };
  }

  /** A file that appeared without an upload (copied in by hand): hash it once and remember it. */
  private async adopt(path: string): Promise<FileMeta> {
    const hash = await sha1File(await this.real(path));
    const meta: FileMeta = { hash, display: path.split('/').pop()!, prints: { success: 0, failure: 0 }, printTimes: [] };
    await this.meta.update((m) => (m.files[path] = meta));
    this.log.info(`found ${path} in the files folder; added it`);
    return meta;
  }

  /** Parses a user path (URL-encoded: `%2F` and `%2e%2e` are decoded first, then refused like `/` and `..`) for
   * an existing or new entry; a bad one is a PathError, 400 at the API. */
  static path(raw: string): string {
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch (err) {
      throw new StorageError(400, `Invalid path encoding: ${(err as Error).message}`);
    }
    return sanitizePath(decoded);
  }

  async discardTemp(tempPath: string): Promise<void> {
    await unlink(tempPath).catch(() => undefined);
  }
}

/** A full disk or quota is for the client to know (507), not a server error (500). */
export function diskError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new StorageError(507, 'Not enough free disk space') : err;
}

function parentOf(relative: string): string {
  return relative.includes('/') ? relative.slice(0, relative.lastIndexOf('/')) : '';
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Hashes a file through one buffer, read into again and again. A read stream would allocate a fresh 64 KB buffer
 * per chunk and leave them to the GC: on a 100 MB file that grew the main malloc arena by ~17 MB of holes that
 * glibc never gave back. */
export async function sha1File(path: string): Promise<string> {
  const h = createHash('sha1');
  const buf = Buffer.allocUnsafeSlow(HASH_READ_SIZE);
  const fh = await open(path, 'r');
  try {
    for (let n; (n = (await fh.read(buf, 0, HASH_READ_SIZE, null)).bytesRead) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}
