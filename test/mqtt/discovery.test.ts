import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceDiscovery, entityDiscovery } from '../../src/mqtt/discovery.js';

const input = { prefix: 'homeassistant', base: 'gantry', hostId: 'abc123', printerId: 'printer', name: 'Workshop', version: '0.1.0', tools: 2, bed: true, chamber: false, camera: false };

test('device discovery follows Home Assistant\'s rules: device, origin, availability, components with platform and unique_id', () => {
  const d = deviceDiscovery(input);
  assert.equal(d.topic, 'homeassistant/device/gantry_abc123_printer/config');
  assert.match(d.topic.split('/')[2]!, /^[a-zA-Z0-9_-]+$/);
  const p = d.payload as { device: { identifiers: string[]; name: string }; origin: { name: string }; availability: unknown[]; components: Record<string, Record<string, unknown>> };
  assert.ok(p.device.identifiers.length > 0 && p.device.name);
  assert.equal(p.origin.name, 'Gantry');
  assert.equal(p.availability.length, 2);
  const ids = new Set<string>();
  for (const [key, c] of Object.entries(p.components)) {
    assert.ok(typeof c['platform'] === 'string', key);
    assert.ok(typeof c['unique_id'] === 'string', key);
    assert.ok(!ids.has(c['unique_id'] as string), `unique_id ${c['unique_id']} repeated`);
    ids.add(c['unique_id'] as string);
    assert.ok(!('object_id' in c), 'no deprecated object_id');
    assert.ok(Object.keys(c).some((k) => k === 'topic' || k.endsWith('_topic')), `${key} has a topic`);
  }
  for (const k of ['state', 'connected', 'printing', 'error', 'tool0_temperature', 'tool1_target', 'bed_temperature', 'bed_target', 'progress', 'print_time', 'print_time_left', 'eta', 'file', 'current_z', 'layer', 'pause', 'resume', 'cancel', 'emergency_stop', 'cpu_temperature', 'disk_free']) {
    assert.ok(k in p.components, k);
  }
  assert.ok(!('chamber_temperature' in p.components), 'no chamber when the profile has none');
  assert.equal(p.components['bed_target']!['platform'], 'number');
  assert.equal(p.components['pause']!['platform'], 'button');
});

test('per-entity fallback: one topic per entity, each with the device and availability', () => {
  const all = entityDiscovery(input);
  assert.ok(all.length > 15);
  for (const e of all) {
    assert.match(e.topic, /^homeassistant\/(sensor|binary_sensor|number|button|camera)\/gantry_abc123_printer\/[a-z0-9_]+\/config$/);
    assert.ok('device' in e.payload && 'unique_id' in e.payload && !('platform' in e.payload));
  }
});

test('a camera adds an MQTT camera entity on <base>/<printer>/camera; none without one', () => {
  const without = deviceDiscovery(input).payload as { components: Record<string, Record<string, unknown>> };
  assert.ok(!('camera' in without.components));
  const withCam = deviceDiscovery({ ...input, camera: true }).payload as { components: Record<string, Record<string, unknown>> };
  assert.deepEqual(withCam.components['camera'], { platform: 'camera', unique_id: 'gantry_abc123_printer_camera', name: 'Camera', topic: 'gantry/printer/camera' });
  const entity = entityDiscovery({ ...input, camera: true }).find((e) => e.topic === 'homeassistant/camera/gantry_abc123_printer/camera/config');
  assert.equal(entity?.payload['topic'], 'gantry/printer/camera');
});
