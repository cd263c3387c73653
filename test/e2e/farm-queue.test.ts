// The farm queue: three virtual printers with different profiles in one Gantry. A job goes to the first idle printer
// whose bed, nozzle and filament fit the file; it waits, saying why, while every fitting printer is busy or its bed
// is not confirmed clear; a dispatched print stays attributed over a restart and is never printed twice.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { expectError } from '../helpers/expect-error.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

interface ItemView {
  id: string;
  path: string;
  copies: number;
  printed: number;
  state: string;
  printing: { printer: string; interrupted: boolean }[];
  requirements: { nozzleDiameter: number | null; filamentType: string | null; area: { maxX: number; maxY: number } | null };
  reason: string | null;
}
interface FarmView {
  items: ItemView[];
  printers: { id: string; ready: boolean; reason: string | null }[];
}

/** A part as a PrusaSlicer-style slicer writes it: extrusions out to (x, y), its nozzle and filament in comments,
 * and a marker line first that names it in what the printer executed. */
function part(name: string, o: { x: number; y: number; nozzle?: number; filament?: string; trips?: number }): string {
  const out = ['G28', `M117 farm ${name}`, 'G90', 'M83', 'G1 Z0.2 F600'];
  for (let i = 0; i < (o.trips ?? 4); i++) out.push(`G1 X${o.x} Y${o.y} E0.5 F1200`, 'G1 X10 Y10 E0.5 F1200');
  if (o.nozzle !== undefined) out.push(`; nozzle_diameter = ${o.nozzle}`);
  if (o.filament !== undefined) out.push(`; filament_type = ${o.filament}`);
  return out.join('\n') + '\n';
}

