// Checkpoints at layer changes: one durable write at a time, at most one a second, the newest layer always written
// last; a job's end drops what waits, and a stop writes it at once.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointSaver } from '../../src/jobs/checkpoint-saver.js';
import type { Checkpoint, CheckpointFile } from '../../src/jobs/checkpoint.js';
import type { JsonStore } from '../../src/store/json-store.js';
import { createLogger } from '../../src/log.js';

const cp = (layer: number): Checkpoint => ({ path: 'a.gcode', hash: 'h', user: null, startedAt: 0, layer, filepos: layer * 100, z: layer / 5, e: 0, absoluteE: false, fan: 0, targets: { tools: {}, bed: null }, savedAt: 0 });

/** A store whose writes finish when the test says so; `written` lists the layers in the order they were saved. */
function fakeStore() {
  const data: CheckpointFile = { checkpoint: null };
  const written: (number | null)[] = [];
  const finish: (() => void)[] = [];
  const store = {
    data,
    update(fn: (d: CheckpointFile) => void): Promise<void> {
      fn(data);
      written.push(data.checkpoint?.layer ?? null);
      return new Promise<void>((r) => finish.push(r));
    },
  };
  return { store: store as unknown as JsonStore<CheckpointFile>, written, finishNext: async () => { finish.shift()?.(); await new Promise((r) => setImmediate(r)); } };
}

test('one write at a time, at most one a second, the newest waiting layer written next', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let now = 10_000;
    const { store, written, finishNext } = fakeStore();
    const saver = new CheckpointSaver(store, createLogger('silent'), 1000, () => now);
    saver.save(cp(1));
    assert.deepEqual(written, [1], 'the first layer is written at once');
    saver.save(cp(2));
    saver.save(cp(3));
    assert.deepEqual(written, [1], 'nothing more while that write is in flight');
    now += 50;
    await finishNext();
    assert.deepEqual(written, [1], 'and nothing before a second has passed since it started');
    now += 950;
    mock.timers.tick(950);
    assert.deepEqual(written, [1, 3], 'then only the newest layer');
    now += 5000;
    await finishNext();
    saver.save(cp(4));
    assert.deepEqual(written, [1, 3, 4], 'a layer after a quiet second is written at once');
    await finishNext();
  } finally {
    mock.timers.reset();
  }
});

test("a job's end drops the layer that waits; a stop writes it at once", async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const now = 10_000;
    const a = fakeStore();
    const ended = new CheckpointSaver(a.store, createLogger('silent'), 1000, () => now);
    ended.save(cp(1));
    ended.save(cp(2));
    const cancelled = ended.cancel();
    await a.finishNext();
    await cancelled;
    mock.timers.tick(5000);
    ended.save(cp(3));
    assert.deepEqual(a.written, [1], 'nothing after the end');

    const b = fakeStore();
    const stopped = new CheckpointSaver(b.store, createLogger('silent'), 1000, () => now);
    stopped.save(cp(1));
    await b.finishNext();
    stopped.save(cp(2)); // waits for the interval
    assert.deepEqual(b.written, [1]);
    stopped.flush();
    assert.deepEqual(b.written, [1, 2], 'the waiting layer is written on stop, not a second later');

    const c = fakeStore();
    const busy = new CheckpointSaver(c.store, createLogger('silent'), 1000, () => now);
    busy.save(cp(1));
    busy.save(cp(2));
    busy.flush(); // layer 1 still being written
    await c.finishNext();
    assert.deepEqual(c.written, [1, 2], 'a stop during a write writes the waiting layer right after it');
  } finally {
    mock.timers.reset();
  }
});
