// OctoPrint's JavaScript client in a real browser: sockjs-client's browser bundle in Chromium, as OctoPrint's page
// and the dashboards built on OctoPrint.socket run it. On Gantry's own origin the login cookie signs it in; on
// another origin (another port on the same host: the same site, so the Lax cookie does come along) it does not, and
// only an auth message signs it in, over CORS for the XHR transports.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../src/accounts/sessions.js';
import { launchBrowser } from '../helpers/browser.js';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { addUser, login } from '../helpers/accounts.js';

const BUNDLE = createRequire(import.meta.url).resolve('sockjs-client/dist/sockjs.min.js');
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling'];

// the page's script, beside sockjs-client: sockets whose messages are taken apart by key as OctoPrint.socket does
const SCRIPT = `
window.sockets = [];
window.openSocket = function (base, transport, auth) {
  var s = { transport: transport, got: [], closed: null, sock: new SockJS(base + '/sockjs', null, { transports: [transport] }) };
  s.sock.onopen = function () { if (auth) s.sock.send(JSON.stringify({ auth: auth })); };
  s.sock.onmessage = function (e) {
    Object.keys(e.data).forEach(function (type) {
      s.got.push({ type: type, dataType: typeof e.data, user: type === 'connected' ? e.data[type].gantryUser : undefined });
    });
  };
  s.sock.onclose = function (e) { s.closed = e.code; };
  window.sockets.push(s);
};
window.count = function (i, type) { return window.sockets[i].got.filter(function (m) { return m.type === type; }).length; };
`;
const PAGE = `<!doctype html><meta charset="utf-8"><title>sockjs</title><script src="/sockjs-client.js"></script><script>${SCRIPT}</script>`;

interface Seen {
  transport: string;
  used: string;
  got: { type: string; dataType: string; user?: string | null }[];
}

describe('SockJS in Chromium (OctoPrint.socket)', () => {
  let rig: GantryRig;
  let browser: Browser;
  let foreign: Server;
  let foreignOrigin: string;
  let cookie: string;
  let auth: string;
  let bundle: string;

  before(async () => {
    rig = await gantryRig({ serial: 'VIRTUAL' });
    bundle = await readFile(BUNDLE, 'utf8');
    await addUser(rig, 'browseruser', 'browser password', 'user');
    const s = await login(rig, 'browseruser', 'browser password');
    cookie = /gantry_session=([^;]+)/.exec(s.cookie)![1]!;
    auth = `${s.name}:${s.session}`;
    // another web server on the printer's host: a page of another origin
    foreign = createServer((req, res) => {
      if (req.url === '/sockjs-client.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    foreignOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => foreign?.close(resolve));
    await rig?.close();
  });

  /** a browser that is signed in to Gantry (its login cookie), on a page at `origin` */
  const signedInPage = async (origin: string): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser.newContext();
    await context.addCookies([{ name: SESSION_COOKIE, value: cookie, url: rig.gantry.url, httpOnly: true, sameSite: 'Lax' }]);
    const page = await context.newPage();
    // console errors with where they came from; the browser asks Gantry for a /favicon.ico it does not have
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    if (origin === rig.gantry.url) {
      // Gantry has no such page to serve: its SockJS welcome text, with the scripts put in
      await page.goto(`${origin}/sockjs`);
      await page.addScriptTag({ content: bundle });
      await page.addScriptTag({ content: SCRIPT });
    } else {
      await page.goto(`${origin}/sockjs-test.html`);
    }
    return { page, errors };
  };
  const open = (page: Page, transport: string, authMessage: string | null) => page.evaluate(`openSocket(${JSON.stringify(rig.gantry.url)}, ${JSON.stringify(transport)}, ${JSON.stringify(authMessage)})`);
  const waitCount = (page: Page, i: number, type: string, n: number) => page.waitForFunction(`count(${i}, ${JSON.stringify(type)}) >= ${n}`, undefined, { timeout: 10_000 });
  const seen = (page: Page) => page.evaluate('sockets.map(function (s) { return { transport: s.transport, used: s.sock.transport, got: s.got }; })') as Promise<Seen[]>;

  test("on Gantry's own origin the login cookie signs every transport in, with no auth message", async () => {
    const { page, errors } = await signedInPage(rig.gantry.url);
    try {
      for (const [i, t] of TRANSPORTS.entries()) {
        await open(page, t, null);
        await waitCount(page, i, 'current', 2).catch(async (err: Error) => {
          throw new Error(`${err.message}: ${JSON.stringify(await seen(page))} ${errors.join(' | ')}`);
        });
      }
      for (const s of await seen(page)) {
        assert.equal(s.used, s.transport);
        const connected = s.got.find((m) => m.type === 'connected')!;
        assert.equal(connected.user, 'browseruser', s.transport);
        assert.equal(s.got.filter((m) => m.type === 'history').length, 1, s.transport);
        assert.ok(s.got.every((m) => m.dataType === 'object'), `${s.transport}: each message an object`);
      }
      assert.deepEqual(errors, []);
    } finally {
      await page.context().close();
    }
  });

  test('on another origin the cookie signs nothing in; an auth message does, over CORS too', async () => {
    const { page, errors } = await signedInPage(foreignOrigin);
    try {
      // socket i: no auth message; socket 3 + i: the same transport with one
      for (const [i, t] of TRANSPORTS.entries()) {
        await open(page, t, null);
        await waitCount(page, i, 'connected', 1);
      }
      for (const [i, t] of TRANSPORTS.entries()) {
        await open(page, t, auth);
        await waitCount(page, TRANSPORTS.length + i, 'current', 2);
      }
      const all = await seen(page);
      for (const s of all.slice(0, TRANSPORTS.length)) {
        assert.equal(s.used, s.transport);
        assert.equal(s.got.find((m) => m.type === 'connected')!.user, null, s.transport);
        assert.deepEqual(s.got.map((m) => m.type), ['connected'], `${s.transport}: two ticks went by, and nothing came without auth`);
      }
      for (const s of all.slice(TRANSPORTS.length)) {
        assert.equal(s.used, s.transport);
        assert.equal(s.got.filter((m) => m.type === 'history').length, 1, s.transport);
      }
      assert.deepEqual(errors, []);
    } finally {
      await page.context().close();
    }
  });
});