describe('farm queue', () => {
  let rig: GantryRig;
  const view = async () => (await (await rig.api('/api/gantry/farm/queue')).json()) as FarmView;
  const add = (json: unknown) => rig.api('/api/gantry/farm/queue', { method: 'POST', json });
  const started = (printerId: string, path: string) => nextEvent(rig.gantry.bus, 'job.started', (e) => e.printerId === printerId && e.path === path, 30_000);
  const ended = (printerId: string, path: string) => nextEvent(rig.gantry.bus, 'job.ended', (e) => e.printerId === printerId && e.path === path, 60_000);
  const bedClear = (id: string) => rig.api(`/printers/${id}/api/gantry/queue/bed-clear`, { method: 'POST' });
  const ranOn = async (id: string, name: string) => (await rig.executedBy(id)).filter((l) => l === `M117 farm ${name}`).length;

  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    // the default printer keeps the default profile: 220×220×250, a 0.4 mm nozzle, any filament
    const printers = [
      { id: 'big', serial: { port: 'virtual' }, printerProfile: { volume: { width: 300, depth: 300, height: 300 } } },
      { id: 'small', serial: { port: 'virtual' }, printerProfile: { volume: { width: 120, depth: 120 }, extruder: { nozzleDiameter: 0.6 }, filamentType: 'PETG' } },
    ];
    for (const p of printers) assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: p })).status, 201);
    for (const id of ['big', 'small']) {
      await waitFor(`${id} operational`, () => rig.gantry.printers.get(id)?.printer.state === 'OPERATIONAL', 20_000);
    }
    const files: [string, string][] = [
      ['big.gcode', part('big', { x: 260, y: 250, nozzle: 0.4, filament: 'PLA' })],
      ['petg06.gcode', part('petg06', { x: 60, y: 60, nozzle: 0.6, filament: 'PETG', trips: 100 })],
      ['long.gcode', part('long', { x: 100, y: 100, trips: 400 })],
      ['short.gcode', part('short', { x: 50, y: 50 })],
    ];
    for (const [name, text] of files) assert.equal((await uploadGcode(rig, name, text)).status, 201);
    // analysed, so what each item needs shows in the answer that adds it
    for (const [name] of files) {
      await waitFor(`${name} analysed`, async () => ((await (await rig.api(`/api/files/local/${name}`)).json()) as { gcodeAnalysis?: unknown }).gcodeAnalysis, 20_000);
    }
  });
  after(async () => rig?.close());

  test('a job needing a big bed goes to the big-bed printer; the next waits for that bed to be confirmed clear', async () => {
    const first = started('big', 'big.gcode');
    const done = ended('big', 'big.gcode');
    const res = await add({ path: 'big.gcode' });
    assert.equal(res.status, 201, await res.clone().text());
    const item = (await res.json()) as ItemView;
    assert.deepEqual(item.requirements.area && [item.requirements.area.maxX, item.requirements.area.maxY], [260, 250]);
    assert.equal(item.requirements.nozzleDiameter, 0.4);
    assert.equal(item.requirements.filamentType, 'PLA');
    await first;
    assert.equal((await done).result, 'success');
    await waitFor('the item done and gone', async () => (await view()).items.length === 0);
    assert.equal(await ranOn('big', 'big'), 1);
    assert.equal((await ranOn('printer', 'big')) + (await ranOn('small', 'big')), 0, 'printed nowhere else');

    // again: the only printer it fits has an uncleared bed, so it waits and says why for each printer
    const again = (await (await add({ path: 'big.gcode' })).json()) as ItemView;
    const waiting = await waitFor('a reason', async () => (await view()).items.find((i) => i.id === again.id && i.reason?.startsWith('no idle printer fits')));
    assert.equal(waiting.state, 'waiting');
    assert.match(waiting.reason!, /printer: bed 220×220 < 260×250 needed/);
    assert.match(waiting.reason!, /big: bed not confirmed clear/);
    assert.match(waiting.reason!, /small: bed 120×120 < 260×250 needed/);
    assert.equal((await view()).printers.find((p) => p.id === 'big')?.reason, 'bed not confirmed clear');
    const second = started('big', 'big.gcode');
    const done2 = ended('big', 'big.gcode');
    assert.equal((await bedClear('big')).status, 204);
    await second;
    await done2;
    await waitFor('printed twice in all', async () => (await ranOn('big', 'big')) === 2 && (await view()).items.length === 0);
  });

  test('nozzle and filament pick the printer; a job waits while the one that fits prints, then for its bed', async () => {
    const first = started('small', 'petg06.gcode');
    const res = await add({ path: 'petg06.gcode', copies: 2 });
    assert.equal(res.status, 201);
    const id = ((await res.json()) as ItemView).id;
    await first;
    const busy = await waitFor('the second copy waiting for a busy printer', async () => (await view()).items.find((i) => i.id === id && /small: printing a farm job/.test(i.reason ?? '')));
    assert.equal(busy.state, 'printing');
    assert.deepEqual(busy.printing.map((p) => p.printer), ['small']);
    assert.match(busy.reason!, /printer: nozzle 0.4 mm, 0.6 mm needed/);
    assert.match(busy.reason!, /big: nozzle 0.4 mm, 0.6 mm needed/);
    await waitFor('the first copy counted, the second waiting for the bed', async () => {
      const i = (await view()).items.find((x) => x.id === id);
      return i?.printed === 1 && /small: bed not confirmed clear/.test(i.reason ?? '');
    }, 60_000);
    const second = started('small', 'petg06.gcode');
    assert.equal((await bedClear('small')).status, 204);
    await second;
    await waitFor('both copies printed', async () => (await view()).items.length === 0, 60_000);
    assert.equal(await ranOn('small', 'petg06'), 2);

    // a printer with PLA loaded takes no PETG job, one with filament unknown takes any
    await rig.gantry.settings.update((s) => (s.printerProfile.filamentType = 'PLA'));
    const petg = (await (await add({ path: 'short.gcode', constraints: { filamentType: 'PETG', nozzleDiameter: 0.4 } })).json()) as ItemView;
    const why = await waitFor('refused by filament', async () => (await view()).items.find((i) => i.id === petg.id && i.reason?.startsWith('no'))?.reason ?? undefined);
    assert.match(why, /printer: PLA loaded, PETG needed/);
    assert.equal((await rig.api(`/api/gantry/farm/queue/${petg.id}`, { method: 'DELETE' })).status, 204);
    await rig.gantry.settings.update((s) => (s.printerProfile.filamentType = ''));
  });

  test('a dispatched print stays attributed over a restart, and is never started again by itself', async () => {
    const first = started('printer', 'long.gcode');
    const res = await add({ path: 'long.gcode', constraints: { printers: ['printer'] } });
    assert.equal(res.status, 201);
    const id = ((await res.json()) as ItemView).id;
    await first;
    const nextId = ((await (await add({ path: 'short.gcode', constraints: { printers: ['printer'] } })).json()) as ItemView).id;
    await rig.restart();
    const startedAfter: string[] = [];
    rig.gantry.bus.on('job.started', (e) => startedAfter.push(`${e.printerId} ${e.path}`));
    await waitOperational(rig);
    let v = await view();
    const cut = v.items.find((i) => i.id === id)!;
    assert.equal(cut.state, 'interrupted');
    assert.deepEqual(cut.printing.map((p) => [p.printer, p.interrupted]), [['printer', true]]);
    assert.equal(rig.gantry.jobs.active, false, 'nothing started by itself after the restart');
    v = await waitFor('the next item says why it waits', async () => {
      const w = await view();
      return /printer: a farm print was interrupted there/.test(w.items.find((i) => i.id === nextId)?.reason ?? '') ? w : undefined;
    });
    assert.equal(await ranOn('printer', 'short'), 0);
    // only an interrupted copy can be settled; this one was printed by hand, say
    assert.equal((await rig.api(`/api/gantry/farm/queue/${nextId}`, { method: 'POST', json: { command: 'printed' } })).status, 409);
    assert.equal((await rig.api(`/api/gantry/farm/queue/${id}`, { method: 'POST', json: { command: 'printed' } })).status, 200);
    assert.deepEqual((await view()).items.map((i) => i.id), [nextId]);
    // the printer is free once its interrupted print is discarded and its bed cleared
    if (rig.gantry.jobs.checkpoint) assert.equal((await rig.api('/api/gantry/recovery', { method: 'POST', json: { command: 'discard' } })).status, 204);
    const next = started('printer', 'short.gcode');
    assert.equal((await bedClear('printer')).status, 204);
    await next;
    await waitFor('the farm queue empty', async () => (await view()).items.length === 0, 30_000);
    assert.deepEqual(startedAfter, ['printer short.gcode'], 'the interrupted print was not started again');
  });

  test('bad requests get clear errors', async () => {
    const expect = expectError;
    await expect(add({ path: 'missing.gcode' }), 404, /missing.gcode not found/);
    await expect(add({ copies: 2 }), 400, /path/);
    await expect(add({ path: 'short.gcode', copies: 0 }), 400, /copies/);
    await expect(add({ path: 'short.gcode', constraints: { bed: 1 } }), 400, /not bed/);
    await expect(add({ path: 'short.gcode', constraints: { printers: ['nope'] } }), 400, /no printer "nope"/);
    await expect(add({ path: 'short.gcode', constraints: { nozzleDiameter: 'wide' } }), 400, /nozzleDiameter/);
    await expect(rig.api('/api/gantry/farm/queue', { method: 'POST', body: 'not json', headers: { 'Content-Type': 'application/json' } }), 400, /JSON/);
    await expect(rig.api('/api/gantry/farm/queue/nope', { method: 'DELETE' }), 404, /No farm queue item nope/);
    await expect(rig.api('/api/gantry/farm/queue/nope', { method: 'POST', json: { command: 'move', position: 0 } }), 404, /nope/);
    await expect(rig.api('/api/gantry/farm/queue/nope', { method: 'POST', json: { command: 'fly' } }), 400, /move, requeue, printed/);
    assert.equal((await rig.api('/api/gantry/farm/queue', { key: null })).status, 403);
    // the same queue at every printer's base URL
    assert.deepEqual(await (await rig.api('/printers/small/api/gantry/farm/queue')).json(), await view());
  });
});
