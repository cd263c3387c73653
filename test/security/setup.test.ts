// First-run setup closes: open without a key only on a fresh install whose operator set none and nobody has used the
// generated key; refused under host names that are not Gantry's own (DNS rebinding).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { gantryRig } from '../helpers/gantry-rig.js';
import { rawRequest } from '../helpers/accounts.js';

const body = (name: string) => JSON.stringify({ name, password: 'a long password' });
const setup = (url: string, host: string, extra: Record<string, string> = {}, name = 'owner') =>
  rawRequest(url, { method: 'POST', path: '/api/gantry/setup', headers: { Host: host, 'Content-Type': 'application/json', ...extra }, body: body(name) });

describe('first-run setup', () => {
  test('an operator key (--api-key) closes keyless setup; the key itself may still create the first account', async () => {
    const rig = await gantryRig({ serial: 'NONE' }); // started with an operator's key
    try {
      const state = (await (await rig.api('/api/gantry/setup', { key: null })).json()) as { needed: boolean; keyRequired: boolean };
      assert.deepEqual(state, { needed: true, keyRequired: true, hostAllowed: true });
      const anon = await rig.api('/api/gantry/setup', { key: null, method: 'POST', json: { name: 'evil', password: 'password123' } });
      assert.equal(anon.status, 403);
      assert.match(((await anon.json()) as { error: string }).error, /API key/);
      assert.equal((await rig.api('/api/gantry/setup', { key: 'x'.repeat(43), method: 'POST', json: { name: 'evil', password: 'password123' } })).status, 403);
      assert.equal(((await (await rig.api('/api/gantry/users')).json()) as { users: unknown[] }).users.length, 0, 'nobody was created');
      assert.equal((await rig.api('/api/gantry/setup', { method: 'POST', json: { name: 'owner', password: 'password123' } })).status, 201);
      assert.equal((await rig.api('/api/gantry/setup', { method: 'POST', json: { name: 'second', password: 'password123' } })).status, 403, 'once set up, never again');
    } finally {
      await rig.close();
    }
  });

  test('a generated key that has been used closes it too (a headless install that never makes a user)', async () => {
    const rig = await gantryRig({ serial: 'NONE', apiKey: undefined });
    try {
      assert.equal(((await (await rig.api('/api/gantry/setup', { key: null })).json()) as { keyRequired: boolean }).keyRequired, false);
      assert.equal((await rig.api('/api/version')).status, 200); // someone uses the generated admin key
      assert.equal(((await (await rig.api('/api/gantry/setup', { key: null })).json()) as { keyRequired: boolean }).keyRequired, true);
      assert.equal((await rig.api('/api/gantry/setup', { key: null, method: 'POST', json: { name: 'evil', password: 'password123' } })).status, 403);
      await rig.restart();
      assert.equal((await rig.api('/api/gantry/setup', { key: null, method: 'POST', json: { name: 'evil', password: 'password123' } })).status, 403, 'still closed after a restart');
    } finally {
      await rig.close();
    }
  });

  test('on a fresh install it answers only under its own names: IP literals, localhost, *.local, the host name, allowedHosts', async () => {
    const rig = await gantryRig({ serial: 'NONE', apiKey: undefined });
    try {
      for (const host of ['evil.example', 'evil.example:80', 'printer.lan', 'localhost.evil.example', '192.168.1.50.nip.io']) {
        const res = await setup(rig.gantry.url, host);
        assert.equal(res.status, 403, host);
        assert.match((JSON.parse(res.body) as { error: string }).error, /own address/);
      }
      const info = await rawRequest(rig.gantry.url, { path: '/api/gantry/setup', headers: { Host: 'evil.example' } });
      assert.equal((JSON.parse(info.body) as { hostAllowed: boolean }).hostAllowed, false, 'the page can say why');
      assert.equal(((await (await rig.api('/api/gantry/users', { key: rig.gantry.apiKey })).json()) as { users: unknown[] }).users.length, 0);
      // the operator names the printer's DNS name; a fresh rig (the admin key above was used) shows it with a key
      assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { server: { allowedHosts: ['printer.lan', '*.farm.example'] } } } })).status, 200);
      for (const host of ['printer.lan', 'a.farm.example:8080', '192.168.1.50', '[fe80::1]:80', 'gantry.local', 'localhost:8197', hostname()]) {
        const info2 = await rawRequest(rig.gantry.url, { path: '/api/gantry/setup', headers: { Host: host } });
        assert.equal((JSON.parse(info2.body) as { hostAllowed: boolean }).hostAllowed, true, host);
      }
    } finally {
      await rig.close();
    }
    const fresh = await gantryRig({ serial: 'NONE', apiKey: undefined });
    try {
      const res = await setup(fresh.gantry.url, 'gantry.local:80');
      assert.equal(res.status, 201, res.body);
    } finally {
      await fresh.close();
    }
  });

  test('two setups at the same moment make one admin', async () => {
    const rig = await gantryRig({ serial: 'NONE', apiKey: undefined });
    try {
      const results = await Promise.all(['one', 'two', 'three'].map((n) => setup(rig.gantry.url, '127.0.0.1', {}, n)));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 403, 403]);
      assert.equal(((await (await rig.api('/api/gantry/users')).json()) as { users: unknown[] }).users.length, 1);
    } finally {
      await rig.close();
    }
  });
});
