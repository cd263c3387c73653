// Start-up: first-run setup or login, then the views, the section tabs and the push socket, all for one printer
// (?printer=<id>): a switch to another printer loads the page afresh for it, so nothing of one printer (its chart,
// log, settings, questions) is ever shown under another's name.
import { api, whenAuthLost } from './api.js';
import { $, toast } from './dom.js';
import { DEFAULT_PRINTER, choosePrinter, pageFor, printerBase, printerPath } from './printer-url.js';
import { Push } from './push.js';
import type { Ctx, Current, Me, SettingsView } from './types.js';
import { initDashboard } from './views/dashboard.js';
import { initFarm } from './views/farm.js';
import { initFiles } from './views/files.js';
import { initFoundBanner } from './views/found-banner.js';
import { initQueue } from './views/queue.js';
import { initPrinterSwitch } from './views/printer-switch.js';
import { initSettings } from './views/settings.js';
import { initTerminal } from './views/terminal.js';
import { initTimelapse } from './views/timelapse.js';

const VIEWS = ['dashboard', 'files', 'queue', 'terminal', 'timelapse', 'settings', 'farm'];

// the printer this page shows, kept for the next visit and in the address (so a bookmark or a shared link opens it)
const fromUrl = new URLSearchParams(location.search).get('printer');
const printerId = choosePrinter(fromUrl, localStorage.getItem('gantry.printer'));
const base = printerBase(printerId);
const at = (path: string) => printerPath(base, path);
localStorage.setItem('gantry.printer', printerId);
if (fromUrl !== printerId && (fromUrl !== null || printerId !== DEFAULT_PRINTER)) history.replaceState(null, '', pageFor(printerId, location.hash));

function formError(form: HTMLFormElement, message: string): void {
  $('.form-error', form).textContent = message;
}

// Live state from the push socket, opened at once (in parallel with the login check): what arrives before the
// views exist is replayed to them, so nothing is missed.
let current: Current | undefined;
let replay: { c: Current; history: boolean }[] = [];
const currentFns: ((c: Current, h: boolean) => void)[] = [];
const eventFns = new Map<string, ((p: Record<string, unknown>) => void)[]>();
const pluginFns: ((plugin: string, data: Record<string, unknown>) => void)[] = [];
let viewsReady = false;
const push = new Push(async () => {
  const r = await api<Partial<Me>>('/api/login', { json: { passive: true } });
  if (!r.name || !r.session) throw new Error('not logged in');
  return `${r.name}:${r.session}`;
}, base);
const deliver = (c: Current, history: boolean) => {
  const first = current === undefined;
  current = c;
  if (history) replay = [];
  replay.push({ c, history });
  if (replay.length > 30) replay.splice(1, 1);
  for (const fn of currentFns) fn(c, history);
  if (first && viewsReady) performance.mark('gantry-interactive'); // the bench reads it: live state on screen
};
push.on('history', (p) => deliver(p as unknown as Current, true));
push.on('current', (p) => deliver(p as unknown as Current, false));
push.on('event', (p) => {
  for (const fn of eventFns.get(String(p['type'])) ?? []) fn((p['payload'] ?? {}) as Record<string, unknown>);
});
push.on('plugin', (p) => {
  for (const fn of pluginFns) fn(String(p['plugin']), (p['data'] ?? {}) as Record<string, unknown>);
});
push.on('reauthRequired', () => location.reload());
push.onStatus = (ok) => ($('#link-pill').hidden = ok);

async function boot(): Promise<void> {
  push.start();
  // the common case first: a session cookie from an earlier visit goes straight to the printer
  let me: Partial<Me>;
  try {
    me = await api<Partial<Me>>('/api/login', { json: { passive: true } });
  } catch (err) {
    document.body.textContent = `Gantry cannot be reached: ${(err as Error).message}`;
    return;
  }
  if (me.name && me.session) return start(me as Me);
  const setup = await api<{ needed: boolean; keyRequired: boolean; hostAllowed: boolean }>('/api/gantry/setup');
  if (setup.needed) {
    showSetup(setup.keyRequired);
    // a name Gantry does not know as its own (DNS rebinding guard): say where setup works instead of failing later
    if (!setup.hostAllowed) formError($<HTMLFormElement>('#setup-form'), `To set Gantry up, open this page at the printer's IP address or its .local name: ${location.hostname} is not one of its own names`);
    return;
  }
  showLogin();
}

function showAuth(which: 'login-form' | 'setup-form' | 'setup-done'): void {
  $('#app').hidden = true;
  $('#auth').hidden = false;
  for (const id of ['login-form', 'setup-form', 'setup-done']) $(`#${id}`).hidden = id !== which;
  const first = $(`#${which}`).querySelector<HTMLElement>('input, button');
  first?.focus();
}

