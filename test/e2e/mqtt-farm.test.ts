// The farm queue over MQTT, against a real Mosquitto: its items and the printers they went to, retained on
// gantry/bridge/farm/queue for any subscriber, and added to, reordered and removed through
// gantry/bridge/farm/cmd/<name>, the same operations the HTTP API runs (a refusal is a log line).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uploadGcode } from '../helpers/gantry-rig.js';
import type { GantryRig } from '../helpers/gantry-rig.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { type MqttRig, mqttRig } from '../helpers/mqtt-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';
import { retained, watch } from '../mqtt/ha-model.js';

interface Item {
  id: string;
  path: string;
  copies: number;
  printed: number;
  state: string;
  printing: { printer: string }[];
  reason: string | null;
}

const QUEUE = 'gantry/bridge/farm/queue';
const cmd = (name: string) => `gantry/bridge/farm/cmd/${name}`;
const part = (name: string, trips: number) => ['G28', `M117 farm ${name}`, 'G90', ...Array.from({ length: trips }, (_, i) => `G1 X${10 + (i % 50)} Y${10 + (i % 40)} F3000`)].join('\n') + '\n';

describe('the farm queue over MQTT', () => {
  let m: MqttRig | undefined;
  let broker: Mosquitto;
  let rig: GantryRig;

  before(async () => {
    m = await mqttRig(['--speed', '20']);
    ({ broker, rig } = m);
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', name: 'Two', serial: { port: 'virtual' } } })).status, 201);
    await waitFor('two operational', () => rig.gantry.printers.get('two')?.printer.state === 'OPERATIONAL', 20_000);
    for (const [name, body] of [['short.gcode', part('short', 20)], ['later.gcode', part('later', 20)]] as const) {
      assert.equal((await uploadGcode(rig, name, body)).status, 201);
    }
  });
  after(async () => m?.close());

  test('items added by an MQTT command print on the printer they name; the queue, and where each item went, is retained', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', [QUEUE]);
    try {
      const queue = () => (JSON.parse(ha.last.get(QUEUE) ?? '{"items":null}') as { items: Item[] | null }).items;
      await waitFor('the empty queue published on connect', () => queue()?.length === 0);
      // the default printer is busy with an item of its own queue's gate: only "two" may take farm work here
      const started = nextEvent(rig.gantry.bus, 'job.started', (e) => e.printerId === 'two' && e.path === 'short.gcode', 30_000);
      const ended = nextEvent(rig.gantry.bus, 'job.ended', (e) => e.printerId === 'two' && e.path === 'short.gcode', 60_000);
      client.publish(cmd('add'), JSON.stringify({ path: 'short.gcode', copies: 1, constraints: { printers: ['two'] } }), { qos: 1 });
      await started;
      const printing = await waitFor('the item shown printing on two', () => queue()?.find((i) => i.path === 'short.gcode' && i.state === 'printing'));
      assert.deepEqual(printing.printing.map((p) => p.printer), ['two'], 'where the copy went');
      // a fresh subscriber (Home Assistant starting now) gets the queue retained, as the HTTP API shows it
      const late = JSON.parse((await retained(broker.url, QUEUE)).get(QUEUE)!) as { items: Item[] };
      const http = (await (await rig.api('/api/gantry/farm/queue')).json()) as { items: Item[] };
      assert.deepEqual(late.items.map((i) => [i.id, i.state, i.printing.map((p) => p.printer)]), http.items.map((i) => [i.id, i.state, i.printing.map((p) => p.printer)]));
      assert.equal((await ended).result, 'success');
      await waitFor('the printed item gone from the retained queue', () => queue()?.length === 0, 20_000);
      assert.equal((await rig.executedBy('two')).filter((l) => l === 'M117 farm short').length, 1, 'printed once, on two');
      assert.equal((await rig.executed()).filter((l) => l.startsWith('M117 farm')).length, 0, 'nothing on the default printer');
    } finally {
      client.end(true);
    }
  });

  test('move and remove by MQTT; bad commands are refused in the log and change nothing', async () => {
    const { ha, client } = await watch(broker.url, 'homeassistant', [QUEUE]);
    try {
      const queue = () => (JSON.parse(ha.last.get(QUEUE) ?? '{"items":null}') as { items: Item[] | null }).items ?? [];
      // items no printer may take (a printer list of one that never fits: the default printer, asked for the nozzle
      // it does not have), so they stay in the queue
      const stay = { printers: ['printer'], nozzleDiameter: 1.2 };
      // published back to back: queued in the order sent (each add awaits the file's metadata and a save)
      client.publish(cmd('farm.add'), JSON.stringify({ path: 'short.gcode', copies: 2, constraints: stay }), { qos: 1 });
      client.publish(cmd('add'), JSON.stringify({ path: 'later.gcode', constraints: stay }), { qos: 1 });
      client.publish(cmd('add'), JSON.stringify({ path: 'short.gcode', copies: 3, constraints: stay }), { qos: 1 });
      const three = await waitFor('the three items in the retained queue', () => (queue().length === 3 ? queue() : undefined));
      assert.deepEqual(three.map((i) => [i.path, i.copies, i.state]), [['short.gcode', 2, 'waiting'], ['later.gcode', 1, 'waiting'], ['short.gcode', 3, 'waiting']]);
      client.publish(cmd('remove'), JSON.stringify({ id: three[2]!.id }), { qos: 1 });
      const two = await waitFor('the third removed', () => (queue().length === 2 ? queue() : undefined));
      assert.deepEqual(two.map((i) => i.id), [three[0]!.id, three[1]!.id]);
      assert.match(two[0]!.reason ?? '', /nozzle/, 'why it waits');

      client.publish(cmd('move'), JSON.stringify({ id: two[1]!.id, position: 0 }), { qos: 1 });
      await waitFor('later.gcode first', () => queue()[0]?.path === 'later.gcode');

      const logged = (re: RegExp) => waitFor(`a log line ${re}`, () => rig.logs.some((l) => re.test(l)));
      client.publish(cmd('add'), JSON.stringify({ path: 'missing.gcode' }), { qos: 1 });
      await logged(/MQTT farm add: missing\.gcode not found/);
      client.publish(cmd('add'), 'not json', { qos: 1 });
      await logged(/MQTT farm add: the payload must be a JSON object/);
      client.publish(cmd('fly'), '{}', { qos: 1 });
      await logged(/unknown farm queue command fly/);
      // a printer's operation is not the farm's
      client.publish(cmd('job.cancel'), '{}', { qos: 1 });
      await logged(/unknown farm queue command job\.cancel/);
      client.publish(cmd('remove'), JSON.stringify({ id: 'nope' }), { qos: 1 });
      await logged(/No farm queue item nope/);
      assert.deepEqual(queue().map((i) => i.path), ['later.gcode', 'short.gcode'], 'nothing changed');

      for (const item of two) client.publish(cmd('remove'), JSON.stringify({ id: item.id }), { qos: 1 });
      await waitFor('the queue empty again', () => queue().length === 0);
      assert.deepEqual(((await (await rig.api('/api/gantry/farm/queue')).json()) as { items: Item[] }).items, []);
    } finally {
      client.end(true);
    }
  });

  test('the retained queue goes with the bridge: emptied under the old base topic when it changes, and when MQTT is switched off', async () => {
    const mqttSettings = async (mqtt: Record<string, unknown>) => {
      assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt } } })).status, 200);
      await rig.gantry.mqttSettled();
    };
    const queueAt = async (base: string) => (await retained(broker.url, `${base}/bridge/farm/#`)).get(`${base}/bridge/farm/queue`);
    await waitFor('the queue retained under gantry/', () => queueAt('gantry'));
    try {
      await mqttSettings({ baseTopic: 'farmhost' });
      await waitFor('bridge connected again', () => rig.gantry.mqtt()?.connected);
      await waitFor('the queue retained under farmhost/', () => queueAt('farmhost'));
      assert.equal(await queueAt('gantry'), undefined, 'nothing left under the old base topic');
    } finally {
      await mqttSettings({ url: '' });
    }
    assert.equal(await queueAt('farmhost'), undefined, 'nothing left once MQTT is off');
  });
});
