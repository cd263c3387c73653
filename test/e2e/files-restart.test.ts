// Every file's metadata (display name, hash, analysis, print statistics) survives a restart, not only the first
// file's (issue #11: files.json kept one record per start, and recovery then said the printed file was missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

// display names whose sanitized file names differ: only the metadata remembers them
const FILES = [
  ['My Part (v2).gcode', 'My_Part_(v2).gcode'],
  ['Bracket #3 [final].gcode', 'Bracket_3_final.gcode'],
  ['fan duct, left side.gcode', 'fan_duct_left_side.gcode'],
] as const;

const gcode = (n: number) =>
  ['G28', 'G90', 'M82', 'G92 E0', ...Array.from({ length: 3 }, (_, l) => [';LAYER_CHANGE', `G1 Z${0.2 * (l + 1)} F600`, `G1 X${10 + n} Y10 E${l + 1} F3000`].join('\n'))].join('\n') + '\n';

interface FileJson {
  name: string;
  display: string;
  hash: string;
  prints: { success: number; failure: number };
  gcodeAnalysis?: { estimatedPrintTime: number };
}

test('three uploaded files keep their display names, hashes, analyses and print counts over a restart', async () => {
  const rig = await gantryRig({}, {}, ['--speed', '400']);
  try {
    await waitOperational(rig);
    for (const [i, [display, name]] of FILES.entries()) {
      assert.equal((await uploadGcode(rig, display, gcode(i))).status, 201);
      await rig.gantry.analysis.whenDone(name);
    }
    // print the second file: its statistics are in the record the old merge dropped
    const second = FILES[1][1];
    assert.equal((await rig.api(`/api/files/local/${second}`, { method: 'POST', json: { command: 'select', print: true } })).status, 204);
    await waitFor('the print recorded', async () => {
      const f = (await (await rig.api(`/api/files/local/${second}`)).json()) as FileJson;
      return f.prints.success === 1 && !rig.gantry.jobs.active;
    }, 30_000, 50);

    const entry = async (name: string) => (await (await rig.api(`/api/files/local/${name}`)).json()) as FileJson;
    const before = await Promise.all(FILES.map(([, name]) => entry(name)));
    for (const [i, [display, name]] of FILES.entries()) {
      assert.equal(before[i]!.display, display);
      assert.equal(before[i]!.hash, createHash('sha1').update(gcode(i)).digest('hex'), name);
      assert.ok(before[i]!.gcodeAnalysis, `${name} analysed`);
    }

    await rig.restart();
    // read each file once, right after the restart: a file without metadata would get a fresh record (its
    // sanitized name as display, no analysis, no prints), so this first answer shows what was loaded
    const after = await Promise.all(FILES.map(([, name]) => entry(name)));
    for (const [i, [display, name]] of FILES.entries()) {
      assert.equal(after[i]!.display, display, `${name} keeps its display name`);
      assert.equal(after[i]!.hash, before[i]!.hash, `${name} keeps its hash`);
      assert.deepEqual(after[i]!.gcodeAnalysis, before[i]!.gcodeAnalysis, `${name} keeps its analysis`);
      assert.deepEqual(after[i]!.prints, before[i]!.prints, `${name} keeps its print statistics`);
    }
    assert.equal(after[1]!.prints.success, 1);
  } finally {
    await rig.close();
  }
});
