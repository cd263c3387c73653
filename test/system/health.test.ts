// System health: the Pi-only files (thermal zone, the firmware's throttle flags, Wi-Fi) from a fake /sys and /proc
// tree, the real /proc of this machine, and the reading on the API (who may see it), the push socket and MQTT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { DISK_LOW_BYTES, SystemHealthReader, type SystemHealth, decodeThrottled, parseWireless, warningsOf } from '../../src/system/health.js';
import { deviceDiscovery } from '../../src/mqtt/discovery.js';
import { HEALTH_PLUGIN } from '../../src/push/push-server.js';
import { addUser, keyOf, login } from '../helpers/accounts.js';
import { gantryRig } from '../helpers/gantry-rig.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { PushClient } from '../helpers/push-client.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const mqtt = createRequire(import.meta.url)('mqtt') as { connect(url: string, o?: object): MqttClient };

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

const WIRELESS = `Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE
 face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22
 wlan0: 0000   56.  -54.  -256        0      0      0      0      0        0
`;

test('get_throttled bits: under-voltage, capped, throttled, soft limit, now and since boot', () => {
  const t = decodeThrottled(0x50005);
  assert.deepEqual(
    { ...t },
    { source: 'firmware', raw: 0x50005, underVoltage: true, frequencyCapped: false, throttled: true, softTempLimit: false, underVoltageOccurred: true, frequencyCappedOccurred: false, throttledOccurred: true, softTempLimitOccurred: false },
  );
  const all = decodeThrottled(0xf000f);
  assert.ok(Object.entries(all).every(([k, v]) => k === 'raw' || k === 'source' || v === true));
  assert.ok(Object.entries(decodeThrottled(0)).every(([k, v]) => k === 'raw' || k === 'source' || v === false));
  assert.deepEqual(parseWireless(WIRELESS), { interface: 'wlan0', quality: 56, signal: -54 });
  assert.equal(parseWireless('Inter-| sta-|\n face | tus |\n'), null);
});

test('a Pi, from a fake tree: the CPU zone, the throttle flags, Wi-Fi, and the warnings they make', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await tree(dir, {
      'sys/class/thermal/thermal_zone0/type': 'gpu-thermal\n',
      'sys/class/thermal/thermal_zone0/temp': '39000\n',
      'sys/class/thermal/thermal_zone1/type': 'cpu-thermal\n',
      'sys/class/thermal/thermal_zone1/temp': '61234\n',
      'sys/devices/platform/soc/soc:firmware/get_throttled': '50005\n',
      'proc/loadavg': '0.52 0.31 0.20 1/123 4567\n',
      'proc/meminfo': 'MemTotal:         470000 kB\nMemFree:           10000 kB\nMemAvailable:     200000 kB\n',
      'proc/uptime': '12345.67 40000.00\n',
      'proc/net/wireless': WIRELESS,
      'proc/stat': 'cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\ncpu2 1 2 3\ncpu3 1 2 3\nintr 1\n',
    });
    const h = await new SystemHealthReader(dir, dir).read();
    assert.equal(h.cpuTemperature, 61.2);
    assert.equal(h.throttling?.underVoltage, true);
    assert.equal(h.throttling?.throttledOccurred, true);
    assert.deepEqual(h.load, [0.52, 0.31, 0.2]);
    assert.equal(h.cpus, 4);
    assert.deepEqual(h.memory, { total: 470000 * 1024, available: 200000 * 1024 });
    assert.equal(h.uptime, 12346);
    assert.deepEqual(h.wifi, { interface: 'wlan0', quality: 56, signal: -54 });
    assert.ok(h.disk && h.disk.total > 0);
    assert.ok(h.warnings.some((w) => w.code === 'under-voltage'));
    assert.ok(h.warnings.some((w) => w.code === 'throttled'));

    // only since boot: a softer warning; no throttle file (not a Pi): none; a first zone without a type is taken
    await writeFile(join(dir, 'sys/devices/platform/soc/soc:firmware/get_throttled'), '0x10000\n');
    assert.deepEqual((await new SystemHealthReader(dir, dir).read()).warnings.map((w) => w.code).filter((c) => c !== 'disk-low'), ['under-voltage-occurred']);
  } finally {
    await cleanup();
  }
});

