// A pause right after the file changed a heater target: resume must bring back the file's new temperature, even
// though the firmware's last auto-report (sent while that command waited in its queue) still showed the old one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

interface PrinterView {
  temperature: { tool0: { target: number } };
}
interface JobView {
  state: string;
}

const FILE = [
  'M104 S215',
  'M109 S215',
  'G28',
  'G90',
  'M83',
  'G1 X10 Y10 Z0.3 F3000',
  'G1 X40 Y10 E1.5 F1200',
  'M104 S210 ; the next layers run cooler',
  'M118 A1 action:pause ; the printer asks the host to pause here (as a runout sensor does)',
  'G1 X40 Y40 E1.5 F1200',
  'G1 X10 Y40 E1.5 F1200',
  '',
].join('\n');

test('resume after a pause that followed a temperature change keeps the new temperature', async () => {
  const rig = await gantryRig({}, {}, ['--stale-reports']);
  try {
    await waitOperational(rig);
    assert.equal((await uploadGcode(rig, 'cooler.gcode', FILE, { print: 'true' })).status, 201);
    const job = async () => (await (await rig.api('/api/job')).json()) as JobView;
    await waitFor('paused at the printer\'s request', async () => (await job()).state === 'Paused', 30_000);
    // the printer's own reports have caught up by now: 210 is what it holds
    await waitFor('target 210 reported', async () => ((await (await rig.api('/api/printer')).json()) as PrinterView).temperature.tool0.target === 210, 10_000);
    const atPause = (await rig.executed()).length;

    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'pause', action: 'resume' } })).status, 204);
    await waitFor('finished', async () => (await job()).state === 'Operational', 30_000);

    // the printer's record is written as it runs: wait for the file's last line to be in it, never read it once
    // (the M400 after it is the end of the print: Finishing lasts until the last move ran)
    const afterResume = (await rig.waitExecuted('the file to its end', (e) => e.at(-2) === 'G1 X10 Y40 E1.5 F1200' && e.at(-1) === 'M400')).slice(atPause);
    assert.deepEqual(afterResume.filter((c) => /^M10[49]/.test(c)), [], `no heater change on resume: ${afterResume.join(' | ')}`);
    const printer = (await (await rig.api('/api/printer')).json()) as PrinterView;
    assert.equal(printer.temperature.tool0.target, 210);
  } finally {
    await rig.close();
  }
});
