import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { JsonStore } from '../../src/store/json-store.js';
import { tempDir } from '../helpers/tmp.js';

interface S {
  name: string;
  serial: { port: string; baud: number };
}
const defaults: S = { name: 'Gantry', serial: { port: 'AUTO', baud: 0 } };

test('a corrupt settings file is moved aside with a clear log line, and defaults are used', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'settings.json');
    await writeFile(path, '{"name": "half-writ');
    const logs: string[] = [];
    const store = await JsonStore.open(path, defaults, createLogger('info', 't', (l) => logs.push(l)));
    assert.deepEqual(store.data, defaults);
    const names = await readdir(dir);
    assert.ok(names.some((n) => n.startsWith('settings.json.corrupt-')), names.join());
    assert.ok(logs.some((l) => /ERROR.*settings\.json is corrupt.*moved it to/.test(l)), logs.join('\n'));
  } finally {
    await cleanup();
  }
});

test('writes land whole and in order; stale temp files from a crash are ignored and removed', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'settings.json');
    await writeFile(`${path}.tmp-99999`, '{"name": "never finished');
    const store = await JsonStore.open(path, defaults, createLogger('silent'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.update((d) => (d.serial.baud = i))));
    const onDisk = JSON.parse(await readFile(path, 'utf8')) as S;
    assert.equal(onDisk.serial.baud, 19);
    assert.deepEqual((await readdir(dir)).sort(), ['settings.json']);
  } finally {
    await cleanup();
  }
});

test('a file from an older version is merged over the defaults; wrong types are ignored', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'settings.json');
    await writeFile(path, JSON.stringify({ name: 'Bench printer', serial: { baud: 'fast' }, obsolete: true }));
    const store = await JsonStore.open(path, defaults, createLogger('silent'));
    assert.deepEqual(store.data, { name: 'Bench printer', serial: { port: 'AUTO', baud: 0 } });
  } finally {
    await cleanup();
  }
});
