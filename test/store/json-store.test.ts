// JsonStore: the merge over defaults keeps every entry of a free-form map, and an update is a transaction (a
// failed save changes nothing, in memory or on disk, and concurrent updates never lose each other's change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { ServiceError } from '../../src/service-error.js';
import { JsonStore, deepMerge } from '../../src/store/json-store.js';
import { tempDir } from '../helpers/tmp.js';

interface Meta {
  hash: string;
  display: string;
}
interface MetaFile {
  files: Record<string, Meta>;
}

test('deepMerge keeps every id of a free-form map (an empty default object), not only the first', () => {
  const patch = { files: { 'a.gcode': { hash: '1', display: 'A' }, 'b.gcode': { hash: '2', display: 'B' }, 'c.gcode': { hash: '3', display: 'C' } } };
  const merged = deepMerge({ files: {} }, structuredClone(patch));
  assert.deepEqual(merged, patch);
});

test('files metadata for several files survives reopening the store', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'files.json');
    const store = await JsonStore.open<MetaFile>(path, { files: {} }, createLogger('silent'));
    for (const [name, display] of [['My_Part_(v2).gcode', 'My Part (v2).gcode'], ['b.gcode', 'B'], ['c.gcode', 'C']] as const) {
      await store.update((m) => (m.files[name] = { hash: `h-${name}`, display }));
    }
    const again = await JsonStore.open<MetaFile>(path, { files: {} }, createLogger('silent'));
    assert.deepEqual(Object.keys(again.data.files), ['My_Part_(v2).gcode', 'b.gcode', 'c.gcode']);
    assert.equal(again.data.files['c.gcode']?.display, 'C');
  } finally {
    await cleanup();
  }
});

test('deepMerge keeps the kind of each default: no object over an array, no null over a set value', () => {
  const merged = deepMerge({ globs: ['a'], name: 'Gantry', admin: null }, { globs: { 0: 'x' }, name: null, admin: { key: 'k' } });
  assert.deepEqual(merged, { globs: ['a'], name: 'Gantry', admin: { key: 'k' } });
});

interface S {
  name: string;
  count: number;
}

test('a save that fails changes nothing: 500 with the reason, no temp file, memory as the file, and the store goes on working', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'settings.json');
    const logs: string[] = [];
    const store = await JsonStore.open<S>(path, { name: 'Gantry', count: 0 }, createLogger('info', 't', (l) => logs.push(l)));
    await store.update((s) => (s.name = 'Old'));
    // a directory where the file was: the temp file writes, the rename over it fails (EISDIR)
    await rm(path);
    await mkdir(join(path, 'blocker'), { recursive: true });
    const err = await store.update((s) => (s.name = 'New')).then(
      () => assert.fail('the update should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ServiceError, String(err));
    assert.equal(err.status, 500);
    assert.match(err.message, /^Could not save settings\.json: EISDIR: .*nothing was changed/);
    assert.doesNotMatch(err.message, new RegExp(dir), 'no server paths in the answer');
    assert.equal(store.data.name, 'Old', 'the running server keeps what the file had');
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), [], 'no temp file left');
    assert.ok(logs.some((l) => /ERROR.*could not save .*settings\.json/.test(l)), logs.join('\n'));
    // the blocker gone, the next update applies on top of the last saved state
    await rm(path, { recursive: true });
    await store.update((s) => s.count++);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { name: 'Old', count: 1 });
  } finally {
    await cleanup();
  }
});

test('concurrent updates never lose each other; one that throws changes nothing and does not block the next', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'settings.json');
    const store = await JsonStore.open<S>(path, { name: 'Gantry', count: 0 }, createLogger('silent'));
    const before = store.data;
    const results = await Promise.allSettled([
      store.update((s) => (s.name = 'Bench')),
      store.update((s) => {
        s.count = 99;
        throw new Error('half-done change');
      }),
      ...Array.from({ length: 10 }, () => store.update((s) => s.count++)),
    ]);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
    assert.deepEqual(store.data, { name: 'Bench', count: 10 });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { name: 'Bench', count: 10 });
    assert.deepEqual(before, { name: 'Gantry', count: 0 }, 'an update replaces the data; it never edits a copy someone holds');
  } finally {
    await cleanup();
  }
});
