// Home Assistant shows the truth: a real Mosquitto, a whole Gantry over real HTTP and the virtual printer. What Home
// Assistant would show is worked out by its own rules (test/mqtt/ha-model.ts: the device config's shared options
// merged into components, availability lists and modes) from what a subscriber gets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { VirtualPrinterProcess } from '../../src/sim/launcher.js';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { type MqttRig, mqttRig } from '../helpers/mqtt-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { type HomeAssistantModel, retained, uniqueIdsIn, watch } from '../mqtt/ha-model.js';

const mqtt = createRequire(import.meta.url)('mqtt') as { connect(url: string, o?: object): MqttClient };

async function publisher(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url);
  await new Promise<void>((r) => c.once('connect', () => r()));
  return c;
}
const press = (c: MqttClient, topic: string) => new Promise<void>((r) => c.publish(topic, 'PRESS', { qos: 1 }, () => r()));

interface StateMsg {
  text?: string;
  connected?: boolean;
  error?: boolean;
  errorText?: string | null;
}
const stateOf = (ha: HomeAssistantModel): StateMsg => JSON.parse(ha.last.get('gantry/printer/state') ?? '{}') as StateMsg;

async function settingsPost(rig: GantryRig, json: unknown): Promise<void> {
  const res = await rig.api('/api/settings', { method: 'POST', json });
  assert.equal(res.status, 200, await res.text());
}

async function mqttSettings(rig: GantryRig, m: Record<string, unknown>): Promise<void> {
  await settingsPost(rig, { gantry: { mqtt: m } });
  await rig.gantry.mqttSettled();
  await waitFor('bridge connected', () => rig.gantry.mqtt()?.connected);
}

const configsUnder = (m: Map<string, string>, prefix: string) => [...m.keys()].filter((t) => t.startsWith(`${prefix}/`) && t.endsWith('/config')).sort();

