// A save that spans two files (src/store/commit.ts): once committed it is finished before either file is written
// again, so an older journal never overwrites a newer save; recovery puts in place what the journal carries (never a
// temp that happens to have the name, never "done" because a temp is missing); and the journal's own litter goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { ServiceError } from '../../src/service-error.js';
import { createHash } from 'node:crypto';
import { recoverCommit } from '../../src/store/commit.js';
import { JsonStore, change } from '../../src/store/json-store.js';
import { tempDir } from '../helpers/tmp.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

interface V {
  v: number;
}

const onDisk = async (path: string): Promise<number> => (JSON.parse(await readFile(path, 'utf8')) as V).v;

test('a save committed but not put in place is finished before the next write, which is refused until it can be', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const logs: string[] = [];
    const log = createLogger('info', 't', (l) => logs.push(l));
    const journal = join(dir, 'settings-commit.json');
    const printers = await JsonStore.open<V>(join(dir, 'printers.json'), { v: 0 }, log);
    const settings = await JsonStore.open<V>(join(dir, 'settings.json'), { v: 0 }, log);
    await printers.update((d) => (d.v = 0));
    await settings.update((d) => (d.v = 0));
    // settings.json cannot be replaced (a non-empty directory there) once the journal is written
    await rm(settings.file);
    await mkdir(join(settings.file, 'blocker'), { recursive: true });
    await JsonStore.transaction(journal, [change(printers, (d) => (d.v = 1)), change(settings, (d) => (d.v = 1))]);
    assert.equal(settings.data.v, 1, 'committed: the change counts as made');
    assert.equal(await onDisk(printers.file), 1);
    assert.ok(logs.some((l) => /ERROR.*a save of printers\.json and settings\.json was cut short/.test(l)), logs.join('\n'));
    // while it cannot be finished, no write to either file: it would be overwritten by the journal later
    for (const store of [settings, printers]) {
      const err = await store.update((d) => (d.v = 2)).then(
        () => assert.fail('refused while the earlier save is not finished'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ServiceError, String(err));
      assert.match(err.message, /^Could not save (settings|printers)\.json: an earlier save of printers\.json and settings\.json is not finished yet.*nothing was changed/);
    }
    assert.equal(settings.data.v, 1);
    // room again: the journal is finished first, then the later save lands over it
    await rm(settings.file, { recursive: true });
    await settings.update((d) => (d.v = 2));
    assert.equal(await onDisk(settings.file), 2);
    assert.deepEqual((await readdir(dir)).sort(), ['printers.json', 'settings.json'], 'no journal, no temps');
    // a restart: recovery at start, then the files opened again
    await recoverCommit(journal, log);
    const again = await JsonStore.open<V>(settings.file, { v: 0 }, log);
    assert.equal(again.data.v, 2, 'the later save survives a restart');
    // and the other store is free again too
    await printers.update((d) => (d.v = 3));
    assert.equal(await onDisk(printers.file), 3);
  } finally {
    await cleanup();
  }
});

test('each save stages under names of its own', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const log = createLogger('silent');
    const journal = join(dir, 'settings-commit.json');
    const a = await JsonStore.open<V>(join(dir, 'a.json'), { v: 0 }, log);
    const b = await JsonStore.open<V>(join(dir, 'b.json'), { v: 0 }, log);
    const seen = new Set<string>();
    for (const v of [1, 2]) {
      await JsonStore.transaction(journal, [change(a, (d) => (d.v = v)), change(b, (d) => (d.v = v))]);
      assert.deepEqual((await readdir(dir)).sort(), ['a.json', 'b.json']);
    }
    // what the adapter stages: a name no other stage has
    const adapter = (a as unknown as { db: { adapter: { stage: (d: V) => Promise<{ tmp: string }> } } }).db.adapter;
    for (let i = 0; i < 3; i++) seen.add((await adapter.stage({ v: i })).tmp);
    assert.equal(seen.size, 3);
    for (const t of seen) assert.match(t, /a\.json\.tmp-\d+-[0-9a-f]+-commit$/);
  } finally {
    await cleanup();
  }
});

/** a journal as a save of `files` (name → v) writes it, its temps at `tmps` */
async function writeJournal(dir: string, files: Record<string, number>, tmps: Record<string, string>): Promise<string> {
  const journal = join(dir, 'settings-commit.json');
  const staged = Object.entries(files).map(([name, v]) => {
    const content = JSON.stringify({ v }, null, 2) + '\n';
    return { tmp: join(dir, tmps[name]!), path: join(dir, name), content, sha256: sha256(content) };
  });
  await writeFile(journal, JSON.stringify({ staged }));
  return journal;
}

test('recovery puts in place what the journal carries: not a temp of another save under the name, not nothing when the temp is gone', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const logs: string[] = [];
    const log = createLogger('info', 't', (l) => logs.push(l));
    await writeFile(join(dir, 'printers.json'), JSON.stringify({ v: 0 }));
    await writeFile(join(dir, 'settings.json'), JSON.stringify({ v: 0 }));
    const journal = await writeJournal(dir, { 'printers.json': 1, 'settings.json': 1 }, { 'printers.json': 'printers.json.tmp-7-commit', 'settings.json': 'settings.json.tmp-7-commit' });
    // printers.json's temp holds a later, uncommitted save's content; settings.json's temp is gone
    await writeFile(join(dir, 'printers.json.tmp-7-commit'), JSON.stringify({ v: 99 }));
    await recoverCommit(journal, log);
    assert.equal(await onDisk(join(dir, 'printers.json')), 1, "the journal's content, not the uncommitted save's");
    assert.equal(await onDisk(join(dir, 'settings.json')), 1, 'written from the journal, not counted as done');
    assert.deepEqual((await readdir(dir)).sort(), ['printers.json', 'settings.json']);
    assert.ok(logs.some((l) => /finished a save cut short by a stop: printers\.json and settings\.json/.test(l)), logs.join('\n'));
  } finally {
    await cleanup();
  }
});

test("recovery removes the journal's own temp, and an error names the journal", async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const logs: string[] = [];
    const log = createLogger('info', 't', (l) => logs.push(l));
    // a journal's temp from a save killed before its commit point, with no journal
    await writeFile(join(dir, 'settings-commit.json.tmp-4242'), '{"staged":[');
    await recoverCommit(join(dir, 'settings-commit.json'), log);
    assert.deepEqual(await readdir(dir), []);
    // a journal that cannot be finished (its file's place is a non-empty directory)
    await writeFile(join(dir, 'settings.json.tmp-8-commit'), 'x');
    await mkdir(join(dir, 'settings.json', 'blocker'), { recursive: true });
    const journal = await writeJournal(dir, { 'settings.json': 1 }, { 'settings.json': 'settings.json.tmp-8-commit' });
    await assert.rejects(recoverCommit(journal, log), /could not finish the save journal settings-commit\.json/);
    assert.ok(logs.some((l) => /ERROR.*could not finish the save journal .*settings-commit\.json/.test(l)), logs.join('\n'));
  } finally {
    await cleanup();
  }
});
