// The web page in a real headless Chromium against a real Gantry (virtual printer, ffmpeg test camera): what a
// new user does on a phone, step by step, with screenshots kept in test-artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { launchBrowser, watchErrors } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

const GCODE = fileURLToPath(new URL('../../../../shared/gcode/ps_cube20.gcode', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const PHONE = { width: 390, height: 844 };

// the page's globals, as far as the in-page checks below use them (tests compile without the DOM library)
interface El {
  textContent: string | null;
  getAttribute(name: string): string | null;
  naturalWidth?: number;
  value?: string;
}
declare const document: { querySelector(selector: string): El | null };
const DESKTOP = { width: 1280, height: 900 };

describe('web page (Chromium, phone size)', () => {
  let rig: GantryRig;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  const pill = () => page.textContent('#state-pill');
  const waitPill = (text: string, timeout = 30_000) => page.waitForFunction((t) => document.querySelector('#state-pill')?.textContent === t, text, { timeout });
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    rig = await gantryRig({ camera: 'testsrc' }, {}, ['--speed', '10']);
    await waitOperational(rig);
    // a frame a second: the short print below is sure to leave a timelapse to play
    assert.equal((await rig.api('/api/timelapse', { method: 'POST', json: { type: 'timed', interval: 1, renderAfterPrint: 'always' } })).status, 200);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    page = await context.newPage();
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
  });

  test('first run: create the admin account and see the API key; later log out and back in', async () => {
    await page.goto(rig.gantry.url);
    await page.waitForSelector('#setup-form:not([hidden])');
    await shot('phone-setup');
    await page.fill('#setup-form [name=name]', 'maker');
    await page.fill('#setup-form [name=password]', 'correct horse');
    await page.fill('#setup-form [name=password2]', 'different');
    // this install was started with an operator's key (--api-key): setup asks for it, and a wrong one is refused
    await page.fill('#setup-form [name=apikey]', 'not-the-key-not-the-key-not-the-key');
    await page.click('#setup-form button[type=submit]');
    assert.equal(await page.textContent('#setup-form .form-error'), 'The passwords differ');
    await page.fill('#setup-form [name=password2]', 'correct horse');
    await page.click('#setup-form button[type=submit]');
    await page.waitForFunction(() => /API key/.test(document.querySelector('#setup-form .form-error')?.textContent ?? ''));
    assert.deepEqual(errors.splice(0), ['Failed to load resource: the server responded with a status of 403 (Forbidden)'], 'the refused setup, nothing else');
    await page.fill('#setup-form [name=apikey]', rig.gantry.apiKey);
    await page.click('#setup-form button[type=submit]');
    await page.waitForSelector('#setup-done:not([hidden])');
    const key = (await page.textContent('#setup-key')) ?? '';
    assert.match(key, /^[A-Za-z0-9_-]{32,}$/);
    assert.equal((await rig.api('/api/version', { key })).status, 200, 'the key shown works');
    await page.click('#setup-continue');
    await page.waitForSelector('#app:not([hidden])');
    await waitPill('Operational');

    await page.click('#logout');
    await page.waitForSelector('#login-form:not([hidden])');
    await page.fill('#login-form [name=user]', 'maker');
    await page.fill('#login-form [name=pass]', 'wrong');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-form .form-error')?.textContent !== '');
    assert.equal(await page.textContent('#login-form .form-error'), 'Wrong user name or password');
    // Chromium logs the refused login (OctoPrint's 403) as a console error: that one is expected, nothing else
    assert.deepEqual(errors.splice(0), ['Failed to load resource: the server responded with a status of 403 (Forbidden)']);
    await page.fill('#login-form [name=pass]', 'correct horse');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    await waitPill('Operational');
  });

  test('upload ps_cube20.gcode: the progress bar reaches 100 % and the file is listed with its analysis', async () => {
    await page.click('.tabs a[data-tab=files]');
    const seen: number[] = [];
    await page.exposeFunction('recordUpload', (v: number) => seen.push(v));
    await page.evaluate(`new MutationObserver(() => recordUpload(Number(document.querySelector('#upload-status .progress').getAttribute('aria-valuenow'))))
      .observe(document.querySelector('#upload-status .progress'), { attributes: true })`);
    await page.setInputFiles('#upload-input', GCODE);
    await page.waitForFunction(() => document.querySelector('#upload-status .progress')?.getAttribute('aria-valuenow') === '100');
    assert.equal(await page.textContent('#upload-pct'), '100 %');
    assert.equal(seen.at(-1), 100, `progress went ${seen.join(' → ')}`);
    const item = page.locator('#file-list li', { hasText: 'ps_cube20.gcode' });
    await item.waitFor();
    await page.waitForFunction(() => /layers/.test(document.querySelector('#file-list li')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const meta = (await item.locator('.meta').textContent()) ?? '';
    assert.match(meta, /≈ 20m \d\ds/, 'the estimated time from the analysis');
    assert.match(meta, /100 layers/);
    await shot('phone-files');
  });

  test('print it from the file list: progress and temperatures move on the dashboard', async () => {
    const before = Number.parseFloat((await page.textContent('.heater .now')) ?? '0');
    await page.locator('#file-list li', { hasText: 'ps_cube20.gcode' }).getByRole('button', { name: 'Print' }).click();
    await page.click('.tabs a[data-tab=dashboard]');
    await waitPill('Printing');
    assert.equal(await page.textContent('#job-file'), 'ps_cube20.gcode');
    await page.waitForFunction((t0) => Number.parseFloat(document.querySelector('.heater .now')?.textContent ?? '0') > t0 + 20, before, { timeout: 60_000 });
    await page.waitForFunction(() => Number.parseFloat(document.querySelector('#job-pct')?.textContent ?? '') > 1, undefined, { timeout: 120_000 });
    const first = Number.parseFloat((await page.textContent('#job-pct')) ?? '0');
    await page.waitForFunction((p) => Number.parseFloat(document.querySelector('#job-pct')?.textContent ?? '') > p + 1, first, { timeout: 60_000 });
    assert.notEqual(await page.textContent('#job-left'), '–', 'time left shown');
    assert.match((await page.textContent('#job-eta')) ?? '', /\d/, 'finish time shown');
    await shot('phone-printing');
  });

  test('pause, resume, then cancel after confirming', async () => {
    await page.click('#job-pause');
    await waitPill('Paused');
    await page.click('#job-resume');
    await waitPill('Printing');
    await page.click('#job-cancel');
    await page.waitForSelector('#confirm[open]');
    assert.match((await page.textContent('#confirm-text')) ?? '', /Cancel this print/);
    await page.click('#confirm button[value=cancel]');
    assert.equal(await pill(), 'Printing', 'saying no keeps printing');
    await page.click('#job-cancel');
    await page.click('#confirm-ok');
    await waitPill('Operational');
    const history = (await (await rig.api('/api/gantry/history')).json()) as { jobs: { result: string }[] };
    assert.equal(history.jobs[0]?.result, 'cancelled');
  });

  test('terminal: send M115 and see the firmware answer', async () => {
    await page.click('.tabs a[data-tab=terminal]');
    // the connection's own M115 is already in the log: wait for one more answer, ours
    const answers = () => page.evaluate(() => (document.querySelector('#term-log')?.textContent ?? '').split('FIRMWARE_NAME').length - 1);
    const before = await answers();
    await page.fill('#term-input', 'M115');
    await page.press('#term-input', 'Enter');
    await page.waitForFunction((n) => (document.querySelector('#term-log')?.textContent ?? '').split('FIRMWARE_NAME').length - 1 > n, before, { timeout: 10_000 });
    // cleared for the next command once the API took it (its answer may come over the socket first)
    await page.waitForFunction(() => document.querySelector('#term-input')?.value === '', undefined, { timeout: 5_000 });
    await page.fill('#term-filter', 'Cap:');
    const filtered = (await page.textContent('#term-log')) ?? '';
    assert.ok(filtered.split('\n').every((l) => l.includes('Cap:')), 'the filter keeps matching lines only');
    await page.fill('#term-filter', '');
    await shot('phone-terminal');
  });

  test('the camera: a live picture on the dashboard, and a snapshot', async () => {
    await page.click('.tabs a[data-tab=dashboard]');
    await page.locator('#card-webcam').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelector('#cam-img')?.naturalWidth === 640, undefined, { timeout: 15_000 });
    const snap = await page.request.get(new URL((await page.getAttribute('#cam-snapshot', 'href'))!, rig.gantry.url).href);
    assert.equal(snap.headers()['content-type'], 'image/jpeg');
    await shot('phone-dashboard');
  });

  test('history totals, and the print\'s timelapse plays in the page', async () => {
    await page.click('.tabs a[data-tab=queue]');
    await page.waitForFunction(() => /1 cancelled/.test(document.querySelector('#history-totals')?.textContent ?? ''));
    assert.match((await page.textContent('#history-list')) ?? '', /ps_cube20\.gcode.*cancelled/s);
    await page.click('.tabs a[data-tab=timelapse]');
    const item = page.locator('#tl-list li', { hasText: 'ps_cube20_' });
    await item.waitFor({ timeout: 60_000 });
    await item.getByRole('button', { name: 'Play' }).click();
    // HAVE_CURRENT_DATA: the browser decoded a picture of the video
    await page.waitForFunction(() => (document.querySelector('#player-video') as unknown as { readyState: number }).readyState >= 2, undefined, { timeout: 15_000 });
    await shot('phone-timelapse');
    await page.click('#player button[type=submit]');
  });

  test('an app asking for access: the owner sees it, approves it, and the app gets its key', async () => {
    await page.click('.tabs a[data-tab=dashboard]');
    const req = await rig.api('/plugin/appkeys/request', { method: 'POST', key: null, json: { app: 'Home Assistant' } });
    const { app_token: token } = (await req.json()) as { app_token: string };
    const toast = page.locator('.toast', { hasText: 'Home Assistant wants access to Gantry' });
    await toast.waitFor();
    await toast.getByRole('button', { name: 'Review' }).click();
    await page.locator('#approvals .banner', { hasText: 'Home Assistant wants access' }).getByRole('button', { name: 'Allow' }).click();
    const key = await waitFor('the key handed to the app', async () => {
      const poll = await rig.api(`/plugin/appkeys/request/${token}`, { key: null });
      return poll.status === 200 ? ((await poll.json()) as { api_key: string }).api_key : undefined;
    });
    assert.equal((await rig.api('/api/printer', { key })).status, 200, 'the new key works');
  });

  test('settings: renaming the printer shows in the header and is saved', async () => {
    await page.click('.tabs a[data-tab=settings]');
    await page.waitForFunction(() => (document.querySelector('#set-printer [name=name]') as unknown as { value: string } | null)?.value === 'Gantry');
    await page.fill('#set-printer [name=name]', 'Workshop Ender');
    await page.click('#set-printer button[type=submit]');
    await page.locator('.toast', { hasText: 'Saved' }).waitFor();
    assert.equal(await page.textContent('#printer-name'), 'Workshop Ender');
    const saved = (await (await rig.api('/api/settings')).json()) as { appearance: { name: string } };
    assert.equal(saved.appearance.name, 'Workshop Ender');
  });

  test('accessible: every control has a name, every image alt text; text contrast ≥ 4.5:1 in light and dark', async () => {
    const unnamed = await page.evaluate(`[...document.querySelectorAll('input, select, button, a.button, img')].filter((el) => {
      if (el.tagName === 'IMG') return !el.hasAttribute('alt');
      if (el.type === 'hidden' || el.id === 'upload-input') return false;
      const label = el.closest('label') || (el.id && document.querySelector('label[for="' + el.id + '"]'));
      const name = (el.getAttribute('aria-label') || (label ? label.textContent : '') || (el.tagName !== 'INPUT' && el.tagName !== 'SELECT' ? el.textContent : '') || '').trim();
      return !name;
    }).map((el) => el.outerHTML.slice(0, 80))`);
    assert.deepEqual(unnamed, []);
    const contrast = `(() => {
      const rgb = (c) => { const d = document.createElement('div'); d.style.color = c; document.body.append(d); const v = getComputedStyle(d).color.match(/\\d+/g).slice(0, 3).map(Number); d.remove(); return v; };
      const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      const v = (n) => getComputedStyle(document.documentElement).getPropertyValue(n).trim();
      return { text: ratio(v('--text'), v('--bg')), muted: ratio(v('--muted'), v('--card')), accent: ratio(v('--accent-text'), v('--accent')), danger: ratio(v('--danger'), v('--card')), link: ratio(v('--accent'), v('--card')) };
    })()`;
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const r = (await page.evaluate(contrast)) as Record<string, number>;
      assert.equal(Object.keys(r).length, 5);
      for (const [k, v] of Object.entries(r)) assert.ok(v >= 4.5, `${scheme} ${k}: ${v.toFixed(2)}:1`);
      await page.click('.tabs a[data-tab=dashboard]');
      await shot(`phone-dashboard-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: null });
  });

  test('installable as an app: Chromium finds nothing missing in the manifest and icons', async () => {
    const cdp = await context.newCDPSession(page);
    const manifest = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; url: string };
    assert.deepEqual(manifest.errors, []);
    assert.match(manifest.url, /manifest\.webmanifest$/);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
    // the test browser profile is an incognito one, which is never offered installs; nothing else may be missing
    assert.deepEqual(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito'), []);
  });

  test('desktop width, every section; no console errors anywhere', async () => {
    await page.setViewportSize(DESKTOP);
    for (const tab of ['dashboard', 'files', 'queue', 'terminal', 'timelapse', 'settings']) {
      await page.click(`.tabs a[data-tab=${tab}]`);
      await page.waitForSelector(`#view-${tab}:not([hidden])`);
      await page.screenshot({ path: `${ARTIFACTS}desktop-${tab}.png` });
    }
    await page.setViewportSize(PHONE);
    assert.deepEqual(errors, []);
  });
});
