// Backup and restore of the data directory. A backup is a tar.gz of an allow-list of what makes an install (settings,
// accounts and keys, files and their metadata, history, queue; timelapses on request), never run/, temp files or an
// earlier restore's leftovers. A restore checks the whole archive first (only plain files and folders, every path
// inside the allow-list, sizes within bounds and the free space, the JSON files parse), unpacks it into a staging
// folder inside the data directory, and swaps it in at the next start, before anything has opened a file: renames,
// one item at a time, the replaced items kept in restore-previous/. A power cut mid-swap is finished at the next start.
//
// The tar format is node-tar's (npm's own, maintained with it): pax headers, long names, gzip, strict parsing and
// path checks, which hand-written code would have to get right again.
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create, extract, list, type ReadEntry } from 'tar';
import type { Logger } from '../log.js';
import { ServiceError } from '../service-error.js';

/** What a backup holds, relative to the data directory. Folders end in /. */
export const BACKUP_ITEMS = ['settings.json', 'keys.json', 'files.json', 'files/', 'thumbnails/', 'queue.json', 'checkpoint.json', 'history.jsonl'] as const;
/** Only with ?timelapses=1 (videos are large); a restore without it keeps the timelapses there are. */
export const TIMELAPSE_ITEM = 'timelapse/';
const ITEMS: readonly string[] = [...BACKUP_ITEMS, TIMELAPSE_ITEM];
/** A backup without these is not one. */
const REQUIRED = ['settings.json', 'keys.json'];
/** Read and parsed during the check: each must be a JSON object. */
const JSON_FILES = ['settings.json', 'keys.json', 'files.json', 'queue.json', 'checkpoint.json'];

export const PENDING_DIR = 'restore-pending';
export const PREVIOUS_DIR = 'restore-previous';
const STAGING_DIR = 'restore-staging';
const MANIFEST = '.gantry-restore.json';

export interface RestoreLimits {
  /** unpacked bytes in all */
  maxUnpacked: number;
  maxEntries: number;
  /** each JSON file and history.jsonl, read whole during the check */
  maxJsonBytes: number;
  /** what must stay free on the disk after unpacking */
  reserveBytes: number;
}

export const DEFAULT_LIMITS: RestoreLimits = { maxUnpacked: 8 * 1024 ** 3, maxEntries: 200_000, maxJsonBytes: 64 * 1024 ** 2, reserveBytes: 64 * 1024 ** 2 };

/** Temp files and leftovers inside the backed-up folders. */
function skipped(path: string): boolean {
  const base = posix.basename(path);
  return path.startsWith('files/.tmp') || base.endsWith('.tmp') || base.startsWith('.tmp-') || /\.corrupt-/.test(base);
}

