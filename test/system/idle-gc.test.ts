// The idle collector's timing rules (pure logic: the bus is real, the collection is counted instead of run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/events.js';
import { IdleCollector } from '../../src/system/idle-gc.js';
import { collectAllGarbage } from '../../src/system/gc.js';
import { waitFor } from '../helpers/wait.js';

test('one full collection once a burst of work is over, none while a job prints', async () => {
  const bus = new EventBus();
  let printing = false;
  let collected = 0;
  const idle = new IdleCollector({ bus, printing: () => printing, collect: () => collected++, delayMs: 50 });
  try {
    for (let i = 0; i < 5; i++) bus.emit('files.analysed', { path: `f${i}.gcode` });
    await waitFor('a collection', () => idle.runs === 1 || undefined);
    assert.equal(collected, 1, 'a burst of events makes one collection');
    printing = true;
    bus.emit('files.uploaded', { printerId: 'printer', path: 'x.gcode', select: false, print: false, effectiveSelect: false, effectivePrint: false });
    await waitFor('the quiet moment to pass', () => idle.skipped === 1 || undefined);
    assert.equal(collected, 1, 'nothing while printing');
    printing = false;
    bus.emit('job.ended', { printerId: 'printer', path: 'x.gcode', result: 'success', reason: null, fromQueue: false, printTime: 1, size: 1, user: null });
    await waitFor('the collection after the job', () => idle.runs === 2 || undefined);
  } finally {
    idle.stop();
  }
});

test('prints back to back: the collection skipped during a print runs the moment that job ends', async () => {
  const bus = new EventBus();
  let printing = true;
  let collected = 0;
  const idle = new IdleCollector({ bus, printing: () => printing, collect: () => collected++, delayMs: 50 });
  const ended = () => bus.emit('job.ended', { printerId: 'printer', path: 'x.gcode', result: 'success', reason: null, fromQueue: false, printTime: 1, size: 1, user: null });
  try {
    // the first job ended and the next one started before the quiet moment passed
    printing = false;
    ended();
    printing = true;
    await waitFor('the collection to be skipped', () => idle.skipped === 1 || undefined);
    assert.equal(collected, 0, 'nothing while printing');
    // the next job ends: the owed collection runs right after the job's end (not inside its event), before a third
    // job can start
    printing = false;
    ended();
    assert.equal(collected, 0, 'not inside the event');
    await waitFor('collected as the job ended', () => collected === 1 || undefined);
    printing = true;
    await waitFor('the next quiet moment to be skipped', () => idle.skipped === 2 || undefined);
    printing = false;
    ended();
    await waitFor('one collection per job while prints follow each other', () => collected === 2 || undefined);
  } finally {
    idle.stop();
  }
});

test('an owed collection is not run inside the printer.state event, but right after it, if no printer streams then', async () => {
  const bus = new EventBus();
  let printing = true;
  let collected = 0;
  const idle = new IdleCollector({ bus, printing: () => printing, collect: () => collected++, delayMs: 50 });
  const state = (s: string) => bus.emit('printer.state', { printerId: 'two', state: s, text: s } as never);
  const afterImmediates = () => new Promise((r) => setImmediate(r));
  try {
    bus.emit('files.analysed', { path: 'f.gcode' });
    await waitFor('the collection to be skipped', () => idle.skipped === 1 || undefined);
    // a printer pauses: no printer streams, but the collection waits until the state's handlers are done
    printing = false;
    state('PAUSED');
    assert.equal(collected, 0, 'not in the paused printer\'s event handler');
    // another printer resumes before then: asked again, still owed
    printing = true;
    await afterImmediates();
    assert.equal(collected, 0, 'not while a printer streams again');
    printing = false;
    state('OPERATIONAL');
    assert.equal(collected, 0);
    await afterImmediates();
    assert.equal(collected, 1, 'paid right after the event');
    state('OFFLINE');
    await afterImmediates();
    assert.equal(collected, 1, 'paid once');
  } finally {
    idle.stop();
  }
});

test('a full collection really runs in a process started without --expose-gc, and leaves no gc() behind', async () => {
  const before = (globalThis as { gc?: unknown }).gc;
  let held: { big: number[] } | undefined = { big: Array.from({ length: 1000 }, (_, i) => i) };
  const ref = new WeakRef(held);
  held = undefined;
  await new Promise<void>((r) => setImmediate(r)); // a WeakRef keeps its target until the current job ends
  assert.equal(collectAllGarbage(), true);
  assert.equal(ref.deref(), undefined, 'the unreachable object was collected');
  assert.equal((globalThis as { gc?: unknown }).gc, before);
});

test('no collection while an upload streams in: it waits for the next quiet moment after it', async () => {
  const bus = new EventBus();
  let uploading = true;
  let collected = 0;
  const idle = new IdleCollector({ bus, printing: () => false, uploading: () => uploading, collect: () => collected++, delayMs: 50 });
  try {
    // the analysis of the slicer's last file ended while its next file was being sent
    bus.emit('files.analysed', { path: 'a.gcode' });
    await waitFor('the quiet moment to find the upload', () => idle.deferred >= 2 || undefined);
    assert.equal(collected, 0, 'nothing during the upload');
    uploading = false;
    await waitFor('the collection once the upload is in', () => collected === 1 || undefined);
    assert.equal(idle.runs, 1);
  } finally {
    idle.stop();
  }
});
