// A printer's unit stops its virtual printer when the printer is removed or Gantry stops. A stop that comes while
// the simulator is still starting (a printer added a moment ago) must leave nothing behind once it resolves: no
// PTY link in the data dir (a CI run's clean-up once failed on one appearing mid-delete) and no process that
// could still make one.
import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { VirtualPrinterProcess } from '../../src/sim/launcher.js';
import { gantryRig } from '../helpers/gantry-rig.js';
import { processesMentioning } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** What still runs for `path`: a simulator or its PTY relay. */
const processesNaming = async (path: string) => (await processesMentioning(path)).map((p) => `${p.pid}: ${p.cmdline.slice(0, 120)}`);

async function assertGone(dir: string, link: string): Promise<void> {
  assert.deepEqual(await readdir(dir), [], 'nothing left in the run dir');
  assert.deepEqual(await processesNaming(link), [], 'no simulator or relay left');
}

test('a virtual printer stopped while it starts leaves no link and no process behind', async () => {
  const { dir, cleanup } = await tempDir();
  const sims: VirtualPrinterProcess[] = [];
  try {
    // at once, before the simulator has even loaded
    const link1 = join(dir, 'vp-now');
    const now = new VirtualPrinterProcess(link1);
    sims.push(now);
    const started1 = now.ensure().catch((err: Error) => err);
    await now.stop();
    assert.ok((await started1) instanceof Error, 'the start reports that it was stopped');
    await assertGone(dir, link1);

    // the moment its PTY relay (a python3 child of the simulator) runs, before the relay has made the link
    const link0 = join(dir, 'vp-relay');
    const atRelay = new VirtualPrinterProcess(link0);
    sims.push(atRelay);
    const started0 = atRelay.ensure().catch((err: Error) => err);
    const relay = await waitFor('the PTY relay running', async () => (await processesNaming(link0)).find((p) => p.includes('python')), 20_000, 1);
    await atRelay.stop();
    await started0;
    await assertGone(dir, link0).catch((err: Error) => assert.fail(`${err.message} (stopped when ${relay} ran)`));

    // the moment the PTY link appears: the relay has made it, the simulator is not ready yet
    const link2 = join(dir, 'vp-link');
    const atLink = new VirtualPrinterProcess(link2);
    sims.push(atLink);
    // (on a busy machine the watch may be heard only after the start has completed: a stop then must leave nothing
    // either, so that is not a failure of its own)
    let stopping: Promise<void> | undefined;
    const watcher = watch(dir, () => {
      stopping ??= atLink.stop();
    });
    try {
      await atLink.ensure().catch(() => undefined);
      await (stopping ?? atLink.stop());
    } finally {
      watcher.close();
    }
    await assertGone(dir, link2);

    // stopped, it starts again on demand (a power cycle); closed (its printer removed), a connect still on its
    // way does not start it again
    assert.equal(await atLink.ensure(), link2);
    await atLink.close();
    await assert.rejects(atLink.ensure(), /closed/);
    await assertGone(dir, link2);
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
    await cleanup();
  }
});

test('Gantry stopped just after a printer was added leaves no simulator and no link of it', async () => {
  const rig = await gantryRig();
  try {
    const res = await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'fresh', serial: { port: 'virtual' } } });
    assert.equal(res.status, 201);
    await rig.gantry.stop();
    const run = join(rig.dir, 'data', 'run');
    assert.deepEqual((await readdir(run)).filter((f) => f !== 'gantry.pid'), [], 'no PTY link left in the run dir');
    assert.deepEqual(await processesNaming(join(run, 'virtual-printer')), [], 'no simulator or relay left');
  } finally {
    await rig.close();
  }
});
