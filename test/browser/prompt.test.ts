// The printer's questions on the dashboard, in a real Chromium: M0 and an M600 filament change put up their
// prompts as a banner with the firmware's buttons, a click answers (M876), and the banner goes away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { signedInPage } from '../helpers/browser.js';
import { terminal } from '../helpers/job-control.js';

describe('host prompts on the web page (Chromium)', () => {
  let rig: GantryRig;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const banner = () => page.locator('#prompt-banner');

  before(async () => {
    rig = await gantryRig({ camera: 'none' });
    await waitOperational(rig);
    ({ browser, page, errors } = await signedInPage(rig.gantry.url, rig.gantry.apiKey));
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
  });

  test('M0: the question and its button on the dashboard; a click answers it and the banner goes', async () => {
    assert.equal(await banner().isVisible(), false);
    await terminal(rig, 'M0 Clear the bed, then continue');
    await banner().getByText('Clear the bed, then continue').waitFor();
    await banner().getByRole('button', { name: 'Continue' }).click();
    await banner().waitFor({ state: 'hidden' });
    await rig.waitExecuted('M876 S0 after the M0', (e) => e.at(-1) === 'M876 S0');
  });

  test('an M600 filament change: each prompt in turn, the chosen button answered by its number', async () => {
    await terminal(rig, 'M600');
    await banner().getByText('Nozzle Parked').waitFor();
    await banner().getByRole('button', { name: 'Continue' }).click();
    await banner().getByText('Paused').waitFor();
    assert.deepEqual(await banner().getByRole('button').allTextContents(), ['PurgeMore', 'Continue']);
    await banner().getByRole('button', { name: 'Continue' }).click();
    await banner().waitFor({ state: 'hidden' });
    await rig.waitExecuted('the answers', (e) => e.slice(e.lastIndexOf('M600')).join(' ') === 'M600 M876 S0 M876 S1');
    assert.deepEqual(errors, []);
  });
});
