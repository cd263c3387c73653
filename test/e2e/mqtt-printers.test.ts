// Four printers in one Gantry on one MQTT connection, against a real Mosquitto: a Home Assistant device per printer,
// each printer's state on its own topics, a command acting on its printer only, and devices that come and go with
// the printers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { MqttClient } from 'mqtt';
import type { GantryRig } from '../helpers/gantry-rig.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { type MqttRig, mqttRig } from '../helpers/mqtt-rig.js';
import { waitFor } from '../helpers/wait.js';
import { type HomeAssistantModel, retained, uniqueIdsIn, watch } from '../mqtt/ha-model.js';

const mqtt = createRequire(import.meta.url)('mqtt') as { connect(url: string, o?: object): MqttClient };
const OTHERS = ['two', 'three', 'four'];
const HOST_ENTITIES = ['cpu_temperature', 'disk_free', 'memory_available', 'load', 'wifi_signal', 'under_voltage', 'throttled'];

interface StateMsg {
  text?: string;
}

async function addPrinter(rig: GantryRig, id: string): Promise<void> {
  const res = await rig.api('/api/gantry/printers', { method: 'POST', json: { id, name: `Printer ${id}`, serial: { port: 'virtual' } } });
  assert.equal(res.status, 201, await res.text());
}

/** a print long enough to pause: the moves name the printer */
function slowPrint(id: string): string {
  return 'G28\n' + `G1 X100 Y100 F3000 ; ${id}\nG1 X0 Y0 F3000\n`.repeat(300);
}