/** Runs `submit` with the form's fields; whatever it throws is shown in the form, in the API's words. */
function onFormSubmit(id: string, submit: (f: FormData) => Promise<void>): void {
  const form = $<HTMLFormElement>(`#${id}`);
  form.onsubmit = async (e) => {
    e.preventDefault();
    try {
      await submit(new FormData(form));
    } catch (err) {
      formError(form, (err as Error).message);
    }
  };
}

function showLogin(): void {
  showAuth('login-form');
  onFormSubmit('login-form', async (f) => {
    await api('/api/login', { json: { user: f.get('user'), pass: f.get('pass'), remember: f.get('remember') === 'on' } });
    await start(await api<Me>('/api/login', { json: { passive: true } }));
  });
}

/** First run. An install whose operator set an API key (or used the generated one) asks for that key too. */
function showSetup(keyRequired: boolean): void {
  const keyField = $<HTMLInputElement>('#setup-apikey');
  keyField.required = keyRequired;
  $('#setup-apikey-label').hidden = !keyRequired;
  showAuth('setup-form');
  onFormSubmit('setup-form', async (f) => {
    if (f.get('password') !== f.get('password2')) throw new Error('The passwords differ');
    const headers: Record<string, string> = keyRequired ? { 'X-Api-Key': String(f.get('apikey') ?? '').trim() } : {};
    const r = await api<{ apiKey: string }>('/api/gantry/setup', { json: { name: f.get('name'), password: f.get('password') }, headers });
    $('#setup-key').textContent = r.apiKey;
    showAuth('setup-done');
    $<HTMLButtonElement>('#setup-continue').onclick = async () => void start(await api<Me>('/api/login', { json: { passive: true } }));
  });
}

let started = false;

async function start(me: Me): Promise<void> {
  if (started) return location.reload();
  started = true;

  const showFns = new Map<string, ((shown: boolean) => void)[]>();
  let shown = '';
  push.start(); // again after a login: the first attempt found nobody logged in

  let settings = (await api<SettingsView>(at('/api/settings')).catch(() => undefined)) as SettingsView;
  $('#auth').hidden = true;
  $('#app').hidden = false;

  const ctx: Ctx = {
    me,
    printerId,
    at,
    can: (p) => me.permissions.includes(p) || me.permissions.includes('ADMIN'),
    settings: () => settings,
    reloadSettings: async () => (settings = await api<SettingsView>(at('/api/settings'))),
    current: () => current,
    onCurrent: (fn) => {
      // replayed once the registering view has finished setting itself up (its handler may use what it
      // declares later); no message can come in between, they arrive as tasks
      const missed = [...replay];
      queueMicrotask(() => {
        for (const r of missed) fn(r.c, r.history);
        currentFns.push(fn);
      });
    },
    onEvent: (type, fn) => {
      for (const t of Array.isArray(type) ? type : [type]) eventFns.set(t, [...(eventFns.get(t) ?? []), fn]);
    },
    onPlugin: (fn) => pluginFns.push(fn),
    visible: (view) => shown === view && document.visibilityState === 'visible',
    onShow: (view, fn) => showFns.set(view, [...(showFns.get(view) ?? []), fn]),
  };

  whenAuthLost(() => toast('Your login has ended', 'error', { label: 'Log in', run: () => location.reload() }));
  $<HTMLButtonElement>('#logout').onclick = async () => {
    await api('/api/logout', { json: {} }).catch(() => undefined);
    location.reload();
  };

  initDashboard(ctx);
  initFiles(ctx);
  initQueue(ctx);
  initTerminal(ctx);
  initTimelapse(ctx);
  initSettings(ctx);
  initPrinterSwitch(ctx);
  initFarm(ctx);
  initFoundBanner(ctx);

  const route = () => {
    // OctoPrint's app-key dialog link (#appkeys/<token>) opens the settings, where requests are approved
    const want = location.hash.startsWith('#appkeys/') ? 'settings' : location.hash.slice(1) || 'dashboard';
    const view = VIEWS.includes(want) ? want : 'dashboard';
    if (view === shown) return;
    const before = shown;
    shown = view;
    for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
    for (const a of document.querySelectorAll<HTMLAnchorElement>('.tabs a')) {
      if (a.dataset['tab'] === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    for (const fn of showFns.get(before) ?? []) fn(false);
    for (const fn of showFns.get(view) ?? []) fn(true);
  };
  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', () => {
    for (const fn of showFns.get(shown) ?? []) fn(document.visibilityState === 'visible');
  });
  route();
  viewsReady = true;
  if (current) performance.mark('gantry-interactive');
}

void boot();
