// Several printers in one Gantry: added at run time, each at its own OctoPrint-compatible base URL, four printing
// at once, each exactly its file; clear errors for bad requests; removal; printers kept over a restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrinterView } from '../../src/api/context.js';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { commandsOf } from '../helpers/gcode.js';
import { expectError } from '../helpers/expect-error.js';
import { gcodeFor, listPrinters, stateAt, uploadAt, waitPrinted } from '../helpers/printers.js';
import { waitFor } from '../helpers/wait.js';

describe('several printers in one Gantry', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
  });
  after(async () => rig?.close());

  test('printers are added at run time, each connects at its own base URL, and the default answers at both', async () => {
    for (const id of ['two', 'three', 'four']) {
      const res = await rig.api('/api/gantry/printers', { method: 'POST', json: { id, name: `Printer ${id}`, serial: { port: 'virtual' } } });
      assert.equal(res.status, 201, await res.clone().text());
      const view = (await res.json()) as PrinterView;
      assert.equal(view.path, `/printers/${id}/`);
      assert.equal(view.name, `Printer ${id}`);
    }
    const list = await listPrinters(rig);
    assert.deepEqual(list.map((p) => [p.id, p.default]), [['printer', true], ['two', false], ['three', false], ['four', false]]);
    for (const base of ['/printers/two/', '/printers/three/', '/printers/four/', '/printers/printer/', '/']) {
      await waitFor(`${base} operational`, async () => (await stateAt(rig, base)) === 'Operational', 20_000, 100);
    }
    // each its own printer: its own name in its own settings, the Gantry-wide ones shared
    const two = (await (await rig.api('/printers/two/api/settings')).json()) as { appearance: { name: string }; webcam: { streamUrl: string } };
    assert.equal(two.appearance.name, 'Printer two');
    // links a client follows stay on its printer (Home Assistant fetches the camera from these)
    assert.match(two.webcam.streamUrl, /^\/printers\/two\/webcam\/\?action=stream/);
    const def = (await (await rig.api('/api/settings')).json()) as { appearance: { name: string } };
    assert.notEqual(def.appearance.name, 'Printer two');
    // OctoPrint clients pointed at one printer find an OctoPrint there
    const version = (await (await rig.api('/printers/three/api/version')).json()) as { text: string };
    assert.match(version.text, /^OctoPrint/);
  });

  test('bad requests get clear errors', async () => {
    const expect = expectError;
    await expect(rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'Not A Slug', serial: { port: 'virtual' } } }), 400, /a-z 0-9/);
    await expect(rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', serial: { port: 'virtual' } } }), 409, /already/);
    await expect(rig.api('/api/gantry/printers', { method: 'POST', json: { name: 'no id' } }), 400, /id/);
    await expect(rig.api('/printers/nope/api/printer'), 404, /No printer "nope"/);
    await expect(rig.api('/api/gantry/printers/nope', { method: 'DELETE' }), 404, /nope/);
    await expect(rig.api('/api/gantry/printers/printer', { method: 'DELETE' }), 409, /default printer/);
    // the port printer "two" is on cannot be given to another
    const two = ((await (await rig.api('/api/gantry/printers/two')).json()) as PrinterView).port;
    assert.ok(two.startsWith('/'), `printer two is on a device: ${two}`);
    await expect(rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'five', serial: { port: two } } }), 409, /belongs to printer "two"/);
    // a printer needs a key like everything else, and is refused as OctoPrint refuses
    assert.equal((await rig.api('/printers/two/api/printer', { key: null })).status, 403);
    assert.equal((await rig.api('/printers/two/api/gantry/printers', { method: 'POST', key: null, json: { id: 'x' } })).status, 403);
  });

  test('four printers print at once, each exactly its own file; the history names the printer', async () => {
    const bases: [string, string][] = [['printer', '/'], ['two', '/printers/two/'], ['three', '/printers/three/'], ['four', '/printers/four/']];
    const before = new Map<string, number>();
    for (const [id] of bases) before.set(id, (await rig.executedBy(id)).length);
    for (const [id, base] of bases) {
      const res = await uploadAt(rig, base, `job-${id}.gcode`, gcodeFor(id), { print: 'true' });
      assert.equal(res.status, 201, await res.clone().text());
      // Cura follows Location to select the file: it must name the same printer
      assert.equal(new URL(res.headers.get('location')!).pathname, `${base}api/files/local/job-${id}.gcode`.replace('/printers/printer/', '/'));
    }
    // all four under way at the same time
    await waitFor('all four printing', async () => (await listPrinters(rig)).every((p) => p.printing) || undefined, 20_000, 10);
    // removing or reconfiguring a printer while it prints is refused
    const busy = await rig.api('/api/gantry/printers/three', { method: 'DELETE' });
    assert.equal(busy.status, 409);
    const moving = await rig.api('/api/gantry/printers/two', { method: 'PATCH', json: { serial: { port: 'virtual' } } });
    assert.equal(moving.status, 409);
    for (const [id, base] of bases) {
      await waitPrinted(rig, id, base);
      const executed = (await rig.executedBy(id)).slice(before.get(id));
      assert.deepEqual(executed, [...commandsOf(gcodeFor(id)), 'M400'], `printer ${id} executed exactly its file (then the M400 of Finishing)`);
    }
    const history = (await (await rig.api('/api/gantry/history?printer=two')).json()) as { jobs: { printerId: string; file: { path: string }; result: string }[] };
    assert.deepEqual(history.jobs.map((j) => [j.printerId, j.file.path, j.result]), [['two', 'job-two.gcode', 'success']]);
    // the URLs a printer's API hands out (downloads, timelapses) stay under its base URL, where they answer
    const refs = async (base: string) => new URL(((await (await rig.api(`${base}api/files/local/job-two.gcode`)).json()) as { refs: { download: string } }).refs.download).pathname;
    assert.equal(await refs('/printers/two/'), '/printers/two/downloads/files/local/job-two.gcode');
    assert.equal(await refs('/'), '/downloads/files/local/job-two.gcode');
    assert.equal(await (await rig.api('/printers/two/downloads/files/local/job-two.gcode')).text(), gcodeFor('two'));
  });

  test('a removed printer is gone at once; the others go on; printers are kept over a restart', async () => {
    const res = await rig.api('/api/gantry/printers/two', { method: 'DELETE' });
    assert.equal(res.status, 204);
    assert.equal((await rig.api('/printers/two/api/printer')).status, 404);
    assert.equal(await stateAt(rig, '/printers/three/'), 'Operational');
    await rig.restart();
    assert.deepEqual((await listPrinters(rig)).map((p) => p.id), ['printer', 'three', 'four']);
    await waitFor('three operational after the restart', async () => (await stateAt(rig, '/printers/three/')) === 'Operational', 20_000, 100);
  });
});
