// Unplugging one printer never disturbs the others (#16): three printers print at once, the cable of one is
// pulled mid-print (its simulator, on a PTY of its own, is stopped: the host's port sees the device vanish). Its job
// fails cleanly and it goes offline with the reason; the other two finish exactly their files without a state
// change of their own; plugged back, it reconnects by itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { VirtualPrinterProcess } from '../../src/sim/launcher.js';
import type { PrinterStateId } from '../../src/printer/state.js';
import { gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { commandsOf } from '../helpers/gcode.js';
import { gcodeFor, listPrinters, stateAt, uploadAt, waitPrinted } from '../helpers/printers.js';
import { waitFor } from '../helpers/wait.js';

const STAYING: [string, string][] = [['printer', '/'], ['two', '/printers/two/']];

test('one printer unplugged mid-print: its job fails cleanly, the others finish exactly and never change state', async () => {
  const rig = await gantryRig();
  // the printer to unplug: a simulator of the test's own on a PTY link, as a USB printer the user plugs in
  const cable = () => new VirtualPrinterProcess(join(rig.dir, 'ttyUSB-gone'), ['--speed', '200']);
  let gone = cable();
  try {
    await waitOperational(rig);
    const link = await gone.ensure();
    for (const json of [{ id: 'two', serial: { port: 'virtual' } }, { id: 'gone', serial: { port: link, baudrate: 250000 } }]) {
      const res = await rig.api('/api/gantry/printers', { method: 'POST', json });
      assert.equal(res.status, 201, await res.clone().text());
    }
    for (const base of ['/', '/printers/two/', '/printers/gone/']) {
      await waitFor(`${base} operational`, async () => (await stateAt(rig, base)) === 'Operational', 20_000, 100);
    }
    // every state the two staying printers pass through from here on
    const seen = new Map<string, PrinterStateId[]>(STAYING.map(([id]) => [id, []]));
    const off = rig.gantry.bus.on('printer.state', (s) => seen.get(s.printerId)?.push(s.state));
    try {
      const before = new Map<string, number>();
      for (const [id] of STAYING) before.set(id, (await rig.executedBy(id)).length);
      for (const [id, base] of [...STAYING, ['gone', '/printers/gone/']]) {
        const res = await uploadAt(rig, base!, `job-${id}.gcode`, gcodeFor(id!, id === 'gone' ? 5000 : 1500), { print: 'true' });
        assert.equal(res.status, 201, await res.clone().text());
      }
      await waitFor('all three printing, the one to unplug some way in', async () => {
        const all = await listPrinters(rig);
        return (all.every((p) => p.printing) && (rig.gantry.printers.get('gone')!.jobs.progress().completion ?? 0) > 5) || undefined;
      }, 30_000, 10);
      await gone.stop(); // the cable is pulled

      const ended = await waitFor('the unplugged printer\'s job to end', async () => {
        const h = (await (await rig.api('/api/gantry/history?printer=gone')).json()) as { jobs: { result: string; reason: string | null }[] };
        return h.jobs[0];
      }, 10_000, 20);
      assert.equal(ended.result, 'failed');
      assert.match(ended.reason ?? '', /offline|disconnected/i);
      const view = (await listPrinters(rig)).find((p) => p.id === 'gone')!;
      assert.equal(view.printing, false);
      assert.match(view.stateText, /^(Offline|Error|Offline after error)$/);
      assert.match(rig.gantry.printers.get('gone')!.printer.error, /disconnected|unplugged/i, 'the reason is kept');
      // the others were printing all the while, and go on to the end of their files
      for (const [id] of STAYING) assert.ok(rig.gantry.printers.get(id)!.jobs.active, `${id} still printing after the unplug`);
      for (const [id, base] of STAYING) {
        await waitPrinted(rig, id, base);
        assert.deepEqual((await rig.executedBy(id)).slice(before.get(id)), [...commandsOf(gcodeFor(id, 1500)), 'M400'], `printer ${id} executed exactly its file (then the M400 of Finishing)`);
        const h = (await (await rig.api(`/api/gantry/history?printer=${id}`)).json()) as { jobs: { result: string }[] };
        assert.equal(h.jobs[0]!.result, 'success');
      }
      for (const [id] of STAYING) {
        const states = seen.get(id)!;
        assert.ok(states.every((s) => s === 'PRINTING' || s === 'FINISHING' || s === 'OPERATIONAL' || s === 'STARTING'), `${id} went through ${states.join(' → ')}`);
      }

      // plugged back in: it reconnects by itself, and the others still stand where they were
      gone = cable();
      await gone.ensure();
      await waitFor('the unplugged printer back', async () => (await stateAt(rig, '/printers/gone/')) === 'Operational', 20_000, 100);
      for (const [id, base] of STAYING) {
        assert.equal(await stateAt(rig, base), 'Operational');
        assert.ok(seen.get(id)!.every((s) => s !== 'OFFLINE' && s !== 'ERROR' && s !== 'CLOSED_WITH_ERROR'), `${id} never went offline`);
      }
    } finally {
      off();
    }
  } finally {
    await rig.close();
    await gone.stop();
  }
});
