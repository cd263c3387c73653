// "New printer found": a serial device plugged in that no printer claims is asked who it is and listed, and adding
// it is one call; a device a printer holds is never touched; unplugging one printer leaves the others printing-ready.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GantryEvents } from '../../src/events.js';
import { octoEvent } from '../../src/push/events-map.js';
import { type RunningSim, startVirtualPrinter } from '../../src/sim/run.js';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Found {
  port: string;
  firmware: { name: string; machineType: string | null } | null;
  baudrate: number | null;
  seenAt: number;
  note: string | null;
  add: string;
}

const foundList = async (rig: GantryRig) => ((await (await rig.api('/api/gantry/printers/found')).json()) as { found: Found[] }).found;

describe('new printers found on the serial ports', () => {
  let rig: GantryRig;
  let devDir: { dir: string; cleanup: () => Promise<void> };
  const sims: RunningSim[] = [];
  const announced: GantryEvents['printers.found'][] = [];

  before(async () => {
    devDir = await tempDir('gantry-dev-');
    // a printer Gantry is told about at start (--printer held=PORT): its device is claimed from the first look
    sims.push(await startVirtualPrinter(join(devDir.dir, 'ttyUSB0'), { speedFactor: 200 }));
    rig = await gantryRig({ printers: [['held', join(devDir.dir, 'ttyUSB0')]] }, { serialOverrides: { portGlobs: [join(devDir.dir, 'ttyUSB*')] } });
    rig.gantry.bus.on('printers.found', (e) => announced.push(e));
    await waitOperational(rig);
    await waitFor('held operational', () => rig.gantry.printers.get('held')?.printer.state === 'OPERATIONAL', 20_000);
  });
  after(async () => {
    await rig?.close();
    for (const s of sims) await s.stop();
    await devDir?.cleanup();
  });

  test('a device plugged in after start is found with its firmware, and added in one call', async () => {
    const port = join(devDir.dir, 'ttyUSB1');
    sims.push(await startVirtualPrinter(port, { speedFactor: 200 }));
    const [found] = await waitFor('the new device found and asked', async () => {
      const f = await foundList(rig);
      return f.length === 1 && f[0]!.firmware ? f : undefined;
    }, 20_000);
    assert.equal(found!.port, port);
    assert.match(found!.firmware!.name, /Marlin/);
    assert.equal(found!.firmware!.machineType, 'Virtual Printer');
    assert.equal(found!.baudrate, 250000);
    assert.equal(found!.note, null);
    assert.ok(found!.seenAt <= Date.now());
    assert.deepEqual(announced.map((a) => a.port), [port], 'announced once, and never the held device');
    // what the push socket sends for it
    assert.deepEqual(octoEvent('printers.found', announced[0], { jobs: rig.gantry.jobs }, { lastZ: null }), [
      { plugin: { plugin: 'gantry', data: { type: 'printer_found', port, firmware: announced[0]!.firmware } } },
    ]);

    const res = await rig.api(found!.add, { method: 'POST', json: { id: 'newone' } });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(((await res.json()) as { id: string }).id, 'newone');
    await waitFor('the new printer connected', () => rig.gantry.printers.get('newone')?.printer.state === 'OPERATIONAL', 20_000);
    assert.equal(rig.gantry.printers.get('newone')!.printer.port, port);
    assert.deepEqual(await foundList(rig), [], 'claimed now: no longer listed');
    assert.equal((await rig.api(found!.add, { method: 'POST' })).status, 404, 'added once');
    assert.equal(found!.add, `/api/gantry/printers/found/${encodeURIComponent(port)}/add`, 'addressed by its port');

    // unplugged: that printer goes offline, the others stay as they were
    await sims.pop()!.stop();
    await waitFor('newone offline', () => !rig.gantry.printers.get('newone')!.printer.operational, 10_000);
    assert.equal(rig.gantry.printers.get('held')!.printer.state, 'OPERATIONAL');
    assert.equal(rig.gantry.printer.state, 'OPERATIONAL');
    assert.ok(announced.every((a) => !a.port.endsWith('ttyUSB0')), 'the held device was never probed or listed');
  });

  test('devices plugged in and out between listing and adding: the one added is the one the user chose', async () => {
    const [a, b, c] = ['ttyUSB2', 'ttyUSB3', 'ttyUSB4'].map((n) => join(devDir.dir, n)) as [string, string, string];
    const simA = await startVirtualPrinter(a, { speedFactor: 200 });
    sims.push(simA);
    const listed = (ports: string[]) => waitFor(`found: ${ports.join(', ')}`, async () => {
      const f = await foundList(rig);
      return f.length === ports.length && ports.every((p) => f.some((x) => x.port === p && x.firmware)) ? f : undefined;
    }, 20_000);
    await listed([a]);
    sims.push(await startVirtualPrinter(b, { speedFactor: 200 }));
    // the page shows A and B; the user picks B
    const shown = await listed([a, b]);
    const chosen = shown.find((f) => f.port === b)!;
    assert.equal(shown.indexOf(chosen), 1);
    // meanwhile A is unplugged and C plugged in: B is first now, and C where B was
    await simA.stop();
    sims.splice(sims.indexOf(simA), 1);
    sims.push(await startVirtualPrinter(c, { speedFactor: 200 }));
    const now = await listed([b, c]);
    assert.equal(now[1]!.port, c, 'the place B had is C\'s now');
    const res = await rig.api(chosen.add, { method: 'POST', json: { id: 'chosen' } });
    assert.equal(res.status, 201, await res.clone().text());
    await waitFor('the chosen printer connected', () => rig.gantry.printers.get('chosen')?.printer.state === 'OPERATIONAL', 20_000);
    assert.equal(rig.gantry.printers.get('chosen')!.printer.port, b, 'B was added, not C');
    assert.deepEqual((await foundList(rig)).map((f) => f.port), [c], 'C is still waiting to be added');
    // a device gone since the list: a clear 404, not another device
    const gone = await rig.api(`/api/gantry/printers/found/${encodeURIComponent(a)}/add`, { method: 'POST' });
    assert.equal(gone.status, 404);
    assert.match(((await gone.json()) as { error: string }).error, /No new printer found on .*ttyUSB2/);
    assert.equal((await rig.api('/api/gantry/printers/chosen', { method: 'DELETE' })).status, 204);
  });

  test('adding a found printer needs the admin, and an unknown port (or an old positional index) is a 404', async () => {
    assert.equal((await rig.api('/api/gantry/printers/found/7/add', { method: 'POST' })).status, 404);
    assert.equal((await rig.api('/api/gantry/printers/found/x/add', { method: 'POST' })).status, 404);
    assert.equal((await rig.api(`/api/gantry/printers/found/${encodeURIComponent('/dev/serial/by-id/usb-nothing')}/add`, { method: 'POST' })).status, 404);
    assert.equal((await rig.api('/api/gantry/printers/found', { key: null })).status, 403);
  });
});

