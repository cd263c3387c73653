// Several printers in the page, in a real Chromium against a real Gantry with three virtual printers: the switcher
// appears once there is a second printer and the page then talks to the chosen printer's base URL; the farm view
// shows every printer (one column on a phone); printers are added and removed from Settings → Printers, with
// Gantry's own words when it refuses.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { signedInPage } from '../helpers/browser.js';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { listPrinters, slowGcode } from '../helpers/printers.js';
import { waitFor } from '../helpers/wait.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

// the page's globals, as far as the in-page checks below use them (tests compile without the DOM library)
declare const document: { querySelector(selector: string): { textContent: string | null; naturalWidth?: number } | null };
declare const localStorage: { getItem(key: string): string | null };
declare const location: { hash: string };

describe('several printers in the page (Chromium)', () => {
  let rig: GantryRig;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const sockets: string[] = [];

  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  const printers = () => listPrinters(rig);
  const pill = (text: string) => page.waitForFunction((t) => document.querySelector('#state-pill')?.textContent === t, text, { timeout: 20_000 });

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    rig = await gantryRig({ camera: 'testsrc' });
    await waitOperational(rig);
    ({ browser, page, errors } = await signedInPage(rig.gantry.url, rig.gantry.apiKey));
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
  });
  after(async () => {
    try {
      // printer two's print, cancelled and ended (its history and checkpoint written) before Gantry stops
      if (rig && (await printers()).some((p) => p.printing)) {
        await rig.api('/printers/two/api/job', { method: 'POST', json: { command: 'cancel' } });
        await waitFor('the print on two ended', async () => !(await printers()).some((p) => p.printing), 20_000, 50);
      }
    } finally {
      await browser?.close();
      await rig?.close();
    }
  });

  test('one printer: no switcher and no "Farm queue" on a file; a second added elsewhere: both appear, live', async () => {
    await pill('Operational');
    assert.equal(await page.isVisible('#printer-switch'), false);
    assert.equal(await page.isVisible('#printer-name'), true);
    // with one printer the farm is just its own queue: a file offers Print and Queue, not "Farm queue"
    assert.equal((await uploadGcode(rig, 'one.gcode', 'G28\n')).status, 201);
    await page.evaluate(() => (location.hash = '#files'));
    const row = page.locator('#file-list li', { hasText: 'one.gcode' });
    await row.getByRole('button', { name: 'Queue', exact: true }).waitFor();
    assert.equal(await row.getByRole('button', { name: 'Farm queue' }).count(), 0, 'no Farm queue with one printer');
    assert.equal(await row.locator('button', { hasText: 'Farm queue' }).isVisible(), false);
    for (const id of ['two', 'three']) {
      const res = await rig.api('/api/gantry/printers', { method: 'POST', json: { id, name: `Printer ${id}`, serial: { port: 'virtual' } } });
      assert.equal(res.status, 201, await res.text());
    }
    // the push socket's gantry_printers message redraws it, no reload
    await page.waitForFunction(() => document.querySelector('#printer-switch')?.textContent === 'GantryPrinter twoPrinter threeAll printers' || false, undefined, { timeout: 10_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}; the switcher says ${await page.textContent('#printer-switch')}`);
    });
    assert.equal(await page.isVisible('#printer-switch'), true);
    assert.equal(await page.isVisible('#printer-name'), false);
    await row.getByRole('button', { name: 'Farm queue' }).waitFor({ timeout: 10_000 });
    await page.evaluate(() => (location.hash = '#dashboard'));
    await waitFor('printers two and three operational', async () => (await printers()).every((p) => p.state === 'OPERATIONAL'), 20_000, 100);
  });

  test("switching: printer two's print shows only when two is chosen; the choice is kept", async () => {
    const form = new FormData();
    form.append('file', new Blob([slowGcode()]), 'slow.gcode');
    assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
    const start = await rig.api('/printers/two/api/files/local/slow.gcode', { method: 'POST', json: { command: 'select', print: true } });
    assert.equal(start.status, 204, await start.text());
    await waitFor('two printing', async () => (await printers()).find((p) => p.id === 'two')?.printing, 10_000, 50);

    // the default printer's page: not printing
    await pill('Operational');
    assert.equal(await page.textContent('#job-file'), 'No file selected');
    sockets.length = 0;
    await page.selectOption('#printer-switch', 'two');
    await page.waitForURL(/\?printer=two/);
    await pill('Printing');
    assert.equal(await page.textContent('#job-file'), 'slow.gcode');
    // the switcher fills from its own request, which may answer after the push socket's first state
    await page.waitForFunction(() => (document.querySelector('#printer-switch') as unknown as { value: string } | null)?.value === 'two', undefined, { timeout: 10_000 });
    // the live state came from two's own push socket, at its base URL
    assert.deepEqual(sockets, ['/printers/two/sockjs/websocket']);
    await shot('phone-printer-two');
    assert.equal(await page.evaluate(() => localStorage.getItem('gantry.printer')), 'two');
    // opened again at /, the page comes back to printer two, and says so in the address
    await page.goto(rig.gantry.url);
    await page.waitForURL(/\?printer=two/);
    await pill('Printing');
    // three is not printing
    await page.selectOption('#printer-switch', 'three');
    await page.waitForURL(/\?printer=three/);
    await pill('Operational');
    assert.equal(await page.textContent('#job-file'), 'No file selected');
    // its controls reach three: a G-code from the terminal lands in three's simulator, not two's or the default's
    await page.goto(`${rig.gantry.url}/?printer=three#terminal`);
    await page.fill('#term-input', 'M117 hello three');
    await page.press('#term-input', 'Enter');
    await waitFor('M117 at three', async () => (await rig.executedBy('three')).includes('M117 hello three'), 10_000, 50);
    assert.equal((await rig.executedBy('printer')).includes('M117 hello three'), false);
  });

  test('the farm view: every printer with its state, print and temperatures; a camera still only where there is a camera', async () => {
    await page.goto(`${rig.gantry.url}/?printer=printer#dashboard`);
    await pill('Operational');
    await page.selectOption('#printer-switch', '*');
    await page.waitForURL(/#farm$/);
    const card = (id: string) => page.locator(`.farm-card[data-printer="${id}"]`);
    for (const [id, state] of [['printer', 'Operational'], ['two', 'Printing'], ['three', 'Operational']] as const) {
      await card(id).locator('.pill', { hasText: state }).waitFor({ timeout: 15_000 });
      await card(id).locator('.farm-temps', { hasText: /Nozzle \d+/ }).waitFor({ timeout: 15_000 });
    }
    assert.equal(await card('two').locator('.farm-file').textContent(), 'slow.gcode');
    assert.match((await card('two').locator('.farm-job').textContent()) ?? '', /^\d+\.\d % · .* left/);
    assert.equal(await card('printer').locator('.progress').isVisible(), false, 'no print, no progress bar');
    // the default printer has the test camera: its card shows a still; the others have none and ask for none
    await page.waitForFunction(() => (document.querySelector('.farm-card[data-printer="printer"] .farm-cam') as { naturalWidth?: number } | null)?.naturalWidth === 640, undefined, { timeout: 20_000 });
    assert.equal(await card('two').locator('.farm-cam').isVisible(), false);

    // a phone: one column, the cards one under another
    const boxes = await Promise.all(['printer', 'two', 'three'].map(async (id) => (await card(id).boundingBox())!));
    assert.deepEqual(boxes.map((b) => b.x), [boxes[0]!.x, boxes[0]!.x, boxes[0]!.x], 'all in one column');
    assert.ok(boxes[0]!.y + boxes[0]!.height <= boxes[1]!.y && boxes[1]!.y + boxes[1]!.height <= boxes[2]!.y, 'one under another');
    assert.ok(boxes[0]!.width > 300, `the card fills the phone's width (${boxes[0]!.width} px)`);
    await shot('phone-farm');

    // a tap opens that printer
    await card('two').click();
    await page.waitForURL(/\?printer=two#dashboard$/);
    await pill('Printing');
  });

  test('Settings → Printers: a bad id gets Gantry\'s 400 text; a good one is added; removal refused while printing', async () => {
    await page.goto(`${rig.gantry.url}/?printer=printer#settings`);
    await page.locator('#printers-section summary').click();
    await page.locator('#printer-list li[data-printer="two"]').waitFor();
    const form = page.locator('#printer-form');
    await page.fill('#printer-form [name=id]', 'Not A Slug');
    await page.selectOption('#printer-port', 'VIRTUAL');
    await form.locator('button[type=submit]').click();
    await form.locator('.form-error', { hasText: /a-z 0-9/ }).waitFor();

    // a port typed in that another printer holds: Gantry's 409 in the form
    const held = (await printers()).find((p) => p.id === 'printer') as unknown as { port: string };
    await page.fill('#printer-form [name=id]', 'five');
    await page.selectOption('#printer-port', '');
    await page.fill('#printer-port-other', held.port);
    await form.locator('button[type=submit]').click();
    await form.locator('.form-error', { hasText: /belongs to printer "printer"/ }).waitFor();

    await page.fill('#printer-form [name=id]', 'four');
    await page.fill('#printer-form [name=name]', 'Printer four');
    await page.selectOption('#printer-port', 'VIRTUAL');
    await form.locator('button[type=submit]').click();
    await page.locator('#printer-list li[data-printer="four"]', { hasText: 'Printer four' }).waitFor();
    await shot('phone-settings-printers');
    assert.equal(await form.locator('.form-error').textContent(), '');
    assert.ok((await printers()).some((p) => p.id === 'four'));
    // the default printer cannot be removed: no button for it
    assert.equal(await page.locator('#printer-list li[data-printer="printer"] button').count(), 0);

    // two prints: the removal is refused, in Gantry's words
    await page.locator('#printer-list li[data-printer="two"] button', { hasText: 'Remove' }).click();
    await page.click('#confirm-ok');
    await page.locator('.toast.error', { hasText: /printing/ }).waitFor();
    assert.ok((await printers()).some((p) => p.id === 'two'));

    // four is removed after confirming (and kept when the question is answered no)
    await page.locator('#printer-list li[data-printer="four"] button', { hasText: 'Remove' }).click();
    await page.click('#confirm button[value=cancel]');
    assert.ok((await printers()).some((p) => p.id === 'four'));
    await page.locator('#printer-list li[data-printer="four"] button', { hasText: 'Remove' }).click();
    await page.click('#confirm-ok');
    await page.locator('#printer-list li[data-printer="four"]').waitFor({ state: 'detached' });
    assert.equal((await printers()).some((p) => p.id === 'four'), false);

    // the refusals' 400, 409 and 409 are the browser's own console lines; anything else is a fault of the page
    assert.deepEqual(errors.filter((e) => !/status of (400|409)/.test(e)), []);
    assert.equal(errors.length, 3, errors.join('\n'));
  });

  test('a printer that is gone (an old bookmark): the page falls back to the default printer', async () => {
    await page.goto(`${rig.gantry.url}/?printer=gone#dashboard`);
    await page.waitForURL(/\?printer=printer#dashboard$/);
    await pill('Operational');
    assert.equal(await page.evaluate(() => localStorage.getItem('gantry.printer')), 'printer');
  });
});
