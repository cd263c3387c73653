// The analysis queue with its real analysis process: results identical to analysing in-process, one process for a
// queue of files, gone when idle, and a process that dies fails that one file clearly while the next still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EventBus } from '../../src/events.js';
import { createLogger } from '../../src/log.js';
import { FileStorage } from '../../src/files/storage.js';
import { AnalysisQueue } from '../../src/files/analysis/analysis-queue.js';
import { analyzeFile } from '../../src/files/analysis/analyze.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { processAlive } from '../helpers/process.js';

const corpus = (name: string) => new URL(`../../../../shared/gcode/${name}`, import.meta.url);
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

async function rig(idleExitMs: number) {
  const { dir, cleanup } = await tempDir();
  const logs: string[] = [];
  const log = createLogger('debug', 'test', (l) => logs.push(l));
  const storage = await FileStorage.open(join(dir, 'files'), join(dir, 'files.json'), log);
  const queue = new AnalysisQueue(storage, join(dir, 'thumbnails'), () => ({ filamentDiameter: 1.75 }), new EventBus(), log, idleExitMs);
  /** puts a file in the folder and lets the storage adopt it, as a listing does */
  const add = async (name: string, from: URL | string) => {
    if (typeof from === 'string') await writeFile(join(dir, 'files', name), from);
    else await copyFile(from, join(dir, 'files', name));
    await storage.entry(name);
    return join(dir, 'files', name);
  };
  return {
    dir,
    storage,
    queue,
    logs,
    add,
    async close() {
      await queue.stop();
      await cleanup();
    },
  };
}

const gone = (pid: number) => !processAlive(pid);

test('results are the in-process analysis exactly, thumbnails included; a queue of files shares one process', async () => {
  const r = await rig(60_000);
  try {
    const thumbText = `; thumbnail begin 1x1 ${PNG_1X1.length}\n; ${PNG_1X1}\n; thumbnail end\nG28\nG1 X10 Y10 E1 F1200\n`;
    const files = {
      'ps_cube20.gcode': await r.add('ps_cube20.gcode', corpus('ps_cube20.gcode')),
      'cura_cube20.gcode': await r.add('cura_cube20.gcode', corpus('cura_cube20.gcode')),
      'thumb.gcode': await r.add('thumb.gcode', thumbText),
    };
    for (const name of Object.keys(files)) r.queue.enqueue(name);
    for (const name of Object.keys(files)) await r.queue.whenDone(name);
    assert.equal(r.queue.process.spawned, 1, 'three files waiting: one process start');
    for (const [name, path] of Object.entries(files)) {
      const own = await analyzeFile(path, { filamentDiameter: 1.75 });
      const stored = r.storage.metaFor(name)!.analysis!;
      const { thumbnails, hash, ...rest } = stored;
      const { thumbnails: ownThumbnails, ...ownRest } = own;
      assert.deepEqual(rest, ownRest, name);
      assert.equal(hash, r.storage.metaFor(name)!.hash);
      assert.equal(thumbnails.length, ownThumbnails.length, name);
      for (const [i, t] of thumbnails.entries()) {
        assert.deepEqual(await readFile(join(r.dir, 'thumbnails', t.file)), ownThumbnails[i]!.data, `${name} thumbnail ${i}`);
      }
    }
    assert.deepEqual(await readFile(join(r.dir, 'thumbnails', r.storage.metaFor('thumb.gcode')!.analysis!.thumbnails[0]!.file)), Buffer.from(PNG_1X1, 'base64'));
  } finally {
    await r.close();
  }
});

test('the analysis process exits once idle, and the next file starts a new one', async () => {
  const r = await rig(100);
  try {
    await r.add('a.gcode', corpus('ps_cube20.gcode'));
    r.queue.enqueue('a.gcode');
    const pid = await waitFor('the analysis process to start', () => r.queue.process.pid);
    await r.queue.whenDone('a.gcode');
    assert.ok(r.storage.metaFor('a.gcode')!.analysis);
    await waitFor('the idle analysis process to exit', () => gone(pid) && r.queue.process.pid === undefined);
    await r.add('b.gcode', corpus('cura_cube20.gcode'));
    r.queue.enqueue('b.gcode');
    await r.queue.whenDone('b.gcode');
    assert.ok(r.storage.metaFor('b.gcode')!.analysis, 'analysed by a fresh process');
    assert.equal(r.queue.process.spawned, 2);
  } finally {
    await r.close();
  }
});

test('a killed analysis process fails that file with a clear error (not retried on every listing); the next file analyses', async () => {
  const r = await rig(60_000);
  try {
    // a file whose bytes never come: a FIFO in its place, so the process is surely busy with it when it dies
    const path = await r.add('stuck.gcode', 'G28\n');
    await unlink(path);
    execFileSync('mkfifo', [path]);
    r.queue.enqueue('stuck.gcode');
    const pid = await waitFor('the analysis process to start', () => r.queue.process.pid);
    process.kill(pid, 'SIGKILL');
    await r.queue.whenDone('stuck.gcode');
    assert.match(r.queue.failure('stuck.gcode') ?? '', /the analysis process was killed \(SIGKILL\)/);
    assert.ok(r.logs.some((l) => /WARN .*analysis of stuck\.gcode failed: the analysis process was killed/.test(l)), 'logged');
    assert.equal(r.storage.metaFor('stuck.gcode')!.analysis, undefined);
    r.queue.enqueue('stuck.gcode'); // what every listing does for a file without analysis
    assert.equal(r.queue.busy, false, 'a failed file is not queued again until asked (or its bytes change)');
    await r.add('next.gcode', corpus('ps_cube20.gcode'));
    r.queue.enqueue('next.gcode');
    await r.queue.whenDone('next.gcode');
    assert.equal(r.storage.metaFor('next.gcode')!.analysis!.layers.count, 100);
    assert.equal(r.queue.process.spawned, 2);
  } finally {
    await r.close();
  }
});
