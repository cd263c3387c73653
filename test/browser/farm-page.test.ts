// The farm in the page, in a real Chromium against a real Gantry with two virtual printers: the farm view reads every
// printer from one request; a file goes from the Files view to the farm queue, waits there saying why (its printer's
// bed is not confirmed clear), and shows printing on that printer once the bed is confirmed, live; a device plugged
// in after start shows as "New printer found" and one "Add" makes it a printer the switcher offers.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { type RunningSim, startVirtualPrinter } from '../../src/sim/run.js';
import { signedInPage } from '../helpers/browser.js';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { listPrinters, slowGcode } from '../helpers/printers.js';
import { waitFor } from '../helpers/wait.js';

// the page's globals, as far as the in-page steps below use them (tests compile without the DOM library)
declare const location: { hash: string };

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

interface FarmView {
  items: { id: string; path: string; state: string; constraints: { printers?: string[] }; printing: { printer: string }[]; reason: string | null }[];
}

describe('the farm in the page (Chromium)', () => {
  let rig: GantryRig;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let devDir: { dir: string; cleanup: () => Promise<void> } | undefined;
  const sims: RunningSim[] = [];

  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  const printers = () => listPrinters(rig);
  const farm = async () => (await (await rig.api('/api/gantry/farm/queue')).json()) as FarmView;
  const queueOfTwo = async () => (await (await rig.api('/printers/two/api/gantry/queue')).json()) as { bedClear: boolean };

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    devDir = await tempDir('gantry-dev-');
    // the ports Gantry looks on for new printers: a directory of this test's own
    rig = await gantryRig({}, { serialOverrides: { portGlobs: [join(devDir.dir, 'ttyUSB*')] } });
    await waitOperational(rig);
    const res = await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', name: 'Printer two', serial: { port: 'virtual' } } });
    assert.equal(res.status, 201, await res.text());
    await waitFor('two operational', async () => (await printers()).every((p) => p.state === 'OPERATIONAL'), 20_000, 100);
    ({ browser, page, errors } = await signedInPage(rig.gantry.url, rig.gantry.apiKey));
  });
  after(async () => {
    try {
      if (rig && (await printers()).some((p) => p.printing)) {
        for (const p of (await printers()).filter((x) => x.printing)) await rig.api(`/printers/${p.id}/api/job`, { method: 'POST', json: { command: 'cancel' } });
        await waitFor('the prints ended', async () => !(await printers()).some((p) => p.printing), 20_000, 50);
      }
    } finally {
      await browser?.close();
      await rig?.close();
      for (const s of sims) await s.stop();
      await devDir?.cleanup();
    }
  });

  test('the farm view: every printer\'s state and temperatures from one request per refresh', async () => {
    await page.goto(`${rig.gantry.url}/?printer=printer#dashboard`);
    await page.locator('#state-pill', { hasText: 'Operational' }).waitFor({ timeout: 15_000 });
    // from here on, what the farm view asks
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname + new URL(r.url()).search));
    await page.evaluate(() => (location.hash = '#farm'));
    const card = (id: string) => page.locator(`.farm-card[data-printer="${id}"]`);
    for (const id of ['printer', 'two']) {
      await card(id).locator('.pill', { hasText: 'Operational' }).waitFor({ timeout: 15_000 });
      await card(id).locator('.farm-temps', { hasText: /Nozzle \d+/ }).waitFor({ timeout: 15_000 });
    }
    // two rounds: each is the one list with every printer's status (and the farm queue, once as the view opened)
    const STATUS = '/api/gantry/printers?status=true';
    await waitFor('a second round', () => asked.filter((u) => u === STATUS).length >= 2, 15_000, 50);
    assert.deepEqual(asked.filter((u) => /^\/(api|printers)\//.test(u) && u !== STATUS && u !== '/api/gantry/farm/queue'), [], 'nothing asked per printer');
    assert.equal(asked.filter((u) => u === '/api/gantry/farm/queue').length, 1);
    page.removeAllListeners('request');
  });

  test('Files → Farm queue; the item waits for its printer\'s bed, then prints there once the bed is confirmed, live', async () => {
    assert.equal((await uploadGcode(rig, 'tiny.gcode', 'G28\nM117 tiny\n')).status, 201);
    assert.equal((await uploadGcode(rig, 'slow.gcode', slowGcode())).status, 201);
    // a print on two leaves its bed to be confirmed clear
    const start = await rig.api('/printers/two/api/files/local/tiny.gcode', { method: 'POST', json: { command: 'select', print: true } });
    assert.equal(start.status, 204, await start.text());
    await waitFor('two done with tiny.gcode, its bed not confirmed clear', async () => !(await printers()).find((p) => p.id === 'two')?.printing && !(await queueOfTwo()).bedClear, 20_000, 50);

    await page.goto(`${rig.gantry.url}/?printer=printer#files`);
    const row = page.locator('#file-list li', { hasText: 'slow.gcode' });
    await row.locator('button', { hasText: 'Farm queue' }).click();
    const dialog = page.locator('#farm-add');
    await dialog.locator('#farm-add-printers label', { hasText: 'Printer two' }).waitFor();
    await dialog.locator('[name=copies]').fill('1');
    await dialog.locator('[name=filament]').fill('PLA');
    await dialog.locator('#farm-add-printers label', { hasText: 'Printer two' }).locator('input').check();
    await shot('phone-farm-add');
    await dialog.locator('button[value=ok]').click();
    await page.locator('.toast.ok', { hasText: 'added to the farm queue' }).waitFor();
    assert.equal(await dialog.isVisible(), false);
    const [added] = (await farm()).items;
    assert.equal(added?.path, 'slow.gcode');
    assert.deepEqual(added?.constraints, { filamentType: 'PLA', printers: ['two'] });

    // the farm view: waiting, in Gantry's words
    await page.goto(`${rig.gantry.url}/?printer=printer#farm`);
    const item = page.locator(`#farm-queue li[data-item="${added!.id}"]`);
    await item.locator('.meta', { hasText: /waiting: .*two: bed not confirmed clear/ }).waitFor({ timeout: 15_000 });
    assert.equal(await item.getAttribute('data-state'), 'waiting');
    await page.locator('#farm-beds .banner[data-printer="two"]', { hasText: 'Printer two: is its bed clear?' }).waitFor();
    await shot('phone-farm-queue-waiting');

    // the bed confirmed (through the API, as from the printer's own page): it prints on two, and the page says so
    // without a reload (farm_changed)
    assert.equal((await rig.api('/printers/two/api/gantry/queue/bed-clear', { method: 'POST' })).status, 204);
    await item.locator('.meta', { hasText: 'printing on Printer two' }).waitFor({ timeout: 15_000 });
    assert.equal(await item.getAttribute('data-state'), 'printing');
    await page.locator('.farm-card[data-printer="two"] .pill', { hasText: 'Printing' }).waitFor({ timeout: 15_000 });
    await page.locator('.farm-card[data-printer="two"] .farm-job', { hasText: /^\d+\.\d % · .* left/ }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#farm-beds .banner').count(), 0);

    // a second item, added elsewhere, shows up live and is removed from the page
    const res = await rig.api('/api/gantry/farm/queue', { method: 'POST', json: { path: 'tiny.gcode', constraints: { printers: ['two'] } } });
    assert.equal(res.status, 201);
    const second = page.locator('#farm-queue li', { hasText: 'tiny.gcode' });
    await second.locator('.meta', { hasText: /waiting: / }).waitFor({ timeout: 15_000 });
    await second.locator('button', { hasText: 'Up' }).click();
    await page.locator('#farm-queue li').first().filter({ hasText: 'tiny.gcode' }).waitFor();
    assert.deepEqual((await farm()).items.map((i) => i.path), ['tiny.gcode', 'slow.gcode']);
    await second.locator('button', { hasText: 'Remove' }).click();
    await second.waitFor({ state: 'detached' });
    assert.deepEqual((await farm()).items.map((i) => i.path), ['slow.gcode']);
    await shot('phone-farm-queue-printing');
  });

  test('copies cut short by a restart: "It was printed" settles one, "Print it again" puts the other back in the queue', async () => {
    // slow.gcode prints on two (the test before); a second item goes to the default printer
    const res = await rig.api('/api/gantry/farm/queue', { method: 'POST', json: { path: 'slow.gcode', constraints: { printers: ['printer'] } } });
    assert.equal(res.status, 201, await res.clone().text());
    const other = ((await res.json()) as { id: string }).id;
    await waitFor('both printing', async () => {
      const items = (await farm()).items;
      return items.length === 2 && items.every((i) => i.state === 'printing');
    }, 20_000, 50);
    const [onTwo, onDefault] = ['two', 'printer'].map((id) => (async () => (await farm()).items.find((i) => i.printing.some((p) => p.printer === id))!.id)());
    const twoId = await onTwo!;
    assert.equal(await onDefault, other);

    // Gantry restarts mid-print: both copies stay their printers', interrupted; the page signs in again
    await rig.restart();
    assert.deepEqual((await farm()).items.map((i) => i.state), ['interrupted', 'interrupted']);
    const login = await page.context().request.post(`${rig.gantry.url}/api/login`, { data: { user: 'owner', pass: 'owner-password' } });
    assert.equal(login.status(), 200);
    // (the page is at this address already: only a reload loads it afresh)
    await page.goto(`${rig.gantry.url}/?printer=printer#farm`);
    await page.reload();
    await page.waitForSelector('#app:not([hidden])');
    const row = (id: string) => page.locator(`#farm-queue li[data-item="${id}"]`);
    for (const id of [twoId, other]) {
      await row(id).locator('.pill', { hasText: 'interrupted' }).waitFor({ timeout: 15_000 });
      await row(id).getByRole('button', { name: 'It was printed' }).waitFor();
      await row(id).getByRole('button', { name: 'Print it again' }).waitFor();
    }
    await shot('phone-farm-interrupted');

    // the default printer's copy did get printed (the user took it off the bed): counted, and the item is done
    await row(other).getByRole('button', { name: 'It was printed' }).click();
    await row(other).waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual((await farm()).items.map((i) => i.id), [twoId]);
    // two's copy is to be printed again: back to waiting, and no longer offered the choice
    await row(twoId).getByRole('button', { name: 'Print it again' }).click();
    await row(twoId).and(page.locator('[data-state="waiting"]')).waitFor({ timeout: 10_000 });
    assert.equal(await row(twoId).getByRole('button', { name: 'It was printed' }).count(), 0);
    const [back] = (await farm()).items;
    assert.equal(back!.state, 'waiting');
    assert.deepEqual(back!.printing, [], 'on no printer until one takes it');
    // two still has its own interrupted print to resume or discard: the item says why it waits
    await row(twoId).locator('.meta', { hasText: /two: / }).waitFor({ timeout: 10_000 });
    // done with it: neither printer prints it again during the rest of the test
    assert.equal((await rig.api(`/api/gantry/farm/queue/${twoId}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(errors.filter((e) => !/Failed to load resource|WebSocket|ERR_CONNECTION/.test(e)), []);
    errors.length = 0;
  });

  test('a device plugged in after start: "New printer found" with its firmware; Add makes it a printer in the switcher', async () => {
    await page.goto(`${rig.gantry.url}/?printer=printer#dashboard`);
    const port = join(devDir!.dir, 'ttyUSB1');
    sims.push(await startVirtualPrinter(port, { speedFactor: 200 }));
    const banner = page.locator(`#found-banners .banner[data-port="${port}"]`);
    await banner.filter({ hasText: /New printer found on .*ttyUSB1: Marlin.*Virtual Printer/ }).waitFor({ timeout: 30_000 });
    await shot('phone-printer-found');
    await banner.locator('[name=id]').fill('found1');
    await banner.locator('[name=name]').fill('Found one');
    await banner.locator('button', { hasText: 'Add' }).click();
    await page.locator('.toast.ok', { hasText: 'Printer Found one added' }).waitFor();
    await banner.waitFor({ state: 'detached' });
    await page.locator('#printer-switch option[value="found1"]', { hasText: 'Found one' }).waitFor({ state: 'attached', timeout: 10_000 });
    await waitFor('found1 connected', () => rig.gantry.printers.get('found1')?.printer.state === 'OPERATIONAL', 20_000);
    assert.equal(rig.gantry.printers.get('found1')!.printer.port, port);
    assert.deepEqual(errors, []);
  });
});
