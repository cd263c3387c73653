// Sessions end when they should: a password change ends the user's other sessions and push sockets at once (the
// one that made the change stays), and so do a role change, a deactivation, a removal, and a revoked key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { type Login, addUser, asSession, keyOf, login } from '../helpers/accounts.js';
import { PushClient } from '../helpers/push-client.js';
import { waitFor } from '../helpers/wait.js';

describe('sessions end when they should', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
  });
  after(() => rig.close());

  const works = async (s: Login) => (await asSession(rig, s, '/api/job')).status === 200;
  const socketFor = async (s: Login) => {
    const c = new PushClient(rig.gantry.url);
    await c.opened();
    c.send({ auth: `${s.name}:${s.session}` });
    await waitFor('signed in', () => c.of('history').length === 1);
    return c;
  };

  test("an admin resetting a password ends all of that user's sessions and sockets", async () => {
    await addUser(rig, 'pat', 'first password', 'user');
    const a = await login(rig, 'pat', 'first password');
    const b = await login(rig, 'pat', 'first password');
    const sock = await socketFor(b);
    try {
      assert.ok((await works(a)) && (await works(b)));
      assert.equal((await rig.api('/api/gantry/users/pat/password', { method: 'POST', json: { password: 'second password' } })).status, 204);
      assert.equal(await works(a), false);
      assert.equal(await works(b), false);
      await waitFor('the socket closed', () => sock.closed);
    } finally {
      sock.close();
    }
  });

  test('changing your own password keeps this session and ends the others; the current password is required', async () => {
    await addUser(rig, 'sam', 'first password', 'user');
    const here = await login(rig, 'sam', 'first password');
    const phone = await login(rig, 'sam', 'first password');
    const sock = await socketFor(phone);
    try {
      assert.equal((await asSession(rig, here, '/api/gantry/password', { method: 'POST', json: { current: 'wrong', password: 'second password' } })).status, 403);
      assert.ok(await works(phone), 'a wrong current password changes nothing');
      assert.equal((await asSession(rig, here, '/api/gantry/password', { method: 'POST', json: { current: 'first password', password: 'second password' } })).status, 204);
      assert.ok(await works(here), 'the session that changed it stays');
      assert.equal(await works(phone), false);
      await waitFor('the other socket closed', () => sock.closed);
      await login(rig, 'sam', 'second password');
    } finally {
      sock.close();
    }
  });

  test("a role change takes the old rights away at once; deactivation and removal end everything, keys too", async () => {
    await addUser(rig, 'max', 'a long password', 'user');
    const s = await login(rig, 'max', 'a long password');
    const key = await keyOf(rig, s);
    const passive = (await (await rig.api('/api/login', { key, method: 'POST', json: { passive: true } })).json()) as { session: string };
    const sock = await socketFor({ ...s, session: passive.session });
    try {
      assert.equal((await rig.api('/api/job', { key, method: 'POST', json: { command: 'cancel' } })).status, 409, 'a user may try to cancel');
      const demoted = await rig.api('/api/gantry/users/max', { method: 'PUT', json: { roles: ['readonly'] } });
      assert.equal(demoted.status, 200);
      assert.equal(await works(s), false, 'signed out by the change');
      assert.equal((await rig.api('/api/job', { key, method: 'POST', json: { command: 'cancel' } })).status, 403, "the key has max's new rights");
      await waitFor('the push socket opened with the key closed', () => sock.closed);
      assert.equal((await rig.api('/api/gantry/users/max', { method: 'PUT', json: { active: false } })).status, 200);
      assert.equal((await rig.api('/api/job', { key })).status, 403, 'an inactive user’s key is dead');
      assert.equal((await rig.api('/api/login', { key: null, method: 'POST', json: { user: 'max', pass: 'a long password' } })).status, 403);
      assert.equal((await rig.api('/api/gantry/users/max', { method: 'DELETE' })).status, 204);
      assert.equal((await rig.api('/api/job', { key })).status, 403);
    } finally {
      sock.close();
    }
  });

  test('revoking a key closes the push sockets it opened', async () => {
    await addUser(rig, 'kim', 'a long password', 'user');
    const s = await login(rig, 'kim', 'a long password');
    const key = await keyOf(rig, s);
    const passive = (await (await rig.api('/api/login', { key, method: 'POST', json: { passive: true } })).json()) as { session: string };
    const sock = await socketFor({ ...s, session: passive.session });
    try {
      assert.equal((await asSession(rig, s, '/api/gantry/keys', { method: 'DELETE', json: { key } })).status, 204);
      await waitFor('closed', () => sock.closed);
      assert.ok(await works(s), 'the password session is not the key');
    } finally {
      sock.close();
    }
  });
});
