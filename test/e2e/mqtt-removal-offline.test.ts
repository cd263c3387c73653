// A printer removed while the MQTT broker is away still leaves Home Assistant: Gantry remembers the removal (over
// its own restart too) and empties the printer's retained device and state at its next connection. Against a real
// Mosquitto that keeps its retained messages over a restart, as a real broker does.
import assert from 'node:assert/strict';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { retained, watch } from '../mqtt/ha-model.js';

describe('a printer removed while the broker is away', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let broker: Mosquitto | undefined;
  let rig: GantryRig | undefined;
  let hostId: string;
  const configTopic = (id: string) => `homeassistant/device/gantry_${hostId}_${id}/config`;
  const pending = async () => (JSON.parse(await readFile(join(rig!.dir, 'data', 'mqtt-removals.json'), 'utf8').catch(() => '{"removed":[]}')) as { removed: { printerId: string }[] }).removed.map((r) => r.printerId);

  before(async () => {
    dir = await tempDir();
    broker = await Mosquitto.start(dir.dir, undefined, { persistent: true });
    rig = await gantryRig();
    await waitOperational(rig);
    hostId = rig.gantry.settings.data.server.uuid.replace(/-/g, '');
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url: broker.url } } } })).status, 200);
    await rig.gantry.mqttSettled();
    await waitFor('bridge connected', () => rig!.gantry.mqtt()?.connected);
  });
  after(async () => {
    try {
      await rig?.close();
    } finally {
      await broker?.stop();
      await dir?.cleanup();
    }
  });

  test('its Home Assistant device is emptied at the next connection, even after Gantry restarted meanwhile', async () => {
    const r = rig!;
    const b = broker!;
    assert.equal((await r.api('/api/gantry/printers', { method: 'POST', json: { id: 'gone', name: 'Gone', serial: { port: 'virtual' } } })).status, 201);
    await waitFor("gone's device and state retained", async () => {
      const m = await retained(b.url, '#');
      return m.get(configTopic('gone')) && m.get('gantry/gone/state') ? m : undefined;
    }, 20_000);

    // the broker goes away (saving its retained messages); the printer is removed meanwhile
    await b.stop('SIGTERM');
    await waitFor('the bridge sees the broker gone', () => !r.gantry.mqtt()?.connected, 10_000);
    assert.equal((await r.api('/api/gantry/printers/gone', { method: 'DELETE' })).status, 204);
    await waitFor('the removal remembered', async () => (await pending()).includes('gone'));
    await waitFor('the log says so', () => r.logs.some((l) => /MQTT broker unreachable: printer gone leaves Home Assistant when it is back/.test(l)));

    // Gantry restarts while the broker is still away; then the broker comes back, Gantry still stopped: Home
    // Assistant would still see the removed printer
    await r.gantry.stop();
    await b.start();
    const before = await retained(b.url, '#');
    assert.ok(before.get(configTopic('gone')), 'the broker kept the removed printer\'s device');
    assert.ok(before.get(configTopic('printer')));

    // Gantry back: at its first connection the device and the state go, the other printers' stay
    await r.restart();
    await waitFor('bridge connected again', () => r.gantry.mqtt()?.connected, 10_000);
    const after = await waitFor('gone emptied', async () => {
      const m = await retained(b.url, '#');
      return [...m.keys()].some((t) => t.includes('gone')) ? undefined : m;
    }, 10_000);
    assert.ok(after.get(configTopic('printer')), "the default printer's device stays");
    await waitFor("the default printer's availability online", async () => (await retained(b.url, 'gantry/printer/availability')).get('gantry/printer/availability') === 'online', 20_000);
    await waitFor('the removal forgotten once done', async () => (await pending()).length === 0);
    await waitFor('the log says so', () => r.logs.some((l) => /printer gone removed from Home Assistant: \d+ retained topics emptied/.test(l)));
  });

  test('with the broker there, a removal empties the device at once, and nothing stays remembered', async () => {
    const r = rig!;
    const b = broker!;
    assert.equal((await r.api('/api/gantry/printers', { method: 'POST', json: { id: 'brief', serial: { port: 'virtual' } } })).status, 201);
    await waitFor("brief's device retained", async () => (await retained(b.url, 'homeassistant/#')).get(configTopic('brief')), 20_000);
    assert.equal((await r.api('/api/gantry/printers/brief', { method: 'DELETE' })).status, 204);
    await r.gantry.mqttSettled();
    let left: string[] = [];
    await waitFor('brief emptied', async () => (left = [...(await retained(b.url, '#')).keys()].filter((t) => t.includes('brief'))).length === 0, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${left.join(', ')}\n${r.logs.filter((l) => /brief|mqtt|MQTT/.test(l)).slice(-15).join('\n')}`);
    });
    assert.deepEqual(await pending(), []);
  });

  test('MQTT switched off: a removal waits for the next broker, but is dropped once the printer is added again', async () => {
    const r = rig!;
    const b = broker!;
    const mqttUrl = async (url: string) => {
      assert.equal((await r.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url } } } })).status, 200);
      await r.gantry.mqttSettled();
    };
    assert.equal((await r.api('/api/gantry/printers', { method: 'POST', json: { id: 'back', serial: { port: 'virtual' } } })).status, 201);
    await waitFor("back's device retained", async () => (await retained(b.url, 'homeassistant/#')).get(configTopic('back')), 20_000);
    await b.stop('SIGTERM');
    try {
      await waitFor('the bridge sees the broker gone', () => !r.gantry.mqtt()?.connected, 10_000);
      assert.equal((await r.api('/api/gantry/printers/back', { method: 'DELETE' })).status, 204);
      await waitFor('the removal remembered', async () => (await pending()).includes('back'));
      await mqttUrl('');
      assert.deepEqual(await pending(), ['back'], 'kept for the next broker');
      assert.equal((await r.api('/api/gantry/printers', { method: 'POST', json: { id: 'back', serial: { port: 'virtual' } } })).status, 201);
      await r.gantry.mqttSettled();
      assert.deepEqual(await pending(), [], 'back is there again: its device is not to be emptied');
    } finally {
      await b.start();
    }
    await mqttUrl(b.url);
    await waitFor('bridge connected again', () => r.gantry.mqtt()?.connected, 10_000);
    await waitFor("back's device retained", async () => (await retained(b.url, 'homeassistant/#')).get(configTopic('back')), 20_000);
  });

  test('a removal still remembered for a printer that is there again is not emptied at the connection (only forgotten)', async () => {
    const r = rig!;
    const b = broker!;
    await waitFor("back's device retained", async () => (await retained(b.url, 'homeassistant/#')).get(configTopic('back')), 20_000);
    // as a start finds it when forgetting it failed or has not happened yet: the removal on file, the printer listed
    await r.gantry.stop();
    const file = join(r.dir, 'data', 'mqtt-removals.json');
    await writeFile(file, JSON.stringify({ removed: [{ printerId: 'back', topics: [configTopic('back'), 'gantry/back/state'], at: 1 }] }));
    // the forgetting at start cannot save (a directory where its temp file goes)
    const blocker = `${file}.tmp-${process.pid}`;
    await mkdir(blocker);
    const { ha, client } = await watch(b.url, 'homeassistant', [configTopic('back'), 'gantry/back/availability']);
    const seen: { topic: string; payload: string; retain: boolean }[] = [];
    client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
    void ha;
    try {
      await r.restart();
      await waitFor('bridge connected again', () => r.gantry.mqtt()?.connected, 10_000);
      // published after anything the connection empties: the channel's own announcement
      await waitFor('back online', () => seen.some((m) => m.topic === 'gantry/back/availability' && m.payload === 'online' && !m.retain), 20_000);
      assert.deepEqual(seen.filter((m) => m.topic === configTopic('back') && m.payload === ''), [], "back's device was never emptied");
      assert.ok((await retained(b.url, 'homeassistant/#')).get(configTopic('back')));
    } finally {
      client.end(true);
      await rmdir(blocker);
    }
  });
});
