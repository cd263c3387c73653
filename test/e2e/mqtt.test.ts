// The MQTT bridge against a real Mosquitto: discovery, retained state, commands, broker restarts, last will.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { NODE_FLAGS } from '../../src/node-flags.js';
import type { GantryRig } from '../helpers/gantry-rig.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { type MqttRig, mqttRig } from '../helpers/mqtt-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GANTRY_CLI } from '../helpers/gantry-cli.js';

const mqtt = createRequire(import.meta.url)('mqtt') as { connect(url: string, o?: object): MqttClient };

/** A subscriber that remembers the last payload per topic. */
async function listen(url: string, filters: string[]): Promise<{ last: Map<string, string>; client: MqttClient; retained: Set<string> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 200 });
  const last = new Map<string, string>();
  const retained = new Set<string>();
  client.on('message', (t, p, packet) => {
    last.set(t, p.toString());
    if (packet.retain) retained.add(t);
  });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await new Promise<void>((r) => client.subscribe(filters, { qos: 1 }, () => r()));
  return { last, client, retained };
}

describe('MQTT bridge', () => {
  let m: MqttRig | undefined;
  let broker: Mosquitto;
  let rig: GantryRig;
  before(async () => {
    // configured the way a user does it: in the settings (gantry serve --mqtt is tested below)
    m = await mqttRig(['--speed', '20']);
    ({ broker, rig } = m);
  });
  after(async () => m?.close());

  test('a late subscriber sees a valid retained device discovery and retained state', async () => {
    const sub = await listen(broker.url, ['homeassistant/#', 'gantry/#']);
    try {
      await waitFor('retained discovery and state', () => [...sub.last.keys()].some((t) => t.startsWith('homeassistant/device/')) && (sub.last.get('gantry/printer/temperature') ?? '').includes('tool0'));
      const topic = [...sub.last.keys()].find((t) => t.startsWith('homeassistant/device/'))!;
      // the host's health is read and published a moment after the connect: wait for every topic the device reads
      const stateTopics = () => Object.values((JSON.parse(sub.last.get(topic)!) as { components: Record<string, { state_topic?: string }> }).components).flatMap((c) => (c.state_topic ? [c.state_topic] : []));
      await waitFor('every state topic published', () => stateTopics().every((t) => sub.last.has(t)));
      assert.ok(sub.retained.has(topic));
      const cfg = JSON.parse(sub.last.get(topic)!) as { device: object; origin: object; components: Record<string, { unique_id: string; state_topic?: string; command_topic?: string }> };
      const uids = Object.values(cfg.components).map((c) => c.unique_id);
      assert.equal(new Set(uids).size, uids.length);
      // every topic the entities read is being published
      for (const c of Object.values(cfg.components)) if (c.state_topic) assert.ok(sub.last.has(c.state_topic), c.state_topic);
      assert.equal(sub.last.get('gantry/bridge/state'), 'online');
      assert.equal(sub.last.get('gantry/printer/availability'), 'online');
      const state = JSON.parse(sub.last.get('gantry/printer/state')!) as { text: string; connected: boolean };
      assert.deepEqual([state.text, state.connected], ['Operational', true]);
      const temp = JSON.parse(sub.last.get('gantry/printer/temperature')!) as { tool0: { actual: number } };
      assert.equal(typeof temp.tool0.actual, 'number');
    } finally {
      sub.client.end(true);
    }
  });

  test('a camera: snapshots as JPEG on gantry/printer/camera and a camera entity in the discovery', async () => {
    const res = await rig.api('/api/settings', { method: 'POST', json: { gantry: { camera: { source: 'testsrc', width: 320, height: 240 }, mqtt: { cameraInterval: 1 } } } });
    assert.equal(res.status, 200);
    const client = mqtt.connect(broker.url, { reconnectPeriod: 200 });
    const images: Buffer[] = [];
    let discovery: { components: Record<string, { platform: string; unique_id: string; topic?: string; availability?: unknown }> } | undefined;
    client.on('message', (t, p) => {
      if (t === 'gantry/printer/camera') images.push(Buffer.from(p));
      else if (t.startsWith('homeassistant/device/') && p.length) discovery = JSON.parse(p.toString()) as typeof discovery;
    });
    try {
      await new Promise<void>((r) => client.once('connect', () => r()));
      client.subscribe(['gantry/printer/camera', 'homeassistant/device/+/config'], { qos: 1 });
      await waitFor('a camera entity in the discovery', () => discovery?.components['camera']);
      assert.deepEqual(discovery!.components['camera'], {
        platform: 'camera',
        unique_id: discovery!.components['camera']!.unique_id,
        name: 'Camera',
        topic: 'gantry/printer/camera',
        // the camera looks at the printer whether or not it is connected: the bridge's availability only
        availability: [{ topic: 'gantry/bridge/state', payload_available: 'online', payload_not_available: 'offline' }],
      });
      await waitFor('two snapshots', () => images.length >= 2, 15_000);
      for (const jpeg of images) assert.deepEqual([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
    } finally {
      client.end(true);
      await rig.api('/api/settings', { method: 'POST', json: { gantry: { camera: { source: 'none' }, mqtt: { cameraInterval: 0 } } } });
      await waitFor('bridge connected again', () => rig.gantry.mqtt()?.connected);
    }
  });

  test('commands from MQTT pause and resume a print; retained and duplicate commands are harmless', async () => {
    const sub = await listen(broker.url, ['gantry/printer/state', 'gantry/printer/job']);
    const pub = mqtt.connect(broker.url);
    await new Promise<void>((r) => pub.once('connect', () => r()));
    try {
      const form = new FormData();
      form.append('print', 'true');
      form.append('file', new Blob(['G28\n' + 'G1 X100 Y100 F3000\nG1 X0 Y0 F3000\n'.repeat(200)]), 'mq.gcode');
      assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
      const stateText = () => (JSON.parse(sub.last.get('gantry/printer/state') ?? '{}') as { text?: string }).text;
      await waitFor('printing (seen over MQTT)', () => stateText() === 'Printing', 20_000);
      // the job topic is published on its own cadence: wait for it, never read it once
      await waitFor('the job over MQTT', () => (JSON.parse(sub.last.get('gantry/printer/job') ?? '{}') as { file?: string }).file === 'mq.gcode');
      pub.publish('gantry/printer/cmd/pause', 'PRESS', { qos: 1 });
      pub.publish('gantry/printer/cmd/pause', 'PRESS', { qos: 1 }); // a duplicate delivery
      await waitFor('paused (seen over MQTT)', () => stateText() === 'Paused', 20_000);
      pub.publish('gantry/printer/cmd/resume', 'PRESS', { qos: 1 });
      await waitFor('printing again', () => stateText() === 'Printing', 20_000);
      pub.publish('gantry/printer/set/bed_target', '55', { qos: 1 });
      await waitFor('bed target set', () => rig.gantry.printer.temperatures.bed?.target === 55);
      pub.publish('gantry/printer/set/bed_target', 'hot', { qos: 1 });
      await waitFor('bad value refused', () => rig.logs.some((l) => /bed_target must be a temperature/.test(l)));
      pub.publish('gantry/printer/cmd/cancel', 'PRESS', { qos: 1 });
      await waitFor('cancelled', () => stateText() === 'Operational', 20_000);
    } finally {
      pub.end(true);
      sub.client.end(true);
      // whatever failed above, the next test gets an idle printer
      if (rig.gantry.jobs.active) await rig.api('/api/job', { method: 'POST', json: { command: 'cancel' } });
      await waitFor('the printer idle', () => !rig.gantry.jobs.active && rig.gantry.printer.stateText === 'Operational', 30_000);
    }
  });

  test("queue adds published back to back are queued in the order sent", async () => {
    const pub = mqtt.connect(broker.url);
    await new Promise<void>((r) => pub.once('connect', () => r()));
    const queue = async () => ((await (await rig.api('/api/gantry/queue')).json()) as { items: { id: string; copies: number }[] }).items;
    try {
      const form = new FormData();
      form.append('print', 'true');
      form.append('file', new Blob(['G28\n' + 'G1 X100 Y100 F3000\nG1 X0 Y0 F3000\n'.repeat(400)]), 'order.gcode');
      assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
      // printing: what is queued now waits for it
      await waitFor('printing', () => rig.gantry.jobs.active);
      // each add awaits a stat of its file before it queues: run side by side, a later one could land first
      for (const copies of [1, 2, 3, 4]) pub.publish('gantry/printer/cmd/queue.add', JSON.stringify({ path: 'order.gcode', copies }), { qos: 1 });
      const items = await waitFor('four items queued', async () => {
        const q = await queue();
        return q.length === 4 ? q : undefined;
      });
      assert.deepEqual(items.map((i) => i.copies), [1, 2, 3, 4]);
    } finally {
      pub.end(true);
      for (const item of await queue()) await rig.api(`/api/gantry/queue/${item.id}`, { method: 'DELETE' });
      if (rig.gantry.jobs.active) await rig.api('/api/job', { method: 'POST', json: { command: 'cancel' } });
      await waitFor('the printer idle', () => !rig.gantry.jobs.active && rig.gantry.printer.stateText === 'Operational', 30_000);
    }
  });

  test('a printer waiting for the user (M0, M600) says so in the state topic, and stops saying it once answered', async () => {
    const sub = await listen(broker.url, ['gantry/printer/state']);
    try {
      const prompt = () => (JSON.parse(sub.last.get('gantry/printer/state') ?? '{}') as { prompt?: { text: string; choices: string[] } | null }).prompt;
      await waitFor('state seen', () => prompt() === null);
      assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M0 Swap the nozzle' } })).status, 204);
      await waitFor('the prompt over MQTT', () => prompt()?.text === 'Swap the nozzle');
      assert.deepEqual(prompt(), { text: 'Swap the nozzle', choices: ['Continue'] });
      assert.equal((await rig.api('/api/plugin/action_command_prompt', { method: 'POST', json: { command: 'select', choice: 0 } })).status, 204);
      await waitFor('cleared over MQTT', () => prompt() === null);
    } finally {
      sub.client.end(true);
    }
  });

  test('a retained command waiting on the broker is ignored when the bridge (re)subscribes', async () => {
    const pub = mqtt.connect(broker.url);
    await new Promise<void>((r) => pub.once('connect', () => r()));
    try {
      // stop the bridge (an empty URL turns MQTT off), leave a retained command, start it again
      const api = (json: unknown) => rig.api('/api/settings', { method: 'POST', json });
      assert.equal((await api({ gantry: { mqtt: { url: '' } } })).status, 200);
      await waitFor('bridge stopped', () => rig.gantry.mqtt() === undefined);
      await new Promise<void>((r) => pub.publish('gantry/printer/cmd/disconnect', 'PRESS', { qos: 1, retain: true }, () => r()));
      assert.equal((await api({ gantry: { mqtt: { url: broker.url } } })).status, 200);
      await waitFor('the stale command refused', () => rig.logs.some((l) => /ignoring a retained command on gantry\/printer\/cmd\/disconnect/.test(l)), 10_000);
      assert.equal(rig.gantry.printer.stateText, 'Operational', 'the printer stayed connected');
      await new Promise<void>((r) => pub.publish('gantry/printer/cmd/disconnect', '', { qos: 1, retain: true }, () => r()));
      const settings = (await (await rig.api('/api/settings')).json()) as { gantry: { mqtt: { url: string; password: string } } };
      assert.equal(settings.gantry.mqtt.url, broker.url);
    } finally {
      pub.end(true);
    }
  });

  test('switching MQTT off removes the printer from Home Assistant (empty retained discovery), and back on restores it', async () => {
    const api = (json: unknown) => rig.api('/api/settings', { method: 'POST', json });
    assert.equal((await api({ gantry: { mqtt: { url: '' } } })).status, 200);
    await waitFor('bridge stopped', () => rig.gantry.mqtt() === undefined);
    const sub = await listen(broker.url, ['homeassistant/#']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal([...sub.last.keys()].filter((t) => t.startsWith('homeassistant/device/')).length, 0, 'no retained discovery left');
      assert.equal((await api({ gantry: { mqtt: { url: broker.url } } })).status, 200);
      await waitFor('discovery back', () => [...sub.last.keys()].some((t) => t.startsWith('homeassistant/device/')));
      await waitFor('bridge connected', () => rig.gantry.mqtt()?.connected);
    } finally {
      sub.client.end(true);
    }
  });

  test('settings saved several times in a row leave exactly one bridge running', async () => {
    // each bridge listens on the bus; a bridge left behind would keep publishing under the same client id, and the
    // broker would hand the connection back and forth between the two (Home Assistant sees the printer flap)
    const listeners = () => rig.gantry.bus.listeners('job.started');
    const before = listeners();
    // each save restarts the bridge, and the next one lands while that restart is still under way
    for (const n of [3, 4, 5, 6, 0]) {
      assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { cameraInterval: n } } } })).status, 200);
    }
    await rig.gantry.mqttSettled();
    assert.equal(listeners(), before);
    await waitFor('bridge connected', () => rig.gantry.mqtt()?.connected);
  });

  test('Home Assistant coming online gets discovery again', async () => {
    const sub = await listen(broker.url, ['homeassistant/device/#']);
    const pub = mqtt.connect(broker.url);
    await new Promise<void>((r) => pub.once('connect', () => r()));
    try {
      await waitFor('retained discovery', () => sub.last.size > 0);
      const before = sub.last.size;
      sub.last.clear();
      pub.publish('homeassistant/status', 'online', { qos: 1 });
      await waitFor('discovery re-published', () => sub.last.size >= before, 5000);
    } finally {
      pub.end(true);
      sub.client.end(true);
    }
  });

  test('the broker killed and restarted: Gantry reconnects and republishes within 5 s; the printer link is untouched', async () => {
    await broker.stop();
    await waitFor('bridge noticed', () => !rig.gantry.mqtt()?.connected);
    await broker.start(); // same port; persistence off: the broker lost every retained message
    const t0 = Date.now();
    const sub = await listen(broker.url, ['gantry/#', 'homeassistant/#']);
    try {
      await waitFor('republished', () => sub.last.get('gantry/bridge/state') === 'online' && sub.last.has('gantry/printer/state') && [...sub.last.keys()].some((t) => t.startsWith('homeassistant/')), 5000, 20);
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(rig.gantry.printer.stateText, 'Operational');
    } finally {
      sub.client.end(true);
    }
  });

  // last: the board stays halted
  test("Home Assistant's emergency stop button sends M112 at once, commands published before it notwithstanding", async () => {
    const pub = mqtt.connect(broker.url);
    await new Promise<void>((r) => pub.once('connect', () => r()));
    try {
      for (const t of [40, 45, 50]) pub.publish('gantry/printer/set/bed_target', String(t), { qos: 1 });
      pub.publish('gantry/printer/cmd/emergency_stop', 'PRESS', { qos: 1 });
      await waitFor('Offline after error', () => rig.gantry.printer.stateText === 'Offline after error', 10_000);
      assert.ok(rig.gantry.printer.terminal.lines(500).includes('Send: M112'));
    } finally {
      pub.end(true);
    }
  });
});

test('the last will says offline when Gantry is killed; a clean stop says offline too', async () => {
  const { dir, cleanup } = await tempDir();
  const broker = await Mosquitto.start(dir);
  const sub = await listen(broker.url, ['gantry/bridge/state']);
  const start = () =>
    spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--mqtt', broker.url], { stdio: 'ignore' });
  try {
    let child = start();
    await waitFor('online', () => sub.last.get('gantry/bridge/state') === 'online', 15_000);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await waitFor('the will: offline', () => sub.last.get('gantry/bridge/state') === 'offline', 15_000);
    child = start();
    await waitFor('online again', () => sub.last.get('gantry/bridge/state') === 'online', 15_000);
    child.kill('SIGTERM');
    await once(child, 'exit');
    assert.equal(sub.last.get('gantry/bridge/state'), 'offline', 'said offline before a clean exit');
  } finally {
    sub.client.end(true);
    await broker.stop();
    await cleanup();
  }
});