describe('Home Assistant shows the truth', () => {
  let m: MqttRig | undefined;
  let broker: Mosquitto;
  let rig: GantryRig;
  before(async () => {
    m = await mqttRig();
    ({ broker, rig } = m);
  });
  after(async () => m?.close());

  test('the device: named after the printer (or the host while the name is the default), its Visit link and support URL answer over HTTP; a rename keeps the unique_ids', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', ['homeassistant/#']);
    try {
      const state = await waitFor('the device discovery', () => (ha.configs.size > 0 ? ha.entity('state') : undefined));
      const device = state.config['device'] as { name: string; configuration_url: string };
      const origin = state.config['origin'] as { name: string; support_url: string };
      assert.equal(device.name, `Gantry ${hostname().split('.')[0]}`, 'unique per install, not "Gantry" for everyone');
      assert.equal(device.configuration_url, `${rig.gantry.url}/`);
      for (const url of [device.configuration_url, origin.support_url]) {
        const res = await fetch(url);
        assert.equal(res.status, 200, url);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/, url);
        assert.match(await res.text(), /<title>/i, url);
      }
      const ids = ha.uniqueIds().sort();
      await settingsPost(rig, { appearance: { name: 'Workshop MK4' } });
      await waitFor('the new name in Home Assistant', () => (ha.entity('state').config['device'] as { name: string }).name === 'Workshop MK4');
      assert.deepEqual(ha.uniqueIds().sort(), ids, 'the same entities, renamed');
    } finally {
      client.end(true);
      await settingsPost(rig, { appearance: { name: 'Gantry' } });
    }
  });

  test('Layer and Current Z follow a real print (Z above 0 from layer 2 on) and reset when the job ends', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', ['gantry/printer/job', 'gantry/printer/state']);
    const jobs: { file: string | null; layer: number | null; z: number | null }[] = [];
    client.on('message', (t, p) => {
      if (t === 'gantry/printer/job') jobs.push(JSON.parse(p.toString()) as (typeof jobs)[number]);
    });
    try {
      // Cura's layout: the layer comment, then the move up to the layer's height
      let g = 'G28\nG92 E0\n';
      for (let n = 0; n < 8; n++) {
        g += `;LAYER:${n}\nG1 Z${((n + 1) * 0.2).toFixed(1)} F600\n`;
        for (let i = 0; i < 40; i++) g += `G1 X${i % 2 ? 60 : 40} Y${50 + n} E${((n * 40 + i + 1) * 0.05).toFixed(2)} F600\n`;
      }
      assert.equal((await uploadGcode(rig, 'layers.gcode', g, { print: 'true' })).status, 201);
      await waitFor('layer 2 or later over MQTT while printing', () => jobs.some((j) => j.file === 'layers.gcode' && (j.layer ?? 0) >= 2), 30_000);
      await waitFor('the job ended (over MQTT)', () => stateOf(ha).text === 'Operational' && !rig.gantry.jobs.active && jobs.at(-1)?.file === null, 60_000);
      const during = jobs.filter((j) => j.file === 'layers.gcode' && j.layer !== null);
      for (const j of during.filter((x) => x.layer! >= 2)) assert.ok(typeof j.z === 'number' && j.z > 0, `Z at layer ${j.layer}: ${j.z}`);
      for (let k = 1; k < during.length; k++) {
        assert.ok(during[k]!.layer! >= during[k - 1]!.layer!, 'the layer only goes up');
        assert.ok(during[k]!.z! >= during[k - 1]!.z!, 'so does Z');
      }
      assert.deepEqual([jobs.at(-1)!.layer, jobs.at(-1)!.z], [null, null], 'nothing left from the job');
    } finally {
      client.end(true);
      if (rig.gantry.jobs.active) await rig.api('/api/job', { method: 'POST', json: { command: 'cancel' } });
      await waitFor('the printer idle', () => !rig.gantry.jobs.active && rig.gantry.printer.stateText === 'Operational', 30_000);
    }
  });

  test('switching the discovery mode, prefix, base topic or broker removes the old retained configs: a Home Assistant starting now finds every unique_id once', async () => {
    const other = await Mosquitto.start(m!.dir);
    try {
      const first = await retained(broker.url, '#');
      assert.equal(configsUnder(first, 'homeassistant').length, 1);
      assert.match(configsUnder(first, 'homeassistant')[0]!, /^homeassistant\/device\//);
      const ids = uniqueIdsIn(first).sort();
      assert.ok(ids.length >= 20);
      assert.equal(new Set(ids).size, ids.length);

      await mqttSettings(rig, { discovery: 'entity' });
      const perEntity = await waitFor('every entity config retained', async () => {
        const m = await retained(broker.url, '#');
        return configsUnder(m, 'homeassistant').filter((t) => !t.includes('/device/')).length === ids.length ? m : undefined;
      });
      assert.deepEqual(configsUnder(perEntity, 'homeassistant').filter((t) => t.includes('/device/')), [], 'the device config is gone');
      assert.deepEqual(uniqueIdsIn(perEntity).sort(), ids, 'each unique_id once');

      await mqttSettings(rig, { discoveryPrefix: 'ha2', baseTopic: 'printers' });
      const moved = await waitFor('the configs under the new prefix', async () => {
        const m = await retained(broker.url, '#');
        return configsUnder(m, 'ha2').length === ids.length ? m : undefined;
      });
      assert.deepEqual(configsUnder(moved, 'homeassistant'), [], 'nothing left under the old prefix');
      assert.deepEqual(uniqueIdsIn(moved).sort(), ids);
      for (const t of configsUnder(moved, 'ha2')) {
        const cfg = JSON.parse(moved.get(t)!) as Record<string, unknown>;
        for (const k of ['state_topic', 'command_topic', 'topic']) if (typeof cfg[k] === 'string') assert.match(cfg[k] as string, /^printers\//, `${t} ${k}`);
      }

      await mqttSettings(rig, { discovery: 'device', discoveryPrefix: 'homeassistant', baseTopic: 'gantry' });
      const back = await waitFor('the device config back', async () => {
        const m = await retained(broker.url, '#');
        return configsUnder(m, 'homeassistant').length === 1 ? m : undefined;
      });
      assert.deepEqual(configsUnder(back, 'ha2'), [], 'nothing left under the other prefix');
      assert.match(configsUnder(back, 'homeassistant')[0]!, /^homeassistant\/device\//);
      assert.deepEqual(uniqueIdsIn(back).sort(), ids);

      // another broker: the old one is left without the printer
      await mqttSettings(rig, { url: other.url });
      await waitFor('the device config on the new broker', async () => configsUnder(await retained(other.url, '#'), 'homeassistant').length === 1);
      assert.deepEqual(configsUnder(await retained(broker.url, '#'), 'homeassistant'), [], 'nothing left on the old broker');
    } finally {
      await mqttSettings(rig, { url: broker.url, discovery: 'device', discoveryPrefix: 'homeassistant', baseTopic: 'gantry' });
      await other.stop();
    }
  });

  test('entity discovery with the printer link down: Connected says OFF and State says Offline instead of going unavailable; Connect brings it back', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', ['homeassistant/#', 'gantry/#']);
    const pub = await publisher(broker.url);
    try {
      await mqttSettings(rig, { discovery: 'entity' });
      await waitFor('per-entity configs', () => ha.entities().some((e) => e.source === 'entity' && e.key === 'connected'));
      assert.equal(ha.available(ha.entity('connected', 'entity')), true);
      await press(pub, 'gantry/printer/cmd/disconnect');
      await waitFor('Offline, over MQTT', () => stateOf(ha).text === 'Offline' && ha.last.get('gantry/printer/availability') === 'offline');
      assert.equal(stateOf(ha).connected, false);
      for (const key of ['connected', 'state', 'error', 'cpu_temperature', 'disk_free', 'connect']) assert.equal(ha.available(ha.entity(key, 'entity')), true, `${key} available`);
      for (const key of ['tool0_temperature', 'bed_target', 'progress', 'pause', 'emergency_stop']) assert.equal(ha.available(ha.entity(key, 'entity')), false, `${key} unavailable`);
      await press(pub, 'gantry/printer/cmd/connect');
      await waitFor('Operational again, over MQTT', () => stateOf(ha).text === 'Operational' && ha.last.get('gantry/printer/availability') === 'online', 20_000);
      assert.equal(ha.available(ha.entity('tool0_temperature', 'entity')), true);
    } finally {
      pub.end(true);
      client.end(true);
      if (!rig.gantry.printer.operational) await rig.api('/api/connection', { method: 'POST', json: { command: 'connect', port: 'VIRTUAL' } });
      await waitOperational(rig);
      await mqttSettings(rig, { discovery: 'device' });
    }
  });
});

