// The idle collection (src/system/idle-gc.ts) with two printers in one Gantry: never while either streams a print;
// the one owed is not paid when one printer's job ends while the other prints, but as soon as no printer streams:
// the other pausing, or its print ending.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { gcodeFor } from '../helpers/printers.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

/** the states in which lines stream to a printer */
const STREAMING = new Set(['STARTING', 'PRINTING', 'PAUSING', 'RESUMING', 'CANCELLING', 'FINISHING']);

describe('the idle collection with two printers', () => {
  let rig: GantryRig;
  /** each printer's state at each collection */
  const collections: Record<string, string>[] = [];
  const jobState = async (base: string) => ((await (await rig.api(`${base}/api/job`)).json()) as { state: string }).state;

  before(async () => {
    rig = await gantryRig({ camera: 'none' }, { idleGc: { delayMs: 100, collect: () => collections.push(Object.fromEntries(rig.gantry.printers.all().map((u) => [u.id, u.printer.state]))) } });
    await waitOperational(rig);
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', serial: { port: 'virtual' } } })).status, 201);
    await waitFor('two operational', () => rig.gantry.printers.get('two')?.printer.state === 'OPERATIONAL', 20_000);
  });
  after(async () => {
    if (rig && rig.gantry.printers.get('two')?.jobs.active) {
      await rig.api('/printers/two/api/job', { method: 'POST', json: { command: 'cancel' } });
      await waitFor('two idle', () => !rig.gantry.printers.get('two')!.jobs.active, 20_000);
    }
    await rig?.close();
  });

  test("not during two's print, not at the other printer's job end; at two's pause and at its print's end", async () => {
    assert.equal((await uploadGcode(rig, 'slow.gcode', gcodeFor('two', 20_000))).status, 201);
    assert.equal((await uploadGcode(rig, 'short.gcode', 'G28\nG1 X10 Y10 F3000\n')).status, 201);
    await waitFor('the uploads collected after', () => rig.gantry.idleGc.runs >= 1 || undefined, 5_000);

    assert.equal((await rig.api('/printers/two/api/files/local/slow.gcode', { method: 'POST', json: { command: 'select', print: true } })).status, 204);
    await waitFor('two printing', async () => (await jobState('/printers/two')) === 'Printing', 20_000, 20);
    // (an analysis finishing until now may have been collected after, before two printed)
    const start = collections.length;
    // work while two prints: the quiet moment comes, the collection is skipped and owed
    const skipped = rig.gantry.idleGc.skipped;
    assert.equal((await uploadGcode(rig, 'more.gcode', 'G28\n')).status, 201);
    await waitFor('the collection skipped for the print', () => rig.gantry.idleGc.skipped > skipped || undefined, 5_000);
    // the default printer prints and ends while two still prints: still owed
    const ended = nextEvent(rig.gantry.bus, 'job.ended', (e) => e.printerId === 'printer', 20_000);
    assert.equal((await rig.api('/api/files/local/short.gcode', { method: 'POST', json: { command: 'select', print: true } })).status, 204);
    assert.equal((await ended).result, 'success');
    assert.equal(collections.length, start, 'nothing collected while two prints');

    // two pauses: no printer streams, the debt is paid
    assert.equal((await rig.api('/printers/two/api/job', { method: 'POST', json: { command: 'pause', action: 'pause' } })).status, 204);
    await waitFor('collected while two is paused', () => collections.length > start || undefined, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(rig.gantry.printers.all().map((u) => [u.id, u.printer.state, u.jobs.active]))} runs ${rig.gantry.idleGc.runs} skipped ${rig.gantry.idleGc.skipped} collections ${JSON.stringify(collections)}`);
    });
    assert.equal(collections.at(-1)!['two'], 'PAUSED');

    // resumed: owed again by new work, paid when two's print ends (cancelled here)
    assert.equal((await rig.api('/printers/two/api/job', { method: 'POST', json: { command: 'pause', action: 'resume' } })).status, 204);
    await waitFor('two printing again', async () => (await jobState('/printers/two')) === 'Printing', 20_000, 20);
    const n = collections.length;
    const skippedAgain = rig.gantry.idleGc.skipped;
    assert.equal((await uploadGcode(rig, 'again.gcode', 'G28\n')).status, 201);
    await waitFor('skipped again', () => rig.gantry.idleGc.skipped > skippedAgain || undefined, 5_000);
    assert.equal(collections.length, n);
    assert.equal((await rig.api('/printers/two/api/job', { method: 'POST', json: { command: 'cancel' } })).status, 204);
    await waitFor('collected at the end of two\'s print', () => collections.length > n || undefined, 20_000);

    for (const c of collections) for (const [id, state] of Object.entries(c)) assert.ok(!STREAMING.has(state), `collected while ${id} was ${state}`);
  });
});
