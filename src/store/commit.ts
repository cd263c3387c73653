// One change written to several JSON files, all or none as far as anyone reading them after a crash can tell (a
// printer's own settings in printers.json and the Gantry-wide ones in settings.json, saved from one form).
//
// Each file's new content is first staged whole beside it (synced temp files). Then a journal naming the staged
// files is written (temp + sync + rename: it exists whole or not at all): that is the commit point. Then each temp is
// renamed over its file and the journal removed. After a crash, `recoverCommit` at start (before any of the files is
// opened) finishes what a journal names; staged temps without a journal are removed when their file is read
// (durable-json-file.ts), so the files keep their old content, every one of them.
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';

export interface Staged {
  /** the staged content */
  tmp: string;
  /** the file it replaces */
  path: string;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes the journal (the commit point), then puts every staged file in place and removes the journal. Rejects only
 * when the journal could not be written: nothing was changed then. A failure after it is logged, and finished at the
 * next start; the change counts as made. */
export async function commitStaged(journal: string, staged: Staged[], log: Logger): Promise<void> {
  const tmp = `${journal}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ staged }) + '\n', 'utf8');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, journal);
    await syncDir(dirname(journal));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    await finish(staged);
    await unlink(journal);
    await syncDir(dirname(journal)).catch(() => undefined);
  } catch (err) {
    log.error(`a save of ${staged.map((s) => basename(s.path)).join(' and ')} was cut short (${(err as Error).message}); it is finished at the next start`);
  }
}

async function finish(staged: Staged[]): Promise<void> {
  for (const s of staged) {
    try {
      await rename(s.tmp, s.path);
    } catch (err) {
      // already in place (a recovery cut short in turn)
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  for (const dir of new Set(staged.map((s) => dirname(s.path)))) await syncDir(dir);
}

/** At start, before the files are opened: finishes a change whose journal was written; nothing to do without one. */
export async function recoverCommit(journal: string, log: Logger): Promise<void> {
  let text: string;
  try {
    text = await readFile(journal, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const dir = dirname(journal);
  let staged: Staged[];
  try {
    staged = (JSON.parse(text) as { staged: Staged[] }).staged;
    // only files of this folder, each from its own temp: a journal never moves anything anywhere else
    const ok = Array.isArray(staged) && staged.every((s) => typeof s?.path === 'string' && typeof s.tmp === 'string' && dirname(s.path) === dir && dirname(s.tmp) === dir && basename(s.tmp).startsWith(`${basename(s.path)}.tmp-`));
    if (!ok) throw new Error('not a list of staged files of this folder');
  } catch (err) {
    const aside = `${journal}.corrupt-${Date.now()}`;
    await writeFile(aside, text).catch(() => undefined);
    await unlink(journal);
    log.error(`${journal} is not a save journal (${(err as Error).message}); moved aside to ${aside}, the files keep what they have`);
    return;
  }
  await finish(staged);
  await unlink(journal);
  await syncDir(dir).catch(() => undefined);
  log.warn(`finished a save cut short by a stop: ${staged.map((s) => basename(s.path)).join(' and ')} ${staged.length === 1 ? 'is' : 'are'} as that save left ${staged.length === 1 ? 'it' : 'them'}`);
}

/** The journal of the settings files (settings.json and printers.json) in a data folder. */
export const settingsJournal = (dataDir: string): string => join(dataDir, 'settings-commit.json');