test('an emergency stop from Home Assistant: State, Error, Connected, Connect, the camera and the host sensors stay available and tell it; a failed connect is reported; Connect brings the printer back', async () => {
  const { dir, cleanup } = await tempDir();
  const broker = await Mosquitto.start(dir);
  // a printer Gantry does not own: the test resets it (a fresh boot) as a user presses its reset button
  const sim = new VirtualPrinterProcess(join(dir, 'printer-link'), ['--speed', '200']);
  const link = await sim.ensure();
  // a short hello timeout: the halted board's silence is found out sooner
  const rig = await gantryRig({ serial: link, baud: 250000 }, { serialOverrides: { timeouts: { communication: 10_000, busy: 5_000, connection: 1_000, detection: 2_500 } } });
  const { ha, client } = await watch(broker.url, 'homeassistant', ['homeassistant/#', 'gantry/#']);
  const pub = await publisher(broker.url);
  try {
    await waitOperational(rig);
    await settingsPost(rig, { gantry: { mqtt: { url: broker.url, cameraInterval: 30 }, camera: { source: 'testsrc', width: 320, height: 240 } } });
    await waitFor('the discovery with a camera, and the temperatures', () => ha.configs.size > 0 && ha.entities().some((e) => e.key === 'camera') && ha.last.has('gantry/printer/temperature'), 15_000);
    for (const e of ha.entities()) assert.equal(ha.available(e), true, `${e.key} available while all is well`);

    await press(pub, 'gantry/printer/cmd/emergency_stop');
    await waitFor('Offline after error, over MQTT', () => stateOf(ha).text === 'Offline after error' && ha.last.get('gantry/printer/availability') === 'offline', 10_000);
    const s = stateOf(ha);
    assert.deepEqual([s.error, s.connected], [true, false]);
    assert.ok(s.errorText, 'the reason');
    for (const key of ['state', 'error', 'connected', 'camera', 'cpu_temperature', 'disk_free']) assert.equal(ha.available(ha.entity(key)), true, `${key} available`);
    for (const key of ['tool0_temperature', 'bed_target', 'printing', 'progress', 'pause', 'emergency_stop']) assert.equal(ha.available(ha.entity(key)), false, `${key} unavailable`);
    // the button that stopped it is not presented as a Restart button
    const estop = ha.entity('emergency_stop');
    assert.deepEqual([estop.config['name'], estop.config['device_class'], estop.config['command_topic']], ['Emergency stop', undefined, 'gantry/printer/cmd/emergency_stop']);

    // Connect while the board is still halted: it fails, and Home Assistant is told why
    const connect = ha.entity('connect');
    assert.equal(connect.config['platform'], 'button');
    assert.equal(ha.available(connect), true, 'Connect available with the printer away');
    await press(pub, connect.config['command_topic'] as string);
    await waitFor('the failed connect over MQTT', () => /needs a reset/.test(stateOf(ha).errorText ?? ''), 20_000);
    assert.equal(stateOf(ha).text, 'Offline after error');
    assert.ok(rig.logs.some((l) => /connect to .* failed: .*needs a reset/.test(l)), 'and in the log');

    // the board reset: Connect brings it back
    await sim.stop();
    await sim.ensure();
    await press(pub, connect.config['command_topic'] as string);
    await waitFor('Operational again, over MQTT', () => stateOf(ha).text === 'Operational' && ha.last.get('gantry/printer/availability') === 'online', 20_000);
    assert.equal(stateOf(ha).error, false);
    await waitFor('the temperatures available again', () => ha.available(ha.entity('tool0_temperature')));
  } finally {
    pub.end(true);
    client.end(true);
    await rig.close();
    await sim.stop();
    await broker.stop();
    await cleanup();
  }
});
