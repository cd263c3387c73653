// JSON read from disk (settings, files metadata, history) or sent by a client cannot reach Object.prototype:
// `__proto__`, `constructor` and `prototype` keys are dropped at parse, at every depth, and the merge over the
// defaults never assigns through them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono/tiny';
import { readJsonObject } from '../../src/api/http.js';
import { type Settings, defaultSettings } from '../../src/config/settings.js';
import { History } from '../../src/jobs/history.js';
import { createLogger } from '../../src/log.js';
import { JsonStore } from '../../src/store/json-store.js';
import { gantryRig } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';

const PROBES = ['polluted', 'pollutedDeep', 'pollutedDeeper', 'pollutedCtor', 'pollutedFiles', 'pollutedArray', 'pollutedHistory', 'pollutedBody', 'pollutedBodyDeep'];
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/** Every path at which an own forbidden key sits (JSON.parse makes `__proto__` an ordinary own key). */
function forbiddenKeys(v: unknown, at = '$'): string[] {
  if (typeof v !== 'object' || v === null) return [];
  const out: string[] = [];
  for (const [k, child] of Object.entries(v)) {
    if (FORBIDDEN.includes(k)) out.push(`${at}.${k}`);
    out.push(...forbiddenKeys(child, `${at}.${k}`));
  }
  return out;
}

function assertPrototypeClean(): void {
  const plain: Record<string, unknown> = {};
  for (const p of PROBES) assert.equal(plain[p], undefined, `({}).${p} was set: Object.prototype is polluted`);
  assert.deepEqual(Object.keys(Object.prototype), []);
}

/** A failing run must not leave the pollution to the tests after it. */
function unpollute(): void {
  for (const p of PROBES) delete (Object.prototype as Record<string, unknown>)[p];
}

const SETTINGS = `{
  "__proto__": { "polluted": true },
  "constructor": { "prototype": { "pollutedCtor": true } },
  "appearance": { "name": "Kept", "__proto__": { "pollutedDeep": true }, "constructor": { "prototype": { "pollutedCtor": true } } },
  "printerProfile": { "axes": { "x": { "speed": 1234, "__proto__": { "pollutedDeeper": true } } } }
}`;

const FILES = `{
  "files": {
    "__proto__": { "pollutedFiles": true },
    "a.gcode": { "hash": "1", "display": "A", "prints": { "success": 0, "failure": 0 }, "printTimes": [],
                 "userdata": { "__proto__": { "pollutedDeep": true }, "list": [{ "constructor": { "prototype": { "pollutedArray": true } } }] } },
    "b.gcode": { "hash": "2", "display": "B", "prints": { "success": 0, "failure": 0 }, "printTimes": [], "prototype": { "x": 1 } }
  }
}`;

test('settings.json, files.json and history.jsonl with __proto__ / constructor.prototype at several depths load without polluting', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, 'settings.json'), SETTINGS);
    await writeFile(join(dir, 'files.json'), FILES);
    const log = createLogger('silent');
    const settings = await JsonStore.open<Settings>(join(dir, 'settings.json'), defaultSettings(), log);
    const files = await JsonStore.open<{ files: Record<string, unknown> }>(join(dir, 'files.json'), { files: {} }, log);
    assertPrototypeClean();
    // the legitimate values around the bad keys still load
    assert.equal(settings.data.appearance.name, 'Kept');
    assert.equal(settings.data.printerProfile.axes.x.speed, 1234);
    assert.deepEqual(Object.keys(files.data.files), ['a.gcode', 'b.gcode']);
    assert.deepEqual(forbiddenKeys(settings.data), []);
    assert.deepEqual(forbiddenKeys(files.data), []);
    // and a save writes none of them back
    await settings.update((s) => (s.appearance.name = 'Saved'));
    assert.deepEqual(forbiddenKeys(JSON.parse(JSON.stringify(settings.data))), []);

    const history = new History(join(dir, 'history.jsonl'));
    await writeFile(history.path, `{"id":"1","result":"success","__proto__":{"pollutedHistory":true},"file":{"constructor":{"prototype":{"pollutedHistory":true}}}}\n`);
    const entries = await history.all();
    assert.equal(entries.length, 1);
    assert.deepEqual(forbiddenKeys(entries), []);
    assertPrototypeClean();
  } finally {
    unpollute();
    await cleanup();
  }
});

test('readJsonObject drops the keys from request bodies at every depth', async () => {
  const app = new Hono();
  app.post('/echo', async (c) => {
    const body = await readJsonObject(c);
    return c.json({ forbidden: forbiddenKeys(body), keys: Object.keys(body) });
  });
  const res = await app.request('/echo', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"__proto__":{"pollutedBody":true},"a":{"constructor":{"prototype":{"pollutedBodyDeep":true}},"b":[{"__proto__":{"x":1},"prototype":2}]},"ok":1}',
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { forbidden: [], keys: ['a', 'ok'] });
  assertPrototypeClean();
});

test('POST /api/settings with __proto__ in the body applies the real fields and pollutes nothing, live or after a restart', async () => {
  const { dir, cleanup } = await tempDir();
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const rig = await gantryRig({ serial: 'NONE', camera: 'none', dataDir });
  try {
    const res = await fetch(`${rig.gantry.url}/api/settings`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Api-Key': rig.gantry.apiKey },
      body: '{"__proto__":{"pollutedBody":true},"appearance":{"name":"Bench","__proto__":{"pollutedBodyDeep":true}},"constructor":{"prototype":{"pollutedBody":true}}}',
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { appearance: { name: string } }).appearance.name, 'Bench');
    assertPrototypeClean();
    await rig.restart();
    assert.equal(rig.gantry.settings.data.appearance.name, 'Bench');
    assertPrototypeClean();
  } finally {
    unpollute();
    await rig.close();
    await cleanup();
  }
});
