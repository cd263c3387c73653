// Secrets are never shown: a broker password (in the URL or its own field) is masked for every role in every read,
// a save that sends the mask back keeps it, and it never reaches the log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { addUser, keyOf, login } from '../helpers/accounts.js';
import { PushClient } from '../helpers/push-client.js';
import { waitFor } from '../helpers/wait.js';

const URL_SECRET = 'url-secret-4711';
const FIELD_SECRET = 'field-secret-0815';

describe('secrets in settings', () => {
  let rig: GantryRig;
  const keys: Record<string, string> = {};
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
    for (const role of ['user', 'readonly'] as const) {
      await addUser(rig, `${role}-1`, 'a long password', role);
      keys[role] = await keyOf(rig, await login(rig, `${role}-1`, 'a long password'));
    }
    keys['admin'] = rig.gantry.apiKey;
    // a broker on a closed local port: the bridge keeps retrying, and logs about it
    const res = await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url: `mqtt://bob:${URL_SECRET}@127.0.0.1:1`, password: FIELD_SECRET } } } });
    assert.equal(res.status, 200);
    assert.ok(!(await res.text()).includes(URL_SECRET), 'not even in the answer to the save');
  });
  after(() => rig.close());

  test('GET /api/settings masks both for admin, user and readonly alike', async () => {
    for (const [role, key] of Object.entries(keys)) {
      const res = await rig.api('/api/settings', { key });
      if (res.status === 403) continue; // a role without SETTINGS_READ sees nothing at all
      const text = await res.text();
      assert.ok(!text.includes(URL_SECRET) && !text.includes(FIELD_SECRET), `${role} sees a secret`);
      const mqtt = (JSON.parse(text) as { gantry: { mqtt: { url: string; password: string } } }).gantry.mqtt;
      assert.equal(mqtt.url, 'mqtt://bob:********@127.0.0.1:1', role);
      assert.equal(mqtt.password, '********', role);
    }
  });

  test('saving the masked values back changes nothing; a new password replaces the old', async () => {
    const view = (await (await rig.api('/api/settings')).json()) as { gantry: { mqtt: { url: string; password: string } } };
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url: view.gantry.mqtt.url, password: view.gantry.mqtt.password } } } })).status, 200);
    assert.equal(rig.gantry.settings.data.mqtt.url, `mqtt://bob:${URL_SECRET}@127.0.0.1:1`);
    assert.equal(rig.gantry.settings.data.mqtt.password, FIELD_SECRET);
    // the user changes the host but leaves the masked password: the stored one goes with the new URL
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url: 'mqtt://bob:********@127.0.0.2:1' } } } })).status, 200);
    assert.equal(rig.gantry.settings.data.mqtt.url, `mqtt://bob:${URL_SECRET}@127.0.0.2:1`);
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url: `mqtt://bob:${URL_SECRET}@127.0.0.1:1` } } } })).status, 200);
  });

  test('no log line and no push message carries them', async () => {
    const push = new PushClient(rig.gantry.url);
    try {
      const s = (await (await rig.api('/api/login', { method: 'POST', json: { passive: true } })).json()) as { name: string; session: string };
      await push.opened();
      push.send({ auth: `${s.name}:${s.session}` });
      await waitFor('history', () => push.of('history').length === 1);
      assert.equal((await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 'Secretive' } } })).status, 200);
      await waitFor('the settings event', () => push.events().includes('SettingsUpdated'));
      await waitFor('the bridge has logged about its broker', () => rig.logs.some((l) => l.includes('127.0.0.1:1')));
      const all = rig.logs.join('\n') + JSON.stringify(push.messages);
      assert.ok(!all.includes(URL_SECRET) && !all.includes(FIELD_SECRET));
    } finally {
      push.close();
    }
  });
});
