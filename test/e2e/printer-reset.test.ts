// A printer that reboots while connected (its reset button, a watchdog, a brown-out) sends `start` again. It lost
// every line number, its position and its heaters, so the print it ran is over; the link is not, and OctoPrint
// clients expect the printer to stay Operational (OctoPrint's PrinterReset) and the next print to work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { VirtualPrinterProcess } from '../../src/sim/launcher.js';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { jobCommand, signedInPush, terminal, waitJobState } from '../helpers/job-control.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// layers of 50 moves, marked as slicers mark them: a checkpoint is saved as each starts
const FILE = ['G90', 'M83', ...Array.from({ length: 800 }, (_, i) => [...(i % 50 === 0 ? [`;LAYER:${i / 50}`, `G1 Z${((i / 50 + 1) * 0.2).toFixed(1)} F600`] : []), `G1 X${i % 2 ? 100 : 10} Y10 E0.1 F6000`]).flat(), ''].join('\n');

test('a printer reset mid-print fails the print with the reason, keeps the printer Operational, and the next print works', async () => {
  // the simulator reboots at the 300th command it receives (the handshake's included): mid-print
  const rig = await gantryRig({}, {}, ['--reset-at', '300']);
  const push = await signedInPush(rig);
  try {
    await waitOperational(rig);
    assert.equal((await uploadGcode(rig, 'long.gcode', FILE, { print: 'true' })).status, 201);
    const history = async () => ((await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string; reason: string | null }[] }).jobs[0];
    await waitFor('the print to end', async () => (await history())?.result === 'failed', 30_000);
    assert.match((await history())!.reason ?? '', /reset/i, 'the history says why');
    const events = () => push.events();
    await waitFor('PrintFailed pushed', () => events().includes('PrintFailed'));
    const reset = push.of('event').map((m) => m.msg['event'] as { type: string; payload: { idle?: boolean } }).find((e) => e.type === 'PrinterReset');
    assert.deepEqual(reset?.payload, { idle: false });
    await waitJobState(rig, 'Operational');
    const connection = (await (await rig.api('/api/connection')).json()) as { current: { state: string } };
    assert.equal(connection.current.state, 'Operational', 'still connected');
    // a brown-out is a power loss at the printer: the last layer is offered for resuming, as after a restart
    const offer = (await (await rig.api('/api/gantry/recovery')).json()) as { available: boolean; file?: { path: string }; layer?: number };
    assert.equal(offer.available, true);
    assert.equal(offer.file?.path, 'long.gcode');
    assert.ok((offer.layer ?? -1) >= 1, `layer ${offer.layer}`);

    assert.equal((await jobCommand(rig, { command: 'start' })).status, 204, 'the same file prints again');
    await waitFor('the second print', async () => (await history())?.result === 'success', 60_000);
  } finally {
    push.close();
    await rig.close();
  }
});

/**
 * Gantry on a simulator of the test's own (a printer whose power the test can cut), slow enough that layers take a
 * couple of seconds (checkpoints are written at most once a second); `cut` stops it once two layers were printed.
 */
async function withPrinterPower(run: (rig: GantryRig, cut: () => Promise<void>) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const sim = new VirtualPrinterProcess(join(dir, 'ttyUSB-power'), ['--speed', '20']);
  try {
    const rig = await gantryRig({ serial: await sim.ensure() });
    try {
      await waitOperational(rig);
      await run(rig, async () => {
        await waitFor('some layers printed', () => (rig.gantry.jobs.checkpoint?.layer ?? 0) >= 2, 30_000, 20);
        await sim.stop();
      });
    } finally {
      await rig.close();
    }
  } finally {
    await sim.stop();
    await cleanup();
  }
}

test('a printer that loses power mid-print (its link gone, the host up): the print fails and its last layer is offered for resuming', async () => {
  await withPrinterPower(async (rig, cut) => {
    assert.equal((await uploadGcode(rig, 'long.gcode', FILE, { print: 'true' })).status, 201);
    await cut();
    const history = async () => ((await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string; reason: string | null }[] }).jobs[0];
    await waitFor('the print to end', async () => (await history())?.result === 'failed', 15_000);
    const offer = (await (await rig.api('/api/gantry/recovery')).json()) as { available: boolean; file?: { path: string }; layer?: number };
    assert.equal(offer.available, true);
    assert.equal(offer.file?.path, 'long.gcode');
    assert.ok((offer.layer ?? 0) >= 2, `layer ${offer.layer}`);
    assert.equal((await rig.api('/api/gantry/recovery', { method: 'POST', json: { command: 'discard' } })).status, 204);
  });
});

test("a farm copy cut short by the printer's power stays on that printer, interrupted, not printed a second time elsewhere", async () => {
  await withPrinterPower(async (rig, cut) => {
    assert.equal((await uploadGcode(rig, 'long.gcode', FILE)).status, 201);
    assert.equal((await rig.api('/api/gantry/queue/bed-clear', { method: 'POST' })).status, 204);
    assert.equal((await rig.api('/api/gantry/farm/queue', { method: 'POST', json: { path: 'long.gcode', copies: 1 } })).status, 201);
    await cut();
    const view = async () => (await (await rig.api('/api/gantry/farm/queue')).json()) as { items: { path: string; state: string; printing: { printer: string; interrupted: boolean }[] }[] };
    const item = await waitFor('the copy marked interrupted', async () => (await view()).items.find((i) => i.state === 'interrupted'), 15_000);
    assert.deepEqual(item.printing.map((p) => [p.printer, p.interrupted]), [['printer', true]]);
    assert.equal(((await (await rig.api('/api/gantry/recovery')).json()) as { available: boolean }).available, true);
  });
});

test('a reset while a cancel runs ends the print as cancelled, without the cancel script for a board that forgot where its head is', async () => {
  const rig = await gantryRig();
  try {
    await waitOperational(rig);
    assert.equal((await uploadGcode(rig, 'long.gcode', FILE, { print: 'true' })).status, 201);
    await waitJobState(rig, 'Printing');
    assert.equal((await jobCommand(rig, { command: 'pause', action: 'pause' })).status, 204);
    await waitJobState(rig, 'Paused');
    const dwell = 'G4 P600000'; // 3 s at the simulator's speed: M108 does not end a dwell, so Cancelling lasts
    await terminal(rig, dwell);
    const mark = (await rig.waitExecuted('the dwell running', (e) => e.includes(dwell))).length;
    assert.equal((await jobCommand(rig, { command: 'cancel' })).status, 204);
    assert.equal(rig.gantry.jobs.state, 'cancelling');
    rig.gantry.bus.emit('printer.reset', { printerId: rig.gantry.printer.id, idle: false }); // as the printer model announces it
    const history = async () => ((await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string; reason: string | null }[] }).jobs[0];
    await waitFor('the print to end', async () => (await history())?.result === 'cancelled', 15_000);
    assert.match((await history())!.reason ?? '', /reset/);
    await waitFor('the printer idle', () => rig.gantry.printer.idle, 15_000);
    const after = (await rig.executed()).slice(mark);
    assert.ok(!after.some((l) => /^M10[49] /.test(l) || /^G1 .*X5 Y215/.test(l)), `no cancel script or heaters-off sent: ${after.join(' | ')}`);
  } finally {
    await rig.close();
  }
});
