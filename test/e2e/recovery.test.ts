// Gantry restarts mid-print: the job is offered for resuming and continues from the start of its last layer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';
import { commandsOf } from '../helpers/gcode.js';

const GCODE = new URL('../../../../shared/gcode/ps_cube20.gcode', import.meta.url);

/** This process's open descriptors on files whose path ends with `name`. */
async function openFilesNamed(name: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')).endsWith(`/${name}`)) n++;
  return n;
}


describe('recovery after a restart', () => {
  let rig: GantryRig;
  before(async () => {
    // slow enough that the restart lands mid-print
    rig = await gantryRig({}, {}, ['--speed', '40']);
    await waitOperational(rig);
  });
  after(() => rig.close());

  test('restart mid-print, then resume at the checkpointed layer: reheat, home XY, restore Z and E, finish the file', async () => {
    const text = await readFile(GCODE, 'utf8');
    const form = new FormData();
    form.append('print', 'true');
    form.append('file', new Blob([text]), 'cube.gcode');
    assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
    await waitFor('a few layers printed', () => (rig.gantry.jobs.checkpoint?.layer ?? 0) >= 4, 60_000);
    assert.equal(await openFilesNamed('cube.gcode'), 1, 'the print reads its file');
    await rig.restart();
    assert.equal(await openFilesNamed('cube.gcode'), 0, 'the stopped Gantry closed the file it printed (not left to the garbage collector)');
    await waitOperational(rig);
    const offer = (await (await rig.api('/api/gantry/recovery')).json()) as { available: boolean; layer: number; z: number; filepos: number; file: { unchanged: boolean } };
    assert.equal(offer.available, true);
    assert.ok(offer.layer >= 4);
    assert.equal(offer.file.unchanged, true);
    assert.equal(rig.gantry.printer.stateText, 'Operational', 'nothing resumed by itself');
    const mark = (await rig.executed()).length;
    assert.equal((await rig.api('/api/gantry/recovery', { method: 'POST', json: { command: 'resume' } })).status, 204);
    await waitFor('the resumed print to finish', async () => {
      const j = (await (await rig.api('/api/job')).json()) as { state: string };
      return j.state === 'Operational' && !rig.gantry.jobs.active && (await rig.executed()).length > mark + 10;
    }, 120_000, 100);
    const after = (await rig.executed()).slice(mark);
    const homing = after.indexOf('G28 X Y');
    assert.ok(homing > 0, 'homes X and Y only');
    assert.ok(!after.slice(0, homing).some((l) => /^G28( |$)/.test(l) && l !== 'G28 X Y'), 'never homes Z over the part');
    assert.ok(after.includes(`G92 Z${offer.z}`), 'Z restored');
    assert.ok(after.some((l) => /^M109 T0 S\d+/.test(l)), 'hotend reheated before printing');
    const rest = commandsOf(Buffer.from(text, 'latin1').subarray(offer.filepos).toString('latin1'));
    assert.deepEqual(after.slice(after.length - rest.length - 1), [...rest, 'M400'], 'the file from the checkpointed layer to its end (then the M400 of Finishing)');
    assert.deepEqual((await (await rig.api('/api/gantry/recovery')).json()) as object, { available: false });
    const history = (await (await rig.api('/api/gantry/history')).json()) as { jobs: { result: string }[] };
    assert.equal(history.jobs[0]!.result, 'success');
  });

  test('discard drops the offer; resume without one is a 404', async () => {
    assert.equal((await rig.api('/api/gantry/recovery', { method: 'POST', json: { command: 'resume' } })).status, 404);
    assert.equal((await rig.api('/api/gantry/recovery', { method: 'POST', json: { command: 'discard' } })).status, 204);
  });
});