describe('four printers on one MQTT connection', () => {
  let m: MqttRig | undefined;
  let broker: Mosquitto;
  let rig: GantryRig;
  let hostId: string;
  const configTopic = (id: string) => `homeassistant/device/gantry_${hostId}_${id}/config`;
  const stateOf = (ha: HomeAssistantModel, id: string) => (JSON.parse(ha.last.get(`gantry/${id}/state`) ?? '{}') as StateMsg).text;
  const unitOf = (id: string) => rig.gantry.printers.get(id)!;
  /** one printer's entity as Home Assistant sees it */
  const entityOf = (ha: HomeAssistantModel, id: string, key: string) => {
    const e = ha.entities().find((x) => x.topic === configTopic(id) && x.key === key);
    assert.ok(e, `${id} ${key}`);
    return e;
  };

  before(async () => {
    m = await mqttRig(['--speed', '20']);
    ({ broker, rig } = m);
    hostId = rig.gantry.settings.data.server.uuid.replace(/-/g, '');
  });
  after(async () => m?.close());

  test('four printers: four Home Assistant devices, named after their printers, each with its own availability and state; the default printer\'s device unchanged', async () => {
    const single = await waitFor('the default printer\'s discovery', async () => (await retained(broker.url, 'homeassistant/#')).get(configTopic('printer')));
    for (const id of OTHERS) await addPrinter(rig, id);
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'bridge', serial: { port: 'virtual' } } })).status, 400, 'no printer may take the bridge\'s topics');
    await rig.gantry.mqttSettled();
    const { ha, client } = await watch(broker.url, 'homeassistant', ['homeassistant/#', 'gantry/#']);
    try {
      const ids = ['printer', ...OTHERS];
      await waitFor('four devices, every printer operational over MQTT', () => ids.every((id) => ha.configs.has(configTopic(id)) && stateOf(ha, id) === 'Operational' && ha.last.get(`gantry/${id}/availability`) === 'online'), 30_000);
      assert.deepEqual([...ha.configs.keys()].filter((t) => t.startsWith('homeassistant/device/')).sort(), ids.map(configTopic).sort());
      assert.equal(ha.configs.get(configTopic('printer')), single, 'the default printer\'s discovery byte for byte as with one printer');
      const all = uniqueIdsIn(ha.configs);
      assert.equal(new Set(all).size, all.length, 'every unique_id once');
      for (const id of ids) {
        const cfg = JSON.parse(ha.configs.get(configTopic(id))!) as { device: { name: string; identifiers: string[]; configuration_url: string }; components: Record<string, Record<string, unknown>> };
        assert.equal(cfg.device.name, id === 'printer' ? `Gantry ${hostname().split('.')[0]}` : `Printer ${id}`);
        assert.deepEqual(cfg.device.identifiers, [`gantry_${hostId}_${id}`]);
        // the device's Visit link opens the page (a printer's base URL shows that printer)
        const page = await fetch(cfg.device.configuration_url);
        assert.equal(page.status, 200, cfg.device.configuration_url);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        // the host's entities once, on the default printer
        for (const k of HOST_ENTITIES) assert.equal(k in cfg.components, id === 'printer', `${id} ${k}`);
        for (const [key, c] of Object.entries(cfg.components)) {
          assert.equal(c['unique_id'], `gantry_${hostId}_${id}_${key}`);
          for (const f of ['state_topic', 'command_topic', 'topic']) {
            if (typeof c[f] === 'string') assert.match(c[f] as string, new RegExp(`^gantry/(${id}|bridge)/`), `${id} ${key} ${f}`);
          }
        }
        const temp = entityOf(ha, id, 'tool0_temperature');
        assert.deepEqual((temp.config['availability'] as { topic: string }[]).map((a) => a.topic), ['gantry/bridge/state', `gantry/${id}/availability`]);
        assert.equal(ha.available(temp), true, `${id} temperature available`);
        await waitFor(`${id} temperatures on its own topic`, () => (ha.last.get(`gantry/${id}/temperature`) ?? '').includes('tool0'));
      }
    } finally {
      client.end(true);
    }
  });

  test('commands on gantry/two/… act on printer two only: a target with its offset, a pause, a disconnect and connect', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', ['homeassistant/#', 'gantry/#']);
    const pub = mqtt.connect(broker.url);
    await new Promise<void>((r) => pub.once('connect', () => r()));
    const send = (topic: string, payload = 'PRESS') => new Promise<void>((r) => pub.publish(topic, payload, { qos: 1 }, () => r()));
    try {
      // the bed offset set through printer two's own API is applied to its MQTT target too
      const offset = await rig.api('/printers/two/api/printer/bed', { method: 'POST', json: { command: 'offset', offset: 5 } });
      assert.equal(offset.status, 204);
      const beds = () => ['printer', 'three', 'four'].map((id) => unitOf(id).printer.temperatures.bed?.target ?? 0);
      const othersBefore = beds();
      await send('gantry/two/set/bed_target', '50');
      await waitFor('printer two heats its bed to 50 + 5', () => unitOf('two').printer.temperatures.bed?.target === 55);
      // the simulator records what it executed as it goes: wait for the line, do not race its write
      await waitFor('M140 S55 executed by two', async () => (await rig.executedBy('two')).includes('M140 S55'));
      assert.deepEqual(beds(), othersBefore, 'the other beds untouched');

      for (const id of ['two', 'three']) {
        const form = new FormData();
        form.append('print', 'true');
        form.append('file', new Blob([slowPrint(id)]), `mq-${id}.gcode`);
        assert.equal((await rig.api(`/printers/${id}/api/files/local`, { method: 'POST', body: form })).status, 201);
      }
      await waitFor('two and three printing (over MQTT)', () => stateOf(ha, 'two') === 'Printing' && stateOf(ha, 'three') === 'Printing', 20_000);
      await send('gantry/two/cmd/pause');
      await waitFor('two paused (over MQTT)', () => stateOf(ha, 'two') === 'Paused', 20_000);
      assert.equal(stateOf(ha, 'three'), 'Printing', 'three prints on');
      assert.equal(unitOf('three').printer.state, 'PRINTING');
      await send('gantry/two/cmd/cancel');
      await waitFor('two cancelled', () => stateOf(ha, 'two') === 'Operational' && !unitOf('two').jobs.active, 20_000);
      assert.equal(unitOf('three').jobs.active, true, 'three still printing');
      assert.equal((await rig.api('/printers/three/api/job', { method: 'POST', json: { command: 'cancel' } })).status, 204);
      await waitFor('three cancelled', () => !unitOf('three').jobs.active && unitOf('three').printer.stateText === 'Operational', 20_000);

      await send('gantry/two/cmd/disconnect');
      await waitFor('two offline (over MQTT)', () => stateOf(ha, 'two') === 'Offline' && ha.last.get('gantry/two/availability') === 'offline');
      assert.equal(ha.available(entityOf(ha, 'two', 'tool0_temperature')), false, 'two\'s print entities unavailable');
      assert.equal(ha.available(entityOf(ha, 'two', 'connect')), true, 'two\'s Connect available');
      for (const id of ['printer', 'three', 'four']) {
        assert.equal(ha.last.get(`gantry/${id}/availability`), 'online', `${id} still online`);
        assert.equal(ha.available(entityOf(ha, id, 'tool0_temperature')), true, `${id} available`);
        assert.equal(unitOf(id).printer.operational, true, `${id} connected`);
      }
      await send('gantry/two/cmd/connect');
      await waitFor('two operational again (over MQTT)', () => stateOf(ha, 'two') === 'Operational' && ha.last.get('gantry/two/availability') === 'online', 20_000);
    } finally {
      pub.end(true);
      client.end(true);
      for (const id of ['two', 'three']) if (unitOf(id).jobs.active) await rig.api(`/printers/${id}/api/job`, { method: 'POST', json: { command: 'cancel' } });
      if (!unitOf('two').printer.operational) await rig.api('/printers/two/api/connection', { method: 'POST', json: { command: 'connect' } });
      await waitFor('two and three idle', () => ['two', 'three'].every((id) => !unitOf(id).jobs.active && unitOf(id).printer.stateText === 'Operational'), 30_000);
    }
  });

  test('a removed printer leaves Home Assistant (its config and state emptied); an added one appears as a new device', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', ['homeassistant/#', 'gantry/#']);
    try {
      await waitFor('four devices', () => ha.configs.size === 4);
      assert.equal((await rig.api('/api/gantry/printers/four', { method: 'DELETE' })).status, 204);
      await rig.gantry.mqttSettled();
      await waitFor('four\'s device removed (an empty config)', () => ha.last.get(configTopic('four')) === '');
      assert.deepEqual([...ha.configs.keys()].sort(), ['printer', 'two', 'three'].map(configTopic).sort());
      const left = await retained(broker.url, '#');
      assert.ok(!left.has(configTopic('four')), 'no retained config for four');
      assert.deepEqual([...left.keys()].filter((t) => t.startsWith('gantry/four/')), [], 'no retained state for four');
      assert.ok(left.has('gantry/three/state') && left.has(configTopic('three')), 'the others kept');
      assert.deepEqual(rig.gantry.mqtt()?.printerIds.sort(), ['printer', 'three', 'two']);

      await addPrinter(rig, 'five');
      await rig.gantry.mqttSettled();
      await waitFor('five\'s device and state', () => ha.configs.has(configTopic('five')) && stateOf(ha, 'five') === 'Operational', 30_000);
      const five = JSON.parse(ha.configs.get(configTopic('five'))!) as { device: { name: string } };
      assert.equal(five.device.name, 'Printer five');
      await waitFor('five available in Home Assistant', () => ha.available(entityOf(ha, 'five', 'tool0_temperature')), 20_000);
      // renamed: the same device (its unique_ids), the new name
      const ids = uniqueIdsIn(new Map([[configTopic('five'), ha.configs.get(configTopic('five'))!]])).sort();
      assert.equal((await rig.api('/api/gantry/printers/five', { method: 'PATCH', json: { name: 'Garage MK3' } })).status, 200);
      await waitFor('the new name', () => (JSON.parse(ha.configs.get(configTopic('five')) ?? '{}') as { device?: { name: string } }).device?.name === 'Garage MK3');
      assert.deepEqual(uniqueIdsIn(new Map([[configTopic('five'), ha.configs.get(configTopic('five'))!]])).sort(), ids);
    } finally {
      client.end(true);
    }
  });
});
