// After the worst: an emergency stop leaves the port open long enough to send heaters-off and read the firmware's
// halt message, a halted board is reported as needing a reset instead of being knocked on for ever, old
// temperatures are not shown as current; after "Offline after error" the port Gantry was started with is offered
// and connects again; pause positions stay inside the machine the firmware reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { VirtualPrinterProcess } from '../../src/sim/launcher.js';
import { parkPlaceholders } from '../../src/jobs/scripts.js';
import { gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('M112: heaters off goes out, the halt message is read, the board is reported as needing a reset, nothing retried', async () => {
  // a short hello timeout: the halted board's silence is found out sooner
  const rig = await gantryRig({}, { serialOverrides: { timeouts: { communication: 10_000, busy: 5_000, connection: 1_000, detection: 2_500 } } });
  try {
    await waitOperational(rig);
    assert.equal((await rig.api('/api/printer/tool', { method: 'POST', json: { command: 'target', targets: { tool0: 200 } } })).status, 204);
    await waitFor('a temperature with a target', () => rig.gantry.printer.temperatures.tools.get(0)?.target === 200);
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M112' } })).status, 204);
    await waitFor('Offline after error', () => rig.gantry.printer.stateText === 'Offline after error', 10_000);
    const log = rig.gantry.printer.terminal.lines(500);
    assert.ok(log.some((l) => l === 'Send: M112'));
    assert.ok(log.includes('Send: M104 T0 S0') && log.includes('Send: M140 S0'), 'heaters off went out');
    assert.ok(log.some((l) => /^Recv: .*kill\(\) called/.test(l)), 'the halt message was read before the port closed');
    assert.equal(rig.gantry.printer.temperatures.tools.size, 0, 'no temperature from before the stop shown as current');
    assert.equal((await rig.api('/api/printer')).status, 409);
    // reconnect: the board is halted and answers nothing until reset
    assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'connect', port: 'VIRTUAL' } })).status, 204);
    const err = await waitFor('the reconnect to give up', () => (rig.gantry.printer.stateText === 'Offline after error' && /needs a reset/.test(rig.gantry.printer.error) ? rig.gantry.printer.error : undefined), 30_000, 50);
    assert.match(err, /halted \(emergency stop\)/);
    assert.equal(rig.gantry.printer.reconnectScheduled, false, 'no retry for ever');
  } finally {
    await rig.close();
  }
});

test('after "Offline after error" the port Gantry was started with is offered and connects again, even outside /dev', async () => {
  const { dir, cleanup } = await tempDir();
  const sim = new VirtualPrinterProcess(join(dir, 'printer-link'), ['--speed', '200']);
  try {
    const link = await sim.ensure();
    const rig = await gantryRig({ serial: link });
    try {
      await waitOperational(rig);
      // the firmware reports an error (echoed back by M118): Gantry closes the link with it, the board stays fine
      assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M118 Error:Heating failed (a test)' } })).status, 204);
      await waitFor('Offline after error', () => rig.gantry.printer.stateText === 'Offline after error', 15_000);
      const options = (await (await rig.api('/api/connection')).json()) as { options: { ports: string[] } };
      assert.ok(options.options.ports.includes(link), `offered: ${options.options.ports.join(', ')}`);
      assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'connect', port: link, baudrate: 250000 } })).status, 204);
      await waitOperational(rig);
      // a connect that names no port goes where Gantry was started with (--serial), not a search of /dev
      assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'disconnect' } })).status, 204);
      await waitFor('Offline', () => rig.gantry.printer.state === 'OFFLINE');
      assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'connect' } })).status, 204);
      await waitOperational(rig);
      assert.equal(rig.gantry.printer.port, link);
    } finally {
      await rig.close();
    }
  } finally {
    await sim.stop();
    await cleanup();
  }
});

test('park positions stay inside both the profile and the volume the firmware reports', async () => {
  assert.deepEqual(parkPlaceholders({ width: 220, depth: 220, height: 250 }, undefined, 12), { lift_z: 22, park_x: 5, park_y: 215 });
  const area = { min: { x: 0, y: 0, z: 0 }, max: { x: 200, y: 200, z: 200 } };
  assert.deepEqual(parkPlaceholders({ width: 220, depth: 220, height: 250 }, area, 195), { lift_z: 200, park_x: 5, park_y: 195 });
  const rig = await gantryRig({}, {}, ['--volume', '200x200x200']);
  try {
    await waitOperational(rig);
    assert.deepEqual(rig.gantry.printer.firmware?.area?.max, { x: 200, y: 200, z: 200 }, 'read from the firmware');
  } finally {
    await rig.close();
  }
});

test('an emergency stop mid-print: the job ends failed, and its history says why (the printer\'s own reason)', async () => {
  const rig = await gantryRig({}, {}, ['--speed', '200']);
  try {
    await waitOperational(rig);
    const file = ['G28', 'G90', ...Array.from({ length: 3000 }, (_, i) => (i % 2 ? 'G1 X40 Y40 F600' : 'G1 X40 Y10 F600')), ''].join('\n');
    assert.equal((await uploadGcode(rig, 'stopped.gcode', file, { print: 'true' })).status, 201);
    await waitFor('printing', async () => ((await (await rig.api('/api/job')).json()) as { state: string }).state === 'Printing', 20_000);
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M112' } })).status, 204);
    const job = await waitFor('the job in the history', async () => {
      const h = (await (await rig.api('/api/gantry/history')).json()) as { jobs: { result: string; reason: string | null }[] };
      return h.jobs[0];
    }, 20_000);
    assert.equal(job.result, 'failed');
    assert.match(job.reason ?? '', /M112|emergency/i, `reason: ${job.reason}`);
  } finally {
    await rig.close();
  }
});