describe('a device plugged in while the default printer is set to AUTO and not connected', () => {
  let rig: GantryRig;
  let devDir: { dir: string; cleanup: () => Promise<void> };
  let sim: RunningSim | undefined;
  before(async () => {
    devDir = await tempDir('gantry-dev-');
    // --serial none: the default printer keeps its saved port, AUTO, and does not connect
    rig = await gantryRig({ serial: 'NONE' }, { serialOverrides: { portGlobs: [join(devDir.dir, 'ttyACM*')] } });
  });
  after(async () => {
    await rig?.close();
    await sim?.stop();
    await devDir?.cleanup();
  });

  test('is listed but not probed (connecting that printer would take it), and can still be added', async () => {
    const port = join(devDir.dir, 'ttyACM0');
    sim = await startVirtualPrinter(port, { speedFactor: 200 });
    sim.printer.keepExecuted = true;
    const [found] = await waitFor('listed', async () => {
      const f = await foundList(rig);
      return f.length === 1 ? f : undefined;
    }, 20_000);
    assert.equal(found!.firmware, null);
    assert.match(found!.note!, /printer "printer" is set to AUTO and not connected/);
    assert.equal(sim.printer.executed.length, 0, 'nothing was sent to it');
    const res = await rig.api(found!.add, { method: 'POST' });
    assert.equal(res.status, 201, await res.clone().text());
    const id = ((await res.json()) as { id: string }).id;
    assert.equal(id, 'printer-2');
    await waitFor('it connects', () => rig.gantry.printers.get(id)?.printer.state === 'OPERATIONAL', 20_000);
    assert.deepEqual(await foundList(rig), []);
  });
});
