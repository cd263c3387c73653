// The Pi's health and the backup in the page, in a real Chromium: an under-volted Pi (a fake /sys tree) puts up a
// warning banner on the dashboard, and so does a mistake in the image's first-boot file; Settings → System shows
// the figures, and a restore of a bad archive says what was wrong in the form.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { signedInPage } from '../helpers/browser.js';
import { tempDir } from '../helpers/tmp.js';

describe('system health and backup in the page (Chromium)', () => {
  let rig: GantryRig;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let fake: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    fake = await tempDir();
    const firmware = join(fake.dir, 'sys/devices/platform/soc/soc:firmware');
    await mkdir(firmware, { recursive: true });
    await writeFile(join(firmware, 'get_throttled'), '50005\n');
    await mkdir(join(fake.dir, 'proc'), { recursive: true });
    await writeFile(join(fake.dir, 'proc/meminfo'), 'MemTotal: 470000 kB\nMemAvailable: 200000 kB\n');
    rig = await gantryRig({ serial: 'NONE', camera: 'none' }, { systemRoot: fake.dir });
    // what the image's first-boot script leaves when the file had a mistake
    await writeFile(join(rig.dir, 'data', 'firstboot.json'), JSON.stringify({ at: '2026-11-26T06:10:00Z', applied: ['time zone: Europe/Berlin'], errors: ['line 11: unknown setting "printer_colour": ignored'] }));
    ({ browser, page, errors } = await signedInPage(rig.gantry.url, rig.gantry.apiKey));
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
    await fake?.cleanup();
  });

  test('an under-volted Pi: a warning banner on the dashboard', async () => {
    const banner = page.locator('#health-banner');
    await banner.getByText('Under-voltage: the power supply is too weak').waitFor();
    assert.equal(await banner.locator('li[data-code="throttled"]').count(), 1);
  });

  test('a first-boot file with a mistake: a banner that lists it, dismissed for good', async () => {
    const banner = page.locator('#firstboot-banner');
    await banner.getByText('line 11: unknown setting "printer_colour": ignored').waitFor();
    await banner.getByRole('button', { name: 'Dismiss' }).click();
    await banner.waitFor({ state: 'hidden' });
    await page.reload();
    await page.locator('#health-banner').getByText('Under-voltage').waitFor();
    assert.equal(await banner.isVisible(), false, 'still dismissed after a reload');
  });

  test('Settings → System: the figures, and a bad backup refused in the form', async () => {
    await page.goto(`${rig.gantry.url}/#settings`);
    await page.locator('#system-section summary').click();
    await page.locator('#system-health').getByText('memory 195 of 459 MB free').waitFor();
    await page.setInputFiles('#restore-file', { name: 'backup.tar.gz', mimeType: 'application/gzip', buffer: Buffer.from('not an archive') });
    await page.locator('#restore-form button[type=submit]').click();
    await page.locator('dialog button', { hasText: 'Restore' }).click();
    await page.locator('#restore-form .form-error').getByText('The backup is not a readable .tar.gz').waitFor();
    // the refused restore's 400 is the browser's own console line; anything else is a fault of the page
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
  });
});
