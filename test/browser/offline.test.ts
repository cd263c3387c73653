// The page with no printer attached: nothing breaks, controls that need the printer are off, and what the API
// refuses is said to the user in its own words. The queue is managed from the page meanwhile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PUBLIC_DIR } from '../../src/api/static.js';
import { type GantryRig, gantryRig, uploadGcode } from '../helpers/gantry-rig.js';
import { signedInPage } from '../helpers/browser.js';

interface El {
  textContent: string | null;
  hidden?: boolean;
}
declare const document: { querySelector(selector: string): El | null };

describe('web page with the printer offline', () => {
  let rig: GantryRig;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    rig = await gantryRig({ serial: 'NONE', camera: 'none' });
    for (const name of ['first.gcode', 'second.gcode']) assert.equal((await uploadGcode(rig, name, 'G28\nG1 X10 Y10 F3000\nM84\n')).status, 201);
    ({ browser, page, errors } = await signedInPage(rig.gantry.url, rig.gantry.apiKey));
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
  });

  test('the dashboard says Offline, offers Connect, and keeps movement controls off; no camera card', async () => {
    await page.waitForFunction(() => document.querySelector('#state-pill')?.textContent === 'Offline').catch(async (err: Error) => {
      throw new Error(`${err.message}: the pill says ${await page.textContent('#state-pill')}`);
    });
    assert.equal(await page.isVisible('#conn-connect'), true);
    assert.equal(await page.isDisabled('#card-controls button[data-home="x,y,z"]'), true);
    assert.equal(await page.isVisible('#card-webcam'), false);
    assert.equal(await page.textContent('#job-file'), 'No file selected');
  });

  test('printing while offline: the API\'s reason is shown to the user', async () => {
    await page.click('.tabs a[data-tab=files]');
    await page.locator('#file-list li', { hasText: 'first.gcode' }).getByRole('button', { name: 'Print' }).click();
    const toast = page.locator('.toast.error');
    await toast.waitFor();
    assert.match((await toast.textContent()) ?? '', /Printer is not operational/);
    // Chromium logs the refused request (409) as a console error: expected, and the only one
    assert.deepEqual(errors.splice(0), ['Failed to load resource: the server responded with a status of 409 (Conflict)']);
  });

  test('a file dropped on the page is uploaded; its embedded thumbnail shows in the list', async () => {
    const png = await readFile(join(PUBLIC_DIR, 'icon-192.png'));
    const b64 = png.toString('base64');
    const text = `; thumbnail begin 192x192 ${b64.length}\n${b64.match(/.{1,78}/g)!.map((l) => `; ${l}`).join('\n')}\n; thumbnail end\nG28\nG1 X10 Y10 E1 F1200\n`;
    await page.click('.tabs a[data-tab=dashboard]');
    // what a drag from the file manager delivers: a drop event whose DataTransfer holds the file
    const drop = await page.evaluateHandle(`(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(text)}], 'dropped.gcode')); return dt; })()`);
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: drop });
    await page.dispatchEvent('main', 'drop', { dataTransfer: drop });
    await page.locator('.toast', { hasText: 'dropped.gcode uploaded' }).waitFor();
    assert.equal(new URL(page.url()).hash, '#files', 'the page went to the files');
    const thumb = page.locator('#file-list li', { hasText: 'dropped.gcode' }).locator('img.thumb');
    await thumb.waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => (document.querySelector('#file-list img.thumb') as unknown as { naturalWidth: number } | null)?.naturalWidth === 192);
  });

  test('the queue: add two files, move the second up, remove one', async () => {
    for (const name of ['first.gcode', 'second.gcode']) {
      await page.locator('#file-list li', { hasText: name }).getByRole('button', { name: 'Queue', exact: true }).click();
      await page.locator('.toast', { hasText: `${name} added to the queue` }).waitFor();
    }
    await page.click('.tabs a[data-tab=queue]');
    await page.locator('#queue-list li', { hasText: '2. second.gcode' }).waitFor();
    await page.getByRole('button', { name: 'Up second.gcode' }).click();
    await page.locator('#queue-list li', { hasText: '1. second.gcode' }).waitFor();
    const q = (await (await rig.api('/api/gantry/queue')).json()) as { items: { path: string }[] };
    assert.deepEqual(q.items.map((i) => i.path), ['second.gcode', 'first.gcode']);
    await page.locator('#queue-list li', { hasText: 'first.gcode' }).getByRole('button', { name: 'Remove' }).click();
    await page.waitForFunction(() => !/first\.gcode/.test(document.querySelector('#queue-list')?.textContent ?? ''));
    assert.equal(((await (await rig.api('/api/gantry/queue')).json()) as { items: unknown[] }).items.length, 1);
    // added elsewhere (a farm manager, MQTT): the open page shows it by itself
    assert.equal((await rig.api('/api/gantry/queue', { method: 'POST', json: { path: 'first.gcode', copies: 3 } })).status, 201);
    await page.locator('#queue-list li', { hasText: '2. first.gcode' }).waitFor();
    assert.match((await page.locator('#queue-list li', { hasText: 'first.gcode' }).textContent()) ?? '', /0 of 3 printed/);
    assert.deepEqual(errors, []);
  });
});
