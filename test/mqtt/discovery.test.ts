import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BRIDGE_ONLY, configTopics, deviceDiscovery, deviceName, entityDiscovery, pageUrl } from '../../src/mqtt/discovery.js';
import { RECORDED } from './single-printer-discovery.js';

const input = { prefix: 'homeassistant', base: 'gantry', hostId: 'abc123', printerId: 'printer', name: 'Workshop', version: '0.1.0', tools: 2, bed: true, chamber: false, camera: false, pageUrl: 'http://gantry.local:5000/', hostEntities: true };

const BRIDGE = { topic: 'gantry/bridge/state', payload_available: 'online', payload_not_available: 'offline' };
const LINK = { topic: 'gantry/printer/availability', payload_available: 'online', payload_not_available: 'offline' };

test('device discovery follows Home Assistant\'s rules: device, origin, components with platform and unique_id', () => {
  const d = deviceDiscovery(input);
  assert.equal(d.topic, 'homeassistant/device/gantry_abc123_printer/config');
  assert.match(d.topic.split('/')[2]!, /^[a-zA-Z0-9_-]+$/);
  const p = d.payload as { device: { identifiers: string[]; name: string; configuration_url: string }; origin: { name: string; support_url: string }; components: Record<string, Record<string, unknown>> };
  assert.ok(p.device.identifiers.length > 0 && p.device.name);
  assert.equal(p.device.configuration_url, 'http://gantry.local:5000/');
  assert.equal(p.origin.name, 'Gantry');
  assert.equal(p.origin.support_url, 'http://gantry.local:5000/', 'no project page yet: the install\'s own page');
  const ids = new Set<string>();
  for (const [key, c] of Object.entries(p.components)) {
    assert.ok(typeof c['platform'] === 'string', key);
    assert.ok(typeof c['unique_id'] === 'string', key);
    assert.ok(!ids.has(c['unique_id'] as string), `unique_id ${c['unique_id']} repeated`);
    ids.add(c['unique_id'] as string);
    assert.ok(!('object_id' in c), 'no deprecated object_id');
    assert.ok(Object.keys(c).some((k) => k === 'topic' || k.endsWith('_topic')), `${key} has a topic`);
  }
  for (const k of ['state', 'connected', 'printing', 'error', 'tool0_temperature', 'tool1_target', 'bed_temperature', 'bed_target', 'progress', 'print_time', 'print_time_left', 'eta', 'file', 'current_z', 'layer', 'pause', 'resume', 'cancel', 'emergency_stop', 'connect', 'cpu_temperature', 'disk_free']) {
    assert.ok(k in p.components, k);
  }
  assert.ok(!('chamber_temperature' in p.components), 'no chamber when the profile has none');
  assert.equal(p.components['bed_target']!['platform'], 'number');
  assert.equal(p.components['pause']!['platform'], 'button');
});

test('availability: none on the device (HA would merge it into every component); host and link entities on the bridge alone, the print ones on the bridge and the printer link', () => {
  const p = deviceDiscovery({ ...input, camera: true }).payload as Record<string, unknown> & { components: Record<string, Record<string, unknown>> };
  for (const k of ['availability', 'availability_topic', 'availability_mode', 'availability_template', 'payload_available', 'payload_not_available']) assert.ok(!(k in p), `no device-level ${k}`);
  for (const k of ['state', 'error', 'connected', 'connect', 'camera', 'cpu_temperature', 'disk_free']) {
    assert.ok(BRIDGE_ONLY.has(k), k);
    assert.deepEqual(p.components[k]!['availability'], [BRIDGE], k);
  }
  for (const k of ['printing', 'tool0_temperature', 'tool0_target', 'bed_temperature', 'progress', 'current_z', 'layer', 'pause', 'cancel', 'emergency_stop']) {
    assert.deepEqual(p.components[k]!['availability'], [BRIDGE, LINK], k);
    assert.equal(p.components[k]!['availability_mode'], 'all', k);
  }
  for (const [k, c] of Object.entries(p.components)) assert.ok(Array.isArray(c['availability']), `${k} lists its own availability`);
  // per entity: the same lists, never the device's
  for (const e of entityDiscovery({ ...input, camera: true })) {
    const key = e.topic.split('/').at(-2)!;
    assert.deepEqual(e.payload['availability'], p.components[key]!['availability'], key);
    assert.equal(e.payload['availability_mode'], p.components[key]!['availability_mode'], key);
  }
});

test('buttons: the emergency stop is not presented as a restart; a Connect button', () => {
  const p = deviceDiscovery(input).payload as { components: Record<string, Record<string, unknown>> };
  assert.equal(p.components['emergency_stop']!['name'], 'Emergency stop');
  assert.ok(!('device_class' in p.components['emergency_stop']!), 'no device_class (restart would show "Restart")');
  assert.equal(p.components['connect']!['platform'], 'button');
  assert.equal(p.components['connect']!['command_topic'], 'gantry/printer/cmd/connect');
  // numeric: between jobs the null shows as unknown, not as the text "None"
  assert.equal(p.components['layer']!['suggested_display_precision'], 0);
});

