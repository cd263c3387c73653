// Analysis in its own process, seen through the API: a huge file does not hold up the API while it is analysed,
// and a file whose analysis process died says so (gantryAnalysisError) until the analyse command tries it again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

type FileJson = { gcodeAnalysis?: { layers: { count: number } }; gantryAnalysisError?: string };

describe('the analysis process', () => {
  let rig: GantryRig;
  let files: string;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
    files = join(rig.dir, 'data', 'files');
  });
  after(() => rig.close());

  test('a 64 MB file is analysed while the API keeps answering', async () => {
    const out = createWriteStream(join(files, 'huge.gcode'));
    const layer = (z: number) => `;LAYER_CHANGE\n;Z:${z.toFixed(2)}\nG1 Z${z.toFixed(2)} F720\n` + 'G1 X110.5 Y95.25 E0.0123 F1800\nG1 X95.25 Y110.5 E0.0123\n'.repeat(2000);
    let layers = 0;
    for (let bytes = 0; bytes < 64 << 20; layers++) {
      const s = layer(0.2 * (layers + 1));
      bytes += s.length;
      if (!out.write(s)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    // the listing finds it (hashing 64 MB on the way) and queues its analysis
    assert.equal((await rig.api('/api/files/local/huge.gcode')).status, 200);
    let answered = 0;
    while (rig.gantry.analysis.busy) {
      assert.equal((await rig.api('/api/version')).status, 200);
      answered++;
    }
    assert.ok(answered >= 3, `the API answered ${answered} times during the analysis`);
    const entry = (await (await rig.api('/api/files/local/huge.gcode')).json()) as FileJson;
    assert.equal(entry.gcodeAnalysis?.layers.count, layers);
  });

  test('a killed analysis process: the file shows why; the analyse command tries it again', async () => {
    // a file whose bytes never come: a FIFO, known to files.json (as if hashed before) so that nothing reads it but
    // the analysis process, which stays busy with it until it is killed
    await rig.gantry.stop();
    execFileSync('mkfifo', [join(files, 'stuck.gcode')]);
    const metaPath = join(rig.dir, 'data', 'files.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { files: Record<string, unknown> };
    meta.files['stuck.gcode'] = { hash: '0'.repeat(40), display: 'stuck.gcode', prints: { success: 0, failure: 0 }, printTimes: [] };
    await writeFile(metaPath, JSON.stringify(meta));
    await rig.restart();
    const get = async () => (await (await rig.api('/api/files/local/stuck.gcode')).json()) as FileJson;
    await get(); // queues the analysis
    const pid = await waitFor('the analysis process', () => rig.gantry.analysis.process.pid);
    process.kill(pid, 'SIGKILL');
    const failed = await waitFor('the failure on the file', async () => (await get()).gantryAnalysisError);
    assert.match(failed, /the analysis process was killed \(SIGKILL\)/);
    assert.equal(rig.gantry.analysis.busy, false, 'listing it again did not queue it again');
    assert.equal((await rig.api('/api/files/local/stuck.gcode', { method: 'POST', json: { command: 'analyse' } })).status, 204);
    // this time its bytes come (the analysis process is the FIFO's reader: the write completes once it opened it)
    await writeFile(join(files, 'stuck.gcode'), ';LAYER_CHANGE\n;Z:0.2\nG1 Z0.2\nG1 X10 Y10 E1 F1200\n');
    const entry = await waitFor('the analysis', async () => {
      const e = await get();
      return e.gcodeAnalysis ? e : undefined;
    });
    assert.equal(entry.gcodeAnalysis!.layers.count, 1);
    assert.equal(entry.gantryAnalysisError, undefined);
  });
});
