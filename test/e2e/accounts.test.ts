// Accounts end to end: first-run setup, password and passive login, CSRF, roles, the app-key flow,
// settings and system commands, as Home Assistant, FDM Monster and the web page use them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

describe('accounts, app keys, settings, system commands', () => {
  let rig: GantryRig;
  let restarts = 0;
  before(async () => {
    // a fresh install: no key set by an operator, so first-run setup is open until someone takes it
    rig = await gantryRig({ serial: 'NONE', apiKey: undefined }, { onRestart: () => restarts++ });
  });
  after(() => rig.close());

  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

  test('first-run setup creates the admin once and hands back a working key', async () => {
    assert.deepEqual(await json(await rig.api('/api/gantry/setup', { key: null })), { needed: true, keyRequired: false, hostAllowed: true });
    const res = await rig.api('/api/gantry/setup', { key: null, method: 'POST', json: { name: 'gina', password: 'correct horse' } });
    assert.equal(res.status, 201);
    const { apiKey } = await json<{ apiKey: string }>(res);
    assert.match(apiKey, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await rig.api('/api/version', { key: apiKey })).status, 200);
    assert.equal((await rig.api('/api/gantry/setup', { key: null, method: 'POST', json: { name: 'evil', password: 'password123' } })).status, 403);
  });

  test('password login sets a session cookie; state changes need the CSRF token; bad passwords get 403, then 429', async () => {
    const bad = await rig.api('/api/login', { key: null, method: 'POST', json: { user: 'gina', pass: 'wrong' } });
    assert.equal(bad.status, 403);
    const res = await rig.api('/api/login', { key: null, method: 'POST', json: { user: 'gina', pass: 'correct horse', remember: true } });
    assert.equal(res.status, 200);
    const user = await json<{ name: string; admin: boolean; session: string; csrf: string }>(res);
    assert.equal(user.name, 'gina');
    assert.equal(user.admin, true);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    assert.match(cookie, /gantry_session=/);
    assert.equal((await rig.api('/api/connection', { key: null, headers: { Cookie: cookie } })).status, 200);
    const noCsrf = await rig.api('/api/settings', { key: null, method: 'POST', headers: { Cookie: cookie }, json: { appearance: { name: 'x' } } });
    assert.equal(noCsrf.status, 403);
    const withCsrf = await rig.api('/api/settings', { key: null, method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': user.csrf }, json: { appearance: { name: 'Workshop' } } });
    assert.equal(withCsrf.status, 200);
    assert.equal((await rig.api('/api/logout', { key: null, method: 'POST', headers: { Cookie: cookie } })).status, 204);
    assert.equal((await rig.api('/api/connection', { key: null, headers: { Cookie: cookie } })).status, 403, 'logged out');
    for (let i = 0; i < 5; i++) await rig.api('/api/login', { key: null, method: 'POST', json: { user: 'gina', pass: 'nope' } });
    assert.equal((await rig.api('/api/login', { key: null, method: 'POST', json: { user: 'gina', pass: 'nope' } })).status, 429);
  });

  test('FDM Monster flow: passive login with a key gives a real user name and a session; currentuser agrees', async () => {
    const res = await rig.api('/api/login', { method: 'POST', json: { passive: true } });
    const u = await json<{ name: string; session: string; needs: { group: string[] } }>(res);
    assert.equal(res.status, 200);
    assert.notEqual(u.name, '_api');
    assert.notEqual(u.needs.group[0], 'guests');
    assert.ok(u.session.length >= 20);
    assert.ok(rig.gantry.sessions.check(u.name, u.session), 'the session is one the push socket will accept');
    const cu = await json<{ name: string; permissions: string[]; groups: string[] }>(await rig.api('/api/currentuser'));
    assert.equal(cu.name, u.name);
    assert.ok(cu.permissions.includes('STATUS'));
    assert.deepEqual(await json(await rig.api('/api/currentuser', { key: null })), { name: null, permissions: [], groups: ['guests'] });
  });

  test('roles: a read-only user can look but not touch', async () => {
    assert.equal((await rig.api('/api/gantry/users', { method: 'POST', json: { name: 'viewer', password: 'looking only', roles: ['readonly'] } })).status, 201);
    const login = await rig.api('/api/login', { key: null, method: 'POST', json: { user: 'viewer', pass: 'looking only' } });
    const { csrf } = await json<{ csrf: string }>(login);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const keyRes = await rig.api('/api/gantry/keys', { key: null, method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': csrf }, json: {} });
    assert.equal(keyRes.status, 201);
    const { key } = await json<{ key: string }>(keyRes);
    assert.equal((await rig.api('/api/job', { key })).status, 200);
    const denied = await rig.api('/api/printer/command', { key, method: 'POST', json: { command: 'G28' } });
    assert.equal(denied.status, 403);
    assert.match((await json<{ error: string }>(denied)).error, /CONTROL/);
    assert.equal((await rig.api('/api/gantry/users', { key })).status, 403);
    assert.equal((await rig.api('/api/system/commands', { key })).status, 403);
  });

  test('app-key flow end to end, as Home Assistant runs it', async () => {
    assert.equal((await rig.api('/plugin/appkeys/probe', { key: null })).status, 204);
    const req = await rig.api('/plugin/appkeys/request', { key: null, method: 'POST', json: { app: 'Home Assistant' } });
    assert.equal(req.status, 201);
    const location = req.headers.get('location')!;
    const token = location.slice(location.lastIndexOf('/') + 1);
    assert.equal((await json<{ app_token: string }>(req)).app_token, token);
    const pollPath = new URL(location).pathname;
    assert.equal((await rig.api(pollPath, { key: null })).status, 202);
    const pending = await json<{ pending: { id: string; app: string }[] }>(await rig.api('/api/gantry/appkeys'));
    assert.deepEqual(pending.pending.map((p) => p.app), ['Home Assistant']);
    const id = pending.pending[0]!.id;
    assert.notEqual(id, token, 'approvers decide by an id that is not the poll secret');
    assert.equal((await rig.api(`/plugin/appkeys/decision/${token}`, { method: 'POST', json: { decision: true } })).status, 404, 'the poll secret decides nothing');
    assert.equal((await rig.api(`/plugin/appkeys/decision/${id}`, { key: null, method: 'POST', json: { decision: true } })).status, 403, 'approving needs a signed-in owner');
    assert.equal((await rig.api(`/plugin/appkeys/decision/${id}`, { method: 'POST', json: { decision: true } })).status, 204);
    const granted = await rig.api(pollPath, { key: null });
    assert.equal(granted.status, 200);
    const { api_key } = await json<{ api_key: string }>(granted);
    assert.match(api_key, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await rig.api('/api/printer/command', { key: api_key, method: 'POST', json: { command: 'M105' } })).status, 409, 'the new key is accepted (printer offline)');
    assert.equal((await rig.api(pollPath, { key: null })).status, 404, 'the key is handed out once');
    const denied = await rig.api('/plugin/appkeys/request', { key: null, method: 'POST', json: { app: 'Stranger' } });
    const dToken = (await json<{ app_token: string }>(denied)).app_token;
    const dId = (await json<{ pending: { id: string; app: string }[] }>(await rig.api('/api/gantry/appkeys'))).pending.find((p) => p.app === 'Stranger')!.id;
    assert.equal((await rig.api(`/api/gantry/appkeys/${dId}`, { method: 'POST', json: { decision: false } })).status, 204);
    assert.equal((await rig.api(`/plugin/appkeys/request/${dToken}`, { key: null })).status, 404);
    assert.equal((await rig.api('/plugin/appkeys/request', { key: null, method: 'POST', json: {} })).status, 400);
  });

  test('settings carry what HA, Cura and FDM Monster read; a partial POST merges and persists', async () => {
    const s = await json<{ plugins: { discovery: { upnpUuid: string } }; webcam: Record<string, unknown>; feature: { sdSupport: boolean }; appearance: { name: string } }>(await rig.api('/api/settings'));
    assert.match(s.plugins.discovery.upnpUuid, /^[0-9a-f-]{36}$/);
    for (const k of ['webcamEnabled', 'streamUrl', 'snapshotUrl', 'flipH', 'flipV', 'rotate90']) assert.ok(k in s.webcam, k);
    assert.equal(s.feature.sdSupport, false);
    assert.equal(s.appearance.name, 'Workshop', 'set through the session earlier');
    const upd = await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 'Farm 3' }, unknown: { x: 1 } } });
    assert.equal(upd.status, 200);
    assert.equal((await json<{ appearance: { name: string } }>(upd)).appearance.name, 'Farm 3');
    assert.equal(rig.gantry.settings.data.appearance.name, 'Farm 3');
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 42 } } })).status, 400);
  });

  test('system commands: listed, run without a shell, failures reported', async () => {
    const list = await json<{ core: { action: string }[] }>(await rig.api('//api/system/commands'));
    assert.deepEqual(list.core.map((c) => c.action).sort(), ['reboot', 'restart', 'shutdown']);
    const marker = join(rig.dir, 'rebooted');
    await rig.gantry.settings.update((s) => {
      s.system.rebootCommand = ['touch', marker];
      s.system.shutdownCommand = ['false'];
    });
    assert.equal((await rig.api('/api/system/commands/core/reboot', { method: 'POST' })).status, 204);
    assert.ok(existsSync(marker));
    assert.equal((await rig.api('/api/system/commands/core/shutdown', { method: 'POST' })).status, 500);
    assert.equal((await rig.api('/api/system/commands/core/selfdestruct', { method: 'POST' })).status, 404);
    assert.equal((await rig.api('/api/system/commands/core/restart', { method: 'POST' })).status, 204);
    await waitFor('the restart hook', () => restarts === 1);
  });
});