/** The backup as a gzip stream. */
export async function createBackup(dataDir: string, opts: { timelapses: boolean }): Promise<Readable> {
  const present: string[] = [];
  for (const item of opts.timelapses ? ITEMS : BACKUP_ITEMS) {
    const s = await stat(join(dataDir, item)).catch(() => undefined);
    if (s && (item.endsWith('/') ? s.isDirectory() : s.isFile())) present.push(item.replace(/\/$/, ''));
  }
  // a symlink could only point outside: it is left out (and a restore would refuse it)
  return create({ gzip: true, cwd: dataDir, portable: true, filter: (path, s) => !('isSymbolicLink' in s && s.isSymbolicLink()) && !skipped(path.replace(/^\.\//, '')) }, present) as unknown as Readable;
}

/** The archive path's meaning, or why it is refused. */
function checkPath(raw: string): string {
  const path = raw.replace(/^\.\//, '').replace(/\/+$/, '');
  if (path === '' || path === '.') return '';
  if (path.includes('\0') || path.includes('\\')) throw new ServiceError(400, `The backup has an entry with a bad name: ${JSON.stringify(raw.slice(0, 100))}`);
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw new ServiceError(400, `The backup has an absolute path: ${raw.slice(0, 200)}`);
  if (path.split('/').some((s) => s === '..' || s === '')) throw new ServiceError(400, `The backup has a path that leaves its folder: ${raw.slice(0, 200)}`);
  const top = path.split('/')[0]!;
  if (!ITEMS.some((i) => i === top || i === `${top}/`)) throw new ServiceError(400, `The backup has ${top}, which is not part of a Gantry backup`);
  if (skipped(path)) throw new ServiceError(400, `The backup has a temp file: ${raw.slice(0, 200)}`);
  return path;
}

export interface CheckedArchive {
  items: string[];
  entries: number;
  unpacked: number;
}

/** Reads the whole archive and refuses it (400, with what is wrong) unless every entry is fine. */
export async function checkArchive(file: string, dataDir: string, limits: RestoreLimits = DEFAULT_LIMITS): Promise<CheckedArchive> {
  const items = new Set<string>();
  const texts = new Map<string, Buffer[]>();
  let entries = 0;
  let unpacked = 0;
  let problem: Error | undefined;
  // list() without a file is the parser itself: the first problem aborts it, the rest is not even decompressed
  // (node-tar also aborts past a 1000:1 decompression ratio)
  const fail = (err: Error) => {
    problem ??= err;
    parser.abort(err);
  };
  const onReadEntry = (entry: ReadEntry) => {
    if (problem) return void entry.resume();
    try {
      entries++;
      if (entries > limits.maxEntries) throw new ServiceError(400, `The backup has more than ${limits.maxEntries} entries`);
      const path = checkPath(entry.path);
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'Directory') {
        throw new ServiceError(400, `The backup has a ${entry.type} at ${path}: only files and folders are restored`);
      }
      if (path === '') return void entry.resume();
      const top = path.split('/')[0]!;
      const isDir = entry.type === 'Directory' || path.includes('/');
      items.add(ITEMS.includes(`${top}/`) ? `${top}/` : top);
      if (!isDir && !ITEMS.includes(top)) throw new ServiceError(400, `The backup has a file named ${top}, where a folder belongs`);
      if (path.includes('/') && !ITEMS.includes(`${top}/`)) throw new ServiceError(400, `The backup has ${top} as a folder, where a file belongs`);
      unpacked += entry.size ?? 0;
      if (unpacked > limits.maxUnpacked) throw new ServiceError(400, `The backup unpacks to more than ${Math.round(limits.maxUnpacked / 1024 ** 2)} MB`);
      if (JSON_FILES.includes(path) || path === 'history.jsonl') {
        if ((entry.size ?? 0) > limits.maxJsonBytes) throw new ServiceError(400, `${path} in the backup is larger than ${Math.round(limits.maxJsonBytes / 1024 ** 2)} MB`);
        const chunks: Buffer[] = [];
        texts.set(path, chunks);
        entry.on('data', (c: Buffer) => chunks.push(c));
        return;
      }
      entry.resume();
    } catch (err) {
      fail(err as Error);
      entry.resume();
    }
  };
  const parser = list({ strict: true, onReadEntry });
  try {
    await pipeline(createReadStream(file), parser as unknown as NodeJS.WritableStream);
  } catch (err) {
    // a truncated or corrupt gzip, a bad header: what node-tar says, as the client's error
    problem ??= new ServiceError(400, `The backup is not a readable .tar.gz: ${(err as Error).message}`);
  }
  if (problem) throw problem;
  if (entries === 0) throw new ServiceError(400, 'The backup is empty');
  for (const r of REQUIRED) if (!items.has(r)) throw new ServiceError(400, `The backup has no ${r}: it is not a Gantry backup`);
  for (const [path, chunks] of texts) {
    const text = Buffer.concat(chunks).toString('utf8');
    const lines = path === 'history.jsonl' ? text.split('\n').filter((l) => l.trim() !== '') : [text];
    for (const [i, line] of lines.entries()) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new ServiceError(400, `${path}${lines.length > 1 ? ` line ${i + 1}` : ''} in the backup is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ServiceError(400, `${path} in the backup is not a JSON object`);
    }
  }
  const fs = await statfs(dataDir);
  const free = fs.bavail * fs.bsize;
  if (unpacked + limits.reserveBytes > free) throw new ServiceError(507, `Not enough free disk space to restore this backup: it needs ${Math.round(unpacked / 1024 ** 2)} MB, ${Math.round(free / 1024 ** 2)} MB are free`);
  return { items: [...items].sort(), entries, unpacked };
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Checks the archive, unpacks it next to the data and marks it to be swapped in at the next start. Nothing of the
 * current data is touched: a refused archive leaves no trace. */
export async function stageRestore(file: string, dataDir: string, limits: RestoreLimits = DEFAULT_LIMITS): Promise<CheckedArchive> {
  const checked = await checkArchive(file, dataDir, limits);
  const staging = join(dataDir, STAGING_DIR);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  try {
    // the same checks again as a filter: whatever is unpacked was checked, whatever the parser does
    await extract({
      file,
      cwd: staging,
      strict: true,
      preserveOwner: false,
      noChmod: true,
      filter: (path, entry) => {
        const type = 'type' in entry ? entry.type : undefined;
        try {
          checkPath(path);
        } catch {
          return false;
        }
        return type === 'File' || type === 'OldFile' || type === 'Directory';
      },
    });
    await writeFile(join(staging, MANIFEST), JSON.stringify({ id: `${Date.now()}`, items: checked.items }));
    await fsyncDir(staging);
    await rm(join(dataDir, PENDING_DIR), { recursive: true, force: true });
    await rename(staging, join(dataDir, PENDING_DIR));
    await fsyncDir(dataDir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    const { code } = err as NodeJS.ErrnoException;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new ServiceError(507, 'Not enough free disk space to restore this backup');
    throw err;
  }
  return checked;
}

/** At start, before any file of the data directory is opened: swaps a staged restore in, if there is one. Each item
 * of the backup replaces the current one; items the backup lacks go too (it is the state of its day), except the
 * timelapses when it has none. Replaced items go to restore-previous/ (the last restore's only). */
export async function applyPendingRestore(dataDir: string, log: Logger): Promise<boolean> {
  await rm(join(dataDir, STAGING_DIR), { recursive: true, force: true }); // an unpack cut short: never finished
  const pending = join(dataDir, PENDING_DIR);
  const manifest = await readFile(join(pending, MANIFEST), 'utf8').catch(() => undefined);
  if (manifest === undefined) {
    await rm(pending, { recursive: true, force: true });
    return false;
  }
  const { id, items } = JSON.parse(manifest) as { id: string; items: string[] };
  const previous = join(dataDir, PREVIOUS_DIR);
  // the previous folder belongs to this restore once it carries its id (a swap cut short by a power cut goes on)
  const prevId = await readFile(join(previous, MANIFEST), 'utf8').then((t) => (JSON.parse(t) as { id: string }).id, () => undefined);
  if (prevId !== id) {
    await rm(previous, { recursive: true, force: true });
    await mkdir(previous, { mode: 0o700 });
    await writeFile(join(previous, MANIFEST), JSON.stringify({ id }));
  }
  const exists = (p: string) => stat(p).then(() => true, () => false);
  for (const item of ITEMS) {
    const name = item.replace(/\/$/, '');
    const current = join(dataDir, name);
    const incoming = join(pending, name);
    const inBackup = items.includes(item);
    if (!inBackup && item === TIMELAPSE_ITEM) continue;
    if (inBackup && !(await exists(incoming))) continue; // swapped in before a power cut
    if (await exists(current)) {
      if (await exists(join(previous, name))) await rm(current, { recursive: true, force: true });
      else await rename(current, join(previous, name));
    }
    if (inBackup) await rename(incoming, current);
  }
  await fsyncDir(dataDir);
  await rm(pending, { recursive: true, force: true });
  log.warn(`restored a backup (${items.join(', ')}); what it replaced is in ${previous}`);
  return true;
}

/** Names of temp files a restore upload leaves if the process dies during it. */
export const UPLOAD_PREFIX = 'restore-upload-';

export async function removeRestoreLeftovers(dataDir: string): Promise<void> {
  for (const name of await readdir(dataDir).catch(() => [] as string[])) {
    if (name.startsWith(UPLOAD_PREFIX)) await rm(join(dataDir, name), { force: true });
  }
}

/** For tests and the page: a backup's listing. */
export async function archiveEntries(file: string): Promise<string[]> {
  const out: string[] = [];
  await list({ file, onReadEntry: (e) => void out.push(`${e.type === 'Directory' ? 'd' : e.type === 'File' ? 'f' : '?'} ${e.path}`) });
  return out;
}

