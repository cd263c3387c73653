// One change written to several JSON files, all or none as far as anyone reading them after a crash can tell (a
// printer's own settings in printers.json and the Gantry-wide ones in settings.json, saved from one form).
//
// Each file's new content is first staged whole beside it (synced temp files, named uniquely per save so that no
// later save ever writes under a name an earlier journal points at). Then a journal is written (temp + sync +
// rename: it exists whole or not at all): that is the commit point. It names each staged file and carries the
// file's whole content and its sha256 (these files are small), so finishing it never depends on a temp file still
// being there or being the right one. Then each temp is renamed over its file and the journal removed.
//
// If putting the files in place fails after the commit point, the change counts as made (the stores hold it) and
// the journal stays: the stores refuse every later write to either file until the journal is finished (retried
// before each one, json-store.ts), so no newer save is ever overwritten by an older journal. After a crash,
// `recoverCommit` at start (before any of the files is opened) finishes what a journal names; staged temps without
// a journal are removed when their file is read (durable-json-file.ts), so the files keep their old content.
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';

export interface Staged {
  /** the staged content */
  tmp: string;
  /** the file it replaces */
  path: string;
  /** the staged content itself and its sha256: what the file must hold once the save is finished */
  content: string;
  sha256: string;
}

/** a journal entry as read back: an older Gantry's journal has no content */
interface Journaled extends Omit<Staged, 'content' | 'sha256'> {
  content?: string;
  sha256?: string;
}

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** a name no other save (of this process or another) uses */
export const uniqueTag = (): string => `${process.pid}-${randomBytes(6).toString('hex')}`;

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Writes the journal (the commit point), then puts every staged file in place and removes the journal. Rejects only
 * when the journal could not be written: nothing was changed then. Resolves true when the save is finished, false
 * when it was committed but not finished (logged): the journal stays, and must be finished (`recoverCommit`) before
 * either file is written again. */
export async function commitStaged(journal: string, staged: Staged[], log: Logger): Promise<boolean> {
  const tmp = `${journal}.tmp-${uniqueTag()}`;
  try {
    await writeSynced(tmp, JSON.stringify({ staged }) + '\n');
    await rename(tmp, journal);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // committed: the journal is there, whole. A folder sync that fails now only puts its survival over a power cut in
  // doubt; reporting the save failed would leave a journal behind that a later start applies anyway.
  await syncDir(dirname(journal)).catch((err: Error) => log.error(`the save journal ${journal} is written, but syncing its folder failed (${err.message}); a power cut now may undo the save`));
  try {
    await finish(staged, log);
    await unlink(journal);
    await syncDir(dirname(journal)).catch(() => undefined);
    return true;
  } catch (err) {
    log.error(`a save of ${names(staged)} was cut short (${(err as Error).message}); it is kept in ${journal} and finished before either file is written again, or at the next start`);
    return false;
  }
}

const names = (staged: Journaled[]): string => staged.map((s) => basename(s.path)).join(' and ');

async function hashOf(path: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Puts each file's staged content in place: its temp when that holds the content, else the content the journal
 * carries, written anew; a file that holds it already is left alone. */
async function finish(staged: Journaled[], log: Logger): Promise<void> {
  for (const s of staged) {
    const tmpHash = await hashOf(s.tmp);
    if (s.content === undefined) {
      // a journal of an older Gantry: no content to check against or to write again
      if (tmpHash !== undefined) await rename(s.tmp, s.path);
      else log.warn(`${basename(s.tmp)} named by an older save journal is gone; ${basename(s.path)} is left as it is`);
      continue;
    }
    if (tmpHash === s.sha256) {
      await rename(s.tmp, s.path);
      continue;
    }
    if (tmpHash !== undefined) await unlink(s.tmp);
    if ((await hashOf(s.path)) === s.sha256) continue;
    // the temp is gone or not the staged content: written again from the journal
    const again = `${s.path}.tmp-${uniqueTag()}-commit`;
    try {
      await writeSynced(again, s.content);
      await rename(again, s.path);
    } catch (err) {
      await unlink(again).catch(() => undefined);
      throw err;
    }
  }
  for (const dir of new Set(staged.map((s) => dirname(s.path)))) await syncDir(dir);
}

/** Finishes a change whose journal was written; nothing to do without one. At start, before the files are opened,
 * and before a store writes either file after a save that was committed but not finished. Resolves true when it
 * finished one. Any failure rejects with an error naming the journal. */
export async function recoverCommit(journal: string, log: Logger, cutShortBy = 'a stop'): Promise<boolean> {
  const dir = dirname(journal);
  try {
    // the journal's own temp, from a save killed before its commit point: never a journal, only litter
    const prefix = `${basename(journal)}.tmp-`;
    for (const n of await readdir(dir).catch(() => [] as string[])) if (n.startsWith(prefix)) await unlink(join(dir, n)).catch(() => undefined);
    let text: string;
    try {
      text = await readFile(journal, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    let staged: Journaled[];
    try {
      staged = (JSON.parse(text) as { staged: Journaled[] }).staged;
      // only files of this folder, each from its own temp: a journal never moves anything anywhere else
      const ok =
        Array.isArray(staged) &&
        staged.every(
          (s) =>
            typeof s?.path === 'string' &&
            typeof s.tmp === 'string' &&
            (s.content === undefined ? s.sha256 === undefined : typeof s.content === 'string' && s.sha256 === sha256(s.content)) &&
            dirname(s.path) === dir &&
            dirname(s.tmp) === dir &&
            basename(s.tmp).startsWith(`${basename(s.path)}.tmp-`),
        );
      if (!ok) throw new Error('not a list of staged files of this folder, each with its content');
    } catch (err) {
      const aside = `${journal}.corrupt-${Date.now()}`;
      await writeFile(aside, text).catch(() => undefined);
      await unlink(journal);
      log.error(`${journal} is not a save journal (${(err as Error).message}); moved aside to ${aside}, the files keep what they have`);
      return false;
    }
    await finish(staged, log);
    await unlink(journal);
    await syncDir(dir).catch(() => undefined);
    log.warn(`finished a save cut short by ${cutShortBy}: ${names(staged)} ${staged.length === 1 ? 'is' : 'are'} as that save left ${staged.length === 1 ? 'it' : 'them'} (${journal})`);
    return true;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.error(`could not finish the save journal ${journal}: ${e.message}`);
    throw Object.assign(new Error(`could not finish the save journal ${basename(journal)}: ${e.code ? e.message.split(',')[0] : e.message}`, { cause: err }), { code: e.code });
  }
}

/** The journal of the settings files (settings.json and printers.json) in a data folder. */
export const settingsJournal = (dataDir: string): string => join(dataDir, 'settings-commit.json');
