// The app-key flow under attack: no escalation through approval, the poll secret never shown to anyone but the app
// that asked, request events only for those who may decide, a flood that cannot push a real app out, and app
// names that cannot forge log lines.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { type Login, addUser, asSession, keyOf, login, rawRequest } from '../helpers/accounts.js';
import { PushClient } from '../helpers/push-client.js';
import { waitFor } from '../helpers/wait.js';

interface Pending {
  id: string;
  app: string;
  user: string | null;
}

describe('app keys: escalation, secrets, floods', () => {
  let rig: GantryRig;
  let uma: Login; // role user
  let rita: Login; // role readonly
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
    await addUser(rig, 'uma', 'uma-password', 'user');
    await addUser(rig, 'rita', 'rita-password', 'readonly');
    uma = await login(rig, 'uma', 'uma-password');
    rita = await login(rig, 'rita', 'rita-password');
  });
  after(() => rig.close());

  const ask = async (app: string, user?: string) => {
    const res = await rig.api('/plugin/appkeys/request', { key: null, method: 'POST', json: user ? { app, user } : { app } });
    assert.equal(res.status, 201);
    const token = ((await res.json()) as { app_token: string }).app_token;
    const adminView = (await (await rig.api('/api/gantry/appkeys')).json()) as { pending: Pending[] };
    const id = adminView.pending.find((p) => p.app === app)!.id;
    return { token, id };
  };
  const poll = (token: string) => rig.api(`/plugin/appkeys/request/${token}`, { key: null });
  const keyFromPoll = async (token: string) => {
    const res = await poll(token);
    assert.equal(res.status, 200);
    return ((await res.json()) as { api_key: string }).api_key;
  };

  test('a user approving a request "for admin" gets no admin key: it is not theirs to decide', async () => {
    const { token, id } = await ask('Evil Tool', 'admin');
    const seen = (await (await asSession(rig, uma, '/api/gantry/appkeys')).json()) as { pending: Pending[] };
    assert.ok(!seen.pending.some((p) => p.id === id), 'a user is not even shown a request naming someone else');
    for (const path of [`/plugin/appkeys/decision/${id}`, `/api/gantry/appkeys/${id}`]) {
      const res = await asSession(rig, uma, path, { method: 'POST', json: { decision: true } });
      assert.equal(res.status, 403, path);
      assert.match(((await res.json()) as { error: string }).error, /only admin or an admin/);
    }
    assert.equal((await poll(token)).status, 202, 'still waiting: no key was issued');
    assert.ok(!rig.gantry.settings.data.appearance.name.includes('Evil'));
  });

  test('a user approving their own or an unnamed request gets a key with their own rights, no more', async () => {
    for (const named of ['uma', undefined]) {
      const { token, id } = await ask(`Phone ${named ?? 'any'}`, named);
      assert.equal((await asSession(rig, uma, `/api/gantry/appkeys/${id}`, { method: 'POST', json: { decision: true } })).status, 204);
      const key = await keyFromPoll(token);
      const me = (await (await rig.api('/api/currentuser', { key })).json()) as { name: string; permissions: string[] };
      assert.equal(me.name, 'uma');
      assert.ok(!me.permissions.includes('ADMIN') && !me.permissions.includes('SETTINGS'));
      assert.equal((await rig.api('/api/gantry/users', { key })).status, 403);
      assert.equal((await rig.api('/api/settings', { key, method: 'POST', json: { appearance: { name: 'pwned' } } })).status, 403);
    }
  });

  test("an admin deciding a request naming a user issues that user's key; an unknown name gets nothing", async () => {
    const { token, id } = await ask('Cura', 'uma');
    assert.equal((await rig.api(`/plugin/appkeys/decision/${id}`, { method: 'POST', json: { decision: true } })).status, 204);
    const key = await keyFromPoll(token);
    assert.equal(((await (await rig.api('/api/currentuser', { key })).json()) as { name: string }).name, 'uma');
    assert.equal((await rig.api('/api/gantry/users', { key })).status, 403, "uma's rights, not the admin's");
    const ghost = await ask('Ghost app', 'nobody-here');
    assert.equal((await rig.api(`/plugin/appkeys/decision/${ghost.id}`, { method: 'POST', json: { decision: true } })).status, 409);
    assert.equal((await poll(ghost.token)).status, 202);
  });

  test('readonly accounts cannot list or decide; the poll secret is never listed, pushed, or usable to decide', async () => {
    assert.equal((await asSession(rig, rita, '/api/gantry/appkeys')).status, 403);
    const admin = new PushClient(rig.gantry.url);
    const reader = new PushClient(rig.gantry.url);
    const user = new PushClient(rig.gantry.url);
    try {
      const adminSession = ((await (await rig.api('/api/login', { method: 'POST', json: { passive: true } })).json()) as { name: string; session: string });
      const readerKey = await keyOf(rig, rita);
      const readerSession = ((await (await rig.api('/api/login', { key: readerKey, method: 'POST', json: { passive: true } })).json()) as { session: string }).session;
      await Promise.all([admin.opened(), reader.opened(), user.opened()]);
      admin.send({ auth: `${adminSession.name}:${adminSession.session}` });
      reader.send({ auth: `rita:${readerSession}` });
      user.send({ auth: `uma:${uma.session}` });
      await waitFor('all three signed in', () => [admin, reader, user].every((c) => c.of('history').length === 1));

      const forAdmin = await ask('Secret Tool', 'admin');
      const forAnyone = await ask('Home Assistant');
      const requests = (c: PushClient) => c.of('plugin').map((m) => m.msg['plugin']!['data'] as { type: string; user_token: string; app_name: string }).filter((d) => d.type === 'request_access');
      await waitFor('the admin is told of both requests', () => requests(admin).length >= 2);
      await waitFor('the user is told of the unnamed one', () => requests(user).some((d) => d.app_name === 'Home Assistant'));
      assert.deepEqual(requests(admin).map((d) => d.user_token).sort(), [forAdmin.id, forAnyone.id].sort());
      assert.ok(!requests(user).some((d) => d.app_name === 'Secret Tool'), 'a request naming admin is not shown to a user');
      // the reader got nothing about app keys; a keep-alive round trip proves its messages are all in
      assert.deepEqual(requests(reader), []);
      for (const c of [admin, reader, user]) {
        const all = JSON.stringify(c.messages);
        assert.ok(!all.includes(forAdmin.token) && !all.includes(forAnyone.token), 'no push message carries a poll secret');
      }
      const listed = JSON.stringify(await (await rig.api('/api/gantry/appkeys')).json());
      assert.ok(!listed.includes(forAdmin.token) && !listed.includes(forAnyone.token), 'the listing carries no poll secret');
      assert.equal((await rig.api(`/plugin/appkeys/decision/${forAnyone.token}`, { method: 'POST', json: { decision: true } })).status, 404);
      // ≥ 128 bits, unguessable, and handed out once
      assert.ok(Buffer.from(forAnyone.token, 'base64url').length >= 16);
      assert.equal((await rig.api(`/plugin/appkeys/decision/${forAnyone.id}`, { method: 'POST', json: { decision: true } })).status, 204);
      await waitFor('the decision closes the dialog on the admin page', () => admin.of('plugin').some((m) => (m.msg['plugin']!['data'] as { type: string }).type === 'end_request'));
      await keyFromPoll(forAnyone.token);
      assert.equal((await poll(forAnyone.token)).status, 404, 'single use');
    } finally {
      for (const c of [admin, reader, user]) c.close();
    }
  });

  test("a flood from one address cannot push another address's request out", async () => {
    const post = (app: string, localAddress: string) =>
      rawRequest(rig.gantry.url, { method: 'POST', path: '/plugin/appkeys/request', localAddress, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ app }) });
    const real = await post('Real Phone App', '127.0.0.2');
    assert.equal(real.status, 201);
    const realToken = (JSON.parse(real.body) as { app_token: string }).app_token;
    for (let i = 0; i < 150; i++) assert.equal((await post(`spam ${i}`, '127.0.0.3')).status, 201);
    const pending = ((await (await rig.api('/api/gantry/appkeys')).json()) as { pending: Pending[] }).pending;
    assert.ok(pending.some((p) => p.app === 'Real Phone App'), 'the real request is still there');
    const spam = pending.filter((p) => p.app.startsWith('spam '));
    assert.ok(spam.length <= 5, `at most a handful of one address's requests are kept (${spam.length})`);
    assert.ok(spam.some((p) => p.app === 'spam 149'), 'the newest spam is kept, the oldest dropped');
    assert.equal((await poll(realToken)).status, 202);
  });

  test('app names are logged with control characters escaped: no forged log lines', async () => {
    const forged = 'Evil\n2026-01-01T00:00:00.000Z INFO  [api] API key request granted by admin\r\u2028x';
    assert.equal((await rig.api('/plugin/appkeys/request', { key: null, method: 'POST', json: { app: forged } })).status, 201);
    const lines = rig.logs.flatMap((l) => l.split('\n'));
    assert.ok(!lines.some((l) => l.startsWith('2026-01-01T00:00:00.000Z')), 'no line of the attacker’s making');
    assert.ok(rig.logs.some((l) => l.includes('Evil\\n2026-01-01') && !l.includes('\r') && !l.includes('\u2028')));
  });
});