test('per-entity fallback: one topic per entity, each with the device and availability', () => {
  const all = entityDiscovery(input);
  assert.ok(all.length > 15);
  assert.deepEqual(configTopics(input, 'entity'), all.map((e) => e.topic));
  assert.deepEqual(configTopics(input, 'device'), [deviceDiscovery(input).topic]);
  for (const e of all) {
    assert.match(e.topic, /^homeassistant\/(sensor|binary_sensor|number|button|camera)\/gantry_abc123_printer\/[a-z0-9_]+\/config$/);
    assert.ok('device' in e.payload && 'unique_id' in e.payload && 'availability' in e.payload && !('platform' in e.payload));
  }
});

test('a camera adds an MQTT camera entity on <base>/<printer>/camera; none without one', () => {
  const without = deviceDiscovery(input).payload as { components: Record<string, Record<string, unknown>> };
  assert.ok(!('camera' in without.components));
  const withCam = deviceDiscovery({ ...input, camera: true }).payload as { components: Record<string, Record<string, unknown>> };
  assert.deepEqual(withCam.components['camera'], { platform: 'camera', unique_id: 'gantry_abc123_printer_camera', name: 'Camera', topic: 'gantry/printer/camera', availability: [BRIDGE] });
  const entity = entityDiscovery({ ...input, camera: true }).find((e) => e.topic === 'homeassistant/camera/gantry_abc123_printer/camera/config');
  assert.equal(entity?.payload['topic'], 'gantry/printer/camera');
});

test('the device name: the printer\'s name, or one from the host name while it is the default "Gantry"', () => {
  assert.equal(deviceName('Workshop MK4', 'octopi'), 'Workshop MK4');
  assert.equal(deviceName('Gantry', 'octopi'), 'Gantry octopi');
  assert.equal(deviceName('  ', 'pi.lan'), 'Gantry pi');
  assert.equal(pageUrl('0.0.0.0', 80, 'octopi'), 'http://octopi.local/');
  assert.equal(pageUrl('::', 5000, 'pi.example.org'), 'http://pi.example.org:5000/');
  assert.equal(pageUrl('192.168.1.20', 5000), 'http://192.168.1.20:5000/');
  assert.equal(pageUrl('fd00::2', 5000), 'http://[fd00::2]:5000/');
});

test('the default printer of a one-printer install publishes exactly what the single-printer bridge did (same device, unique_ids, topics)', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  for (const r of RECORDED) {
    const i = { ...r.input, hostEntities: true };
    const d = deviceDiscovery(i);
    assert.equal(d.topic, r.topic);
    if (r.payload !== undefined) assert.equal(JSON.stringify(d.payload), r.payload);
    else assert.equal(sha(JSON.stringify(d.payload)), r.payloadSha256);
    assert.equal(sha(entityDiscovery(i).map((e) => `${e.topic}\n${JSON.stringify(e.payload)}`).join('\n')), r.entitiesSha256);
  }
});

test('another printer: a device of its own (its id in every unique_id and topic), the shared last will, the host entities only on the default printer', () => {
  const def = deviceDiscovery(input).payload as { components: Record<string, Record<string, unknown>> };
  const two = deviceDiscovery({ ...input, printerId: 'two', name: 'Printer two', hostEntities: false });
  assert.equal(two.topic, 'homeassistant/device/gantry_abc123_two/config');
  const p = two.payload as { device: { identifiers: string[]; name: string }; components: Record<string, Record<string, unknown>> };
  assert.deepEqual([p.device.identifiers, p.device.name], [['gantry_abc123_two'], 'Printer two']);
  const host = ['cpu_temperature', 'disk_free', 'memory_available', 'load', 'wifi_signal', 'under_voltage', 'throttled'];
  for (const k of host) {
    assert.ok(k in def.components, `the default printer has ${k}`);
    assert.ok(!(k in p.components), `printer two has no ${k}`);
  }
  assert.deepEqual(Object.keys(p.components), Object.keys(def.components).filter((k) => !host.includes(k)));
  for (const [k, c] of Object.entries(p.components)) {
    assert.equal(c['unique_id'], `gantry_abc123_two_${k}`);
    for (const f of ['state_topic', 'command_topic', 'topic']) if (typeof c[f] === 'string') assert.match(c[f] as string, /^gantry\/two\//, `${k} ${f}`);
  }
  assert.deepEqual(p.components['state']!['availability'], [BRIDGE]);
  assert.deepEqual(p.components['tool0_temperature']!['availability'], [BRIDGE, { ...LINK, topic: 'gantry/two/availability' }]);
});
