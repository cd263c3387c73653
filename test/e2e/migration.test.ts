// An install from before Gantry had several printers: its data directory starts as the default printer with
// nothing for the user to do. Settings, the queue, an interrupted print's checkpoint and the history carry over,
// the default printer answers at today's URLs and at /printers/printer/, and its history rows are its own.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gantryRig } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';

test("a single-printer data directory becomes the default printer, everything carried over", async () => {
  const { dir, cleanup } = await tempDir();
  const data = join(dir, 'data');
  try {
    await mkdir(join(data, 'files'), { recursive: true });
    await writeFile(join(data, 'files', 'benchy.gcode'), 'G28\nG1 X10 Y10 F3000\nG1 Z5\n');
    await writeFile(join(data, 'settings.json'), JSON.stringify({ appearance: { name: 'Old Ender' }, queue: { enabled: true, bedClearMode: 'confirm', bedClearScript: [] } }));
    await writeFile(join(data, 'queue.json'), JSON.stringify({ items: [{ id: 'q1', path: 'benchy.gcode', copies: 2, printed: 0, addedBy: 'admin', added: 1700000000000 }], bedClear: false }));
    const checkpoint = { path: 'benchy.gcode', hash: 'x', user: 'admin', startedAt: 1700000000000, layer: 3, filepos: 4, z: 0.6, e: 1, absoluteE: false, fan: 0, targets: { tools: { tool0: 200 }, bed: 60 }, savedAt: 1700000001000 };
    await writeFile(join(data, 'checkpoint.json'), JSON.stringify({ checkpoint }));
    const row = { id: 'h1', file: { path: 'old.gcode', name: 'old.gcode', display: 'old.gcode', size: 10 }, hash: 'y', user: 'admin', start: 1, end: 2, printTime: 1, result: 'success', reason: null, estimatedPrintTime: null, filament: null };
    await writeFile(join(data, 'history.jsonl'), JSON.stringify(row) + '\n');

    const rig = await gantryRig({ dataDir: data, serial: 'NONE' });
    try {
      const list = (await (await rig.api('/api/gantry/printers')).json()) as { printers: { id: string; name: string; default: boolean }[] };
      assert.deepEqual(list.printers.map((p) => [p.id, p.name, p.default]), [['printer', 'Old Ender', true]]);
      for (const base of ['/', '/printers/printer/']) {
        const settings = (await (await rig.api(`${base}api/settings`)).json()) as { appearance: { name: string } };
        assert.equal(settings.appearance.name, 'Old Ender');
        const queue = (await (await rig.api(`${base}api/gantry/queue`)).json()) as { items: { id: string; copies: number }[]; bedClear: boolean };
        assert.deepEqual(queue.items.map((i) => [i.id, i.copies]), [['q1', 2]]);
        assert.equal(queue.bedClear, false);
        const recovery = (await (await rig.api(`${base}api/gantry/recovery`)).json()) as { available: boolean; layer: number };
        assert.equal(recovery.available, true);
        assert.equal(recovery.layer, 3);
      }
      const history = (await (await rig.api('/api/gantry/history?printer=printer')).json()) as { jobs: { id: string }[] };
      assert.deepEqual(history.jobs.map((j) => j.id), ['h1'], 'rows from before are the default printer’s');
      // nothing moved: the files a single-printer install had are where they were, and no printers/ folder yet
      assert.deepEqual((await readdir(data)).filter((n) => n === 'printers'), []);
      assert.equal(((await (await rig.api('/api/files/local/benchy.gcode')).json()) as { name: string }).name, 'benchy.gcode');
    } finally {
      await rig.close();
    }
  } finally {
    await cleanup();
  }
});