test('a mainline kernel (the image’s): under-voltage from raspberrypi-hwmon, now and since Gantry started', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // another hwmon first (the CPU's), then the Pi's voltage sensor; no get_throttled file (the Pi kernel's only)
    await tree(dir, {
      'sys/class/hwmon/hwmon0/name': 'cpu_thermal\n',
      'sys/class/hwmon/hwmon0/temp1_input': '45000\n',
      'sys/class/hwmon/hwmon1/name': 'rpi_volt\n',
      'sys/class/hwmon/hwmon1/in0_lcrit_alarm': '0\n',
    });
    const reader = new SystemHealthReader(dir, dir, 20);
    const codes = async () => (await reader.read()).warnings.map((w) => w.code).filter((c) => c !== 'disk-low');
    const first = await reader.read();
    assert.equal(first.throttling?.source, 'hwmon');
    assert.equal(first.throttling?.underVoltage, false);
    assert.deepEqual(await codes(), []);
    await writeFile(join(dir, 'sys/class/hwmon/hwmon1/in0_lcrit_alarm'), '1\n');
    assert.deepEqual(await codes(), ['under-voltage']);
    // the supply recovers: the page still says it happened
    await writeFile(join(dir, 'sys/class/hwmon/hwmon1/in0_lcrit_alarm'), '0\n');
    assert.deepEqual(await codes(), ['under-voltage-occurred']);
    const h = await reader.read();
    assert.equal(h.throttling?.throttled, false, 'the driver tells nothing of throttling');
    reader.close();

    // a dip between two readings of the page: the alarm is watched, so it is not missed
    const watched = new SystemHealthReader(dir, dir, 20);
    try {
      assert.deepEqual((await watched.read()).warnings.map((w) => w.code).filter((c) => c !== 'disk-low'), []);
      await writeFile(join(dir, 'sys/class/hwmon/hwmon1/in0_lcrit_alarm'), '1\n');
      await waitFor('the alarm seen by the watch', () => watched.underVoltageWasSeen);
      await writeFile(join(dir, 'sys/class/hwmon/hwmon1/in0_lcrit_alarm'), '0\n');
      assert.deepEqual((await watched.read()).warnings.map((w) => w.code).filter((c) => c !== 'disk-low'), ['under-voltage-occurred']);
    } finally {
      watched.close();
    }
    // neither file (not a Pi): null, as before
    const { dir: plain, cleanup: done } = await tempDir();
    try {
      assert.equal((await new SystemHealthReader(plain, plain).read()).throttling, null);
    } finally {
      await done();
    }
  } finally {
    await cleanup();
  }
});

test('the card nearly full: under 500 MB, or under 5 % of it', () => {
  const base: Omit<SystemHealth, 'warnings'> = { cpuTemperature: null, throttling: null, load: null, cpus: null, memory: null, uptime: null, wifi: null, disk: null, firstBoot: null };
  const codes = (free: number, total: number) => warningsOf({ ...base, disk: { free, total } }).map((w) => w.code);
  assert.deepEqual(codes(DISK_LOW_BYTES - 1, 64e9), ['disk-low']);
  assert.deepEqual(codes(4e9, 64e9), []);
  assert.deepEqual(codes(3e9, 100e9), ['disk-low'], '3 % of a big disk');
  assert.deepEqual(warningsOf(base), []);
});

test('this machine, from the real /proc: load, memory, uptime and the data directory’s disk; no Pi flags here', async () => {
  const h = await new SystemHealthReader(process.cwd()).read();
  assert.equal(h.load?.length, 3);
  assert.ok(h.memory && h.memory.total > h.memory.available && h.memory.available > 0);
  assert.ok(h.uptime !== null && h.uptime > 0);
  assert.ok(h.cpus !== null && h.cpus >= 1);
  assert.ok(h.disk && h.disk.total >= h.disk.free && h.disk.free > 0);
  assert.ok(h.cpuTemperature === null || (h.cpuTemperature > 0 && h.cpuTemperature < 120));
});

