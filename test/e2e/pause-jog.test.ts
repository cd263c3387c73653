// A filament change by hand: while a print is Paused the head can be moved, homed and filament pushed through, as
// OctoPrint allows (it refuses these only while printing), and resume puts the head back where the print left it.
// While printing the same requests are refused with 409, and so they are while the printer holds the print itself
// (an M0 or M600 waiting on its display): it would run them only once it continues, in the middle of the print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { jobState, waitJobState } from '../helpers/job-control.js';

const FILE = [
  'G28',
  'G90',
  'M83',
  'G1 X10 Y10 Z0.3 F3000',
  'G1 X40 Y10 E1.5 F1200',
  'M118 A1 action:pause ; the printer asks the host to pause here (as a runout sensor does)',
  // long enough to still be printing when the test looks after resuming
  ...Array.from({ length: 3000 }, (_, i) => (i % 2 ? 'G1 X40 Y40 E0.5 F600' : 'G1 X40 Y10 E0.5 F600')),
  '',
].join('\n');

/** A Gantry printing `text`, which pauses itself at its host action: Paused when this returns. */
async function pausedPrint(name: string, text: string): Promise<GantryRig> {
  const rig = await gantryRig({}, {}, ['--speed', '200']);
  try {
    await waitOperational(rig);
    assert.equal((await uploadGcode(rig, name, text, { print: 'true' })).status, 201);
    await waitJobState(rig, 'Paused', 30_000);
    return rig;
  } catch (err) {
    await rig.close();
    throw err;
  }
}

test('while paused the head jogs and filament extrudes (a filament change); resume puts the head back; while printing both are refused', async () => {
  const rig = await pausedPrint('change.gcode', FILE);
  try {
    const atPause = (await rig.executed()).length;

    const jog = await rig.api('/api/printer/printhead', { method: 'POST', json: { command: 'jog', x: 50, y: 20 } });
    assert.equal(jog.status, 204, await jog.clone().text());
    const extrude = await rig.api('/api/printer/tool', { method: 'POST', json: { command: 'extrude', amount: 5 } });
    assert.equal(extrude.status, 204, await extrude.clone().text());
    const moved = await rig.waitExecuted('the jog and the extrusion', (e) => e.slice(atPause).some((l) => /^G1 X50 Y20\b/.test(l)) && e.slice(atPause).some((l) => /^G1 E5\b/.test(l)));
    const jogAt = moved.findIndex((l, i) => i >= atPause && /^G1 X50 Y20\b/.test(l));
    assert.equal(moved[jogAt - 1], 'G91', 'the jog is relative');
    assert.equal(await jobState(rig), 'Paused', 'still paused');

    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'pause', action: 'resume' } })).status, 204);
    // the head goes back to where the print was paused (X40 Y10) before the file goes on
    const resumed = await rig.waitExecuted('the head moved back', (e) => e.slice(jogAt).includes('G1 X40 Y10 F6000'), 20_000);
    const back = resumed.indexOf('G1 X40 Y10 F6000', jogAt);
    assert.ok(back > jogAt, `the head returns after the jog: ${resumed.slice(jogAt, back + 1).join(' | ')}`);
    await waitJobState(rig, 'Printing');

    const refused = await rig.api('/api/printer/printhead', { method: 'POST', json: { command: 'jog', x: 10 } });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { error: string }).error, /printing/i);
    assert.equal((await rig.api('/api/printer/tool', { method: 'POST', json: { command: 'extrude', amount: 5 } })).status, 409);
    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'cancel' } })).status, 204);
    await waitJobState(rig, 'Operational', 30_000);
  } finally {
    await rig.close();
  }
});

test('while the printer holds the print itself (it paused on its own), moves are refused: they would run only after it continues', async () => {
  const held = ['G28', 'G90', 'G1 X10 Y10 Z0.3 F3000', 'M118 A1 action:paused', ...Array.from({ length: 3000 }, (_, i) => (i % 2 ? 'G1 X40 Y40 F600' : 'G1 X40 Y10 F600')), ''].join('\n');
  const rig = await pausedPrint('held.gcode', held);
  try {
    const jog = await rig.api('/api/printer/printhead', { method: 'POST', json: { command: 'jog', x: 50 } });
    assert.equal(jog.status, 409);
    assert.match(((await jog.json()) as { error: string }).error, /holds the print/);
    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'cancel' } })).status, 204);
    await waitJobState(rig, 'Operational', 30_000);
    assert.ok(!(await rig.executed()).some((l) => /^G1 X50\b/.test(l)), 'the refused move never reached the printer');
  } finally {
    await rig.close();
  }
});
