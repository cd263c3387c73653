// OctoPrint's clients pointed at one printer's base URL, with their own request shapes: Home Assistant's client
// (pyoctoprintapi, which joins its base and path into `//api/…`) against /printers/two/, and a slicer's version
// check and upload against the same base. Everything lands on printer two, nothing on the default printer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

describe('OctoPrint clients pointed at one printer', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', serial: { port: 'virtual' } } })).status, 201);
    await waitFor('two operational', async () => (await rig.api('/printers/two/api/printer')).status === 200, 20_000, 100);
  });
  after(() => rig?.close());

  test("Home Assistant's calls (with its double slash) read and set printer two only", async () => {
    const server = (await (await rig.api('/printers/two//api/server')).json()) as { version: string };
    assert.equal(server.version, '1.11.8');
    type PrinterAnswer = { state: { flags: Record<string, boolean> }; temperature: { tool0?: { actual: number } } };
    // the temperatures are {} until the printer's first report, as OctoPrint's are
    const printer = await waitFor('two reports temperatures', async () => {
      const p = (await (await rig.api('/printers/two//api/printer?exclude=sd')).json()) as PrinterAnswer;
      return p.temperature.tool0 ? p : undefined;
    });
    assert.equal(printer.state.flags['operational'], true);
    assert.equal(typeof printer.temperature.tool0!.actual, 'number');
    const job = (await (await rig.api('/printers/two//api/job')).json()) as { state: string };
    assert.equal(job.state, 'Operational');
    const before = (await rig.executed()).length;
    assert.equal((await rig.api('/printers/two//api/printer/bed', { method: 'POST', json: { command: 'target', target: 60 } })).status, 204);
    assert.equal((await rig.api('/printers/two//api/printer/tool', { method: 'POST', json: { command: 'target', targets: { tool0: 200 } } })).status, 204);
    await waitFor('two heats', async () => {
      const e = await rig.executedBy('two');
      return e.includes('M140 S60') && e.includes('M104 T0 S200');
    });
    assert.deepEqual((await rig.executed()).slice(before).filter((l) => /^M1(04|40)/.test(l)), [], 'the default printer was not touched');
    // nothing to pause: OctoPrint's 409 with a JSON error, which HA shows
    const pause = await rig.api('/printers/two//api/job', { method: 'POST', json: { command: 'pause', action: 'pause' } });
    assert.equal(pause.status, 409);
    assert.equal(typeof ((await pause.json()) as { error: string }).error, 'string');
  });

  test("Home Assistant's camera URLs (its base URL joined with webcam.streamUrl) reach each printer's own camera route", async () => {
    for (const base of ['/', '/printers/two/']) {
      const settings = (await (await rig.api(`${base}api/settings`)).json()) as { webcam: { streamUrl: string } };
      // pyoctoprintapi: stream_url = base_url + streamUrl; the snapshot URL is that one with action=snapshot, "//" as "/"
      const fromHa = `${base}${settings.webcam.streamUrl}`.replace('action=stream', 'action=snapshot').replace(/\/\//g, '/');
      const direct = settings.webcam.streamUrl.replace('action=stream', 'action=snapshot');
      assert.ok(direct.startsWith(base === '/' ? '/webcam/' : '/printers/two/webcam/'), direct);
      const [viaHa, viaUrl] = await Promise.all([rig.api(fromHa), rig.api(direct)]);
      const [a, b] = [await viaHa.text(), await viaUrl.text()];
      assert.equal(viaHa.status, viaUrl.status, `${fromHa}: ${a} | ${direct}: ${b}`);
      assert.equal(a, b, `${fromHa} answers as ${direct} does`);
      assert.match(a, /camera/i, 'the camera route answered (no camera is configured here)');
    }
  });

  test("a slicer's version check and upload-and-print go to printer two", async () => {
    const version = (await (await rig.api('/printers/two/api/version')).json()) as { api: string; text: string };
    assert.equal(version.api, '0.1');
    assert.match(version.text, /^OctoPrint/);
    const form = new FormData();
    form.append('print', 'true');
    form.append('path', '');
    form.append('file', new Blob(['G28\nG1 X5 Y5 F3000\nG1 X10 Y10 F3000\n']), 'slicer.gcode');
    const res = await rig.api('/printers/two/api/files/local', { method: 'POST', body: form });
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { effectivePrint: boolean }).effectivePrint, true);
    await waitFor('printed on two', async () => (await rig.executedBy('two')).includes('G1 X10 Y10 F3000'), 20_000);
    assert.ok(!(await rig.executed()).includes('G1 X10 Y10 F3000'), 'not on the default printer');
  });
});
