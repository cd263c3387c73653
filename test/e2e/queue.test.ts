// The print queue: order, copies, the bed-clear gate, busy uploads queued, and a restart in between.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

interface QueueView {
  items: { id: string; path: string; copies: number; printed: number }[];
  bedClear: boolean;
}

describe('print queue', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    for (const name of ['a', 'b', 'c', 'd']) {
      const form = new FormData();
      form.append('file', new Blob([`; part ${name}\nG28\nG1 X10 Y10 F3000\nM117 printing ${name}\nG1 X20 Y20\n`]), `${name}.gcode`);
      assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
    }
  });
  after(() => rig.close());

  const view = async () => (await (await rig.api('/api/gantry/queue')).json()) as QueueView;
  const printed = async () => (await rig.executed()).filter((l) => l.startsWith('M117 printing')).map((l) => l.slice(-1));
  const add = (path: string, copies = 1) => rig.api('/api/gantry/queue', { method: 'POST', json: { path, copies } });

  test('copies print one after another, each only after the bed is confirmed clear', async () => {
    const ended = () => nextEvent(rig.gantry.bus, 'job.ended', () => true, 30_000);
    let done = ended();
    assert.equal((await add('a.gcode', 2)).status, 201);
    assert.equal((await add('b.gcode')).status, 201);
    await done; // a, first copy: the bed was clear, so it started at once
    // the queue shows the copy once its save has landed (updates are transactions), a moment after job.ended
    let q = await waitFor('idle, the first copy counted', async () => {
      const v = await view();
      return !rig.gantry.jobs.active && v.items[0]?.printed === 1 ? v : undefined;
    });
    assert.deepEqual(q.items.map((i) => [i.path, i.printed]), [['a.gcode', 1], ['b.gcode', 0]]);
    assert.equal(q.bedClear, false);
    assert.equal(rig.gantry.jobs.active, false, 'waits for the bed to be cleared');
    done = ended();
    assert.equal((await rig.api('/api/gantry/queue/bed-clear', { method: 'POST' })).status, 204);
    await done;
    await waitFor('a done', async () => (await view()).items.length === 1);
    done = ended();
    await rig.api('/api/gantry/queue/bed-clear', { method: 'POST' });
    await done;
    await waitFor('queue empty', async () => (await view()).items.length === 0);
    assert.deepEqual(await printed(), ['a', 'a', 'b']);
    const history = (await (await rig.api('/api/gantry/history')).json()) as { totals: { success: number } };
    assert.equal(history.totals.success, 3);
  });

  test('reorder and remove; the order survives a restart; errors are clear', async () => {
    for (const p of ['c.gcode', 'd.gcode', 'b.gcode']) assert.equal((await add(p)).status, 201);
    let q = await view();
    assert.equal((await rig.api(`/api/gantry/queue/${q.items[2]!.id}`, { method: 'POST', json: { command: 'move', position: 0 } })).status, 200);
    assert.equal((await rig.api(`/api/gantry/queue/${q.items[0]!.id}`, { method: 'DELETE' })).status, 204);
    q = await view();
    assert.deepEqual(q.items.map((i) => i.path), ['b.gcode', 'd.gcode']);
    await rig.restart();
    await waitOperational(rig);
    const after = await view();
    assert.deepEqual(after.items.map((i) => i.path), ['b.gcode', 'd.gcode'], 'same order after a restart');
    assert.equal(after.bedClear, false, 'and still waiting for the bed: nothing started by itself');
    assert.equal(rig.gantry.jobs.active, false);
    assert.equal((await add('nope.gcode')).status, 404);
    assert.equal((await add('b.gcode', 0)).status, 400);
    assert.equal((await rig.api('/api/gantry/queue/not-an-id', { method: 'DELETE' })).status, 404);
    for (const item of after.items) await rig.api(`/api/gantry/queue/${item.id}`, { method: 'DELETE' });
  });

  test('an upload with print=true while printing goes to the queue; script mode clears the bed by itself', async () => {
    await rig.gantry.settings.update((s) => (s.queue.bedClearMode = 'script'));
    await rig.api('/api/gantry/queue/bed-clear', { method: 'POST' });
    const slow = 'G28\n' + 'G1 X100 Y100 F600\nG1 X0 Y0 F600\n'.repeat(20) + 'M117 printing s\n';
    const form = new FormData();
    form.append('print', 'true');
    form.append('file', new Blob([slow]), 's.gcode');
    const first = await rig.api('/api/files/local', { method: 'POST', body: form });
    assert.equal(((await first.json()) as { effectivePrint: boolean }).effectivePrint, true);
    const form2 = new FormData();
    form2.append('print', 'true');
    form2.append('file', new Blob(['G28\nM117 printing q\n']), 'q.gcode');
    const second = await rig.api('/api/files/local', { method: 'POST', body: form2 });
    const body = (await second.json()) as { effectivePrint: boolean; gantryQueued: boolean };
    assert.deepEqual([body.effectivePrint, body.gantryQueued], [false, true]);
    await waitFor('the queued file printed after the bed-clear script', async () => (await printed()).includes('q'), 60_000);
    const executed = await rig.executed();
    const s = executed.lastIndexOf('M117 printing s');
    const q = executed.lastIndexOf('M117 printing q');
    assert.ok(s < q);
    assert.deepEqual(executed.slice(s + 1, s + 4), ['M400', 'G28 X Y', 'M84'], 'the first print finished (M400), then the bed-clear script ran between the two');
    await rig.gantry.settings.update((x) => (x.queue.bedClearMode = 'confirm'));
  });
});
