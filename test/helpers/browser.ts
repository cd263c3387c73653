// Debian's Chromium driven by playwright-core, headless, with the flags a CI container needs.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env['GANTRY_CHROMIUM'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Collects console errors and uncaught exceptions; the tests assert there are none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** A phone-sized page signed in as the first admin ("owner"), made through the API in the browser's cookie jar as
 * after a finished setup (the rig's operator key closed keyless setup: the key creates the account, as on a headless
 * install), opened at Gantry's page with its app shown. */
export async function signedInPage(url: string, apiKey: string): Promise<{ browser: Browser; page: Page; errors: string[] }> {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const setup = await context.request.post(`${url}/api/gantry/setup`, { data: { name: 'owner', password: 'owner-password' }, headers: { 'X-Api-Key': apiKey } });
    if (setup.status() !== 201) throw new Error(`setup answered ${setup.status()}: ${await setup.text()}`);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(url);
    await page.waitForSelector('#app:not([hidden])');
    return { browser, page, errors };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