test('GET /api/gantry/system for any signed-in role, 403 without a key; pushed as a plugin message; published over MQTT with diagnostic entities', async () => {
  const { dir, cleanup } = await tempDir();
  const broker = await Mosquitto.start(dir);
  const rig = await gantryRig({ serial: 'NONE', camera: 'none', mqtt: broker.url });
  const sub = mqtt.connect(broker.url, { reconnectPeriod: 200 });
  const last = new Map<string, string>();
  sub.on('message', (t, p) => last.set(t, p.toString()));
  let push: PushClient | undefined;
  try {
    await addUser(rig, 'viewer', 'viewer-password-1', 'readonly');
    const viewer = await login(rig, 'viewer', 'viewer-password-1');
    const key = await keyOf(rig, viewer);
    const res = await rig.api('/api/gantry/system', { key });
    assert.equal(res.status, 200);
    const h = (await res.json()) as SystemHealth;
    assert.ok(h.memory && h.memory.total > 0);
    assert.ok(Array.isArray(h.warnings));
    const anon = await rig.api('/api/gantry/system', { key: null });
    assert.equal(anon.status, 403);
    assert.ok(typeof ((await anon.json()) as { error: string }).error === 'string');

    // the page's socket, signed in by the login cookie: the health comes right after sign-in
    push = new PushClient(rig.gantry.url, { Cookie: viewer.cookie, Origin: rig.gantry.url });
    const msg = await waitFor('the health plugin message', () => push!.of('plugin').find((m) => (m.msg['plugin'] as { plugin: string }).plugin === HEALTH_PLUGIN));
    const data = (msg.msg['plugin'] as { data: SystemHealth }).data;
    assert.ok(data.memory && data.load);

    await waitFor('the subscriber connected', () => sub.connected);
    await new Promise<void>((r) => sub.subscribe(['gantry/bridge/system', 'homeassistant/device/#'], { qos: 1 }, () => r()));
    const system = await waitFor('the system topic', () => last.get('gantry/bridge/system'), 15_000);
    const s = JSON.parse(system) as Record<string, unknown>;
    assert.ok(typeof s['memoryAvailable'] === 'number' && typeof s['diskFree'] === 'number' && typeof s['load'] === 'number');
    assert.equal(s['underVoltage'], null, 'no firmware flags off a Pi: unknown, not OK');
    const config = await waitFor('the device config', () => [...last.entries()].find(([t]) => t.startsWith('homeassistant/device/'))?.[1]);
    const comps = (JSON.parse(config) as { components: Record<string, Record<string, unknown>> }).components;
    for (const k of ['cpu_temperature', 'disk_free', 'memory_available', 'under_voltage', 'throttled', 'wifi_signal', 'load']) {
      assert.equal(comps[k]?.['entity_category'], 'diagnostic', k);
      assert.equal(comps[k]?.['state_topic'], 'gantry/bridge/system', k);
    }
    assert.equal(comps['under_voltage']!['platform'], 'binary_sensor');
    assert.equal(comps['under_voltage']!['device_class'], 'problem');
  } finally {
    push?.close();
    sub.end(true);
    await rig.close();
    await broker.stop();
    await cleanup();
  }
});

test('MQTT on the image’s kernel (raspberrypi-hwmon only): under-voltage published, throttling unknown (null), not “no”', async () => {
  const { dir, cleanup } = await tempDir();
  const root = join(dir, 'root');
  await tree(root, {
    'sys/class/hwmon/hwmon0/name': 'rpi_volt\n',
    'sys/class/hwmon/hwmon0/in0_lcrit_alarm': '1\n',
    'proc/loadavg': '0.10 0.20 0.30 1/100 200\n',
    'proc/meminfo': 'MemTotal:         470000 kB\nMemAvailable:     300000 kB\n',
  });
  const broker = await Mosquitto.start(dir);
  const rig = await gantryRig({ serial: 'NONE', camera: 'none', mqtt: broker.url }, { systemRoot: root });
  const sub = mqtt.connect(broker.url, { reconnectPeriod: 200 });
  const last = new Map<string, string>();
  sub.on('message', (t, p) => last.set(t, p.toString()));
  try {
    await waitFor('the subscriber connected', () => sub.connected);
    await new Promise<void>((r) => sub.subscribe('gantry/bridge/system', { qos: 1 }, () => r()));
    const s = JSON.parse(await waitFor('the system topic', () => last.get('gantry/bridge/system'), 15_000)) as Record<string, unknown>;
    assert.equal(s['underVoltage'], true);
    assert.equal(s['underVoltageOccurred'], true);
    assert.equal(s['throttled'], null, 'the sensor tells nothing of throttling');
    const h = (await (await rig.api('/api/gantry/system')).json()) as SystemHealth;
    assert.equal(h.throttling?.source, 'hwmon');
    assert.ok(h.warnings.some((w) => w.code === 'under-voltage'), 'the page warns');
  } finally {
    sub.end(true);
    await rig.close();
    await broker.stop();
    await cleanup();
  }
});

test('discovery: the host entities follow the bridge alone and are diagnostic', () => {
  const d = deviceDiscovery({ prefix: 'homeassistant', base: 'gantry', hostId: 'abc', printerId: 'printer', name: 'P', version: '1', tools: 1, bed: true, chamber: false, camera: false, pageUrl: 'http://p.local/', hostEntities: true });
  const comps = (d.payload as { components: Record<string, { availability: unknown[]; value_template: string }> }).components;
  for (const k of ['under_voltage', 'throttled', 'memory_available', 'wifi_signal', 'load']) assert.equal(comps[k]!.availability.length, 1, k);
  assert.match(comps['under_voltage']!.value_template, /is none/);
});
