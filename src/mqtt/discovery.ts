// Home Assistant MQTT discovery payloads (pure functions). Device-based discovery: one retained message on
// <prefix>/device/<id>/config with device, origin, availability and components; stable unique_ids, no object_id.

export interface DiscoveryInput {
  prefix: string;
  base: string;
  /** stable per install (the UPnP UUID without dashes) */
  hostId: string;
  printerId: string;
  name: string;
  version: string;
  tools: number;
  bed: boolean;
  chamber: boolean;
  /** a camera whose snapshots are published on the camera topic */
  camera: boolean;
}

export type Component = Record<string, unknown> & { platform: string; unique_id?: string };

export function deviceId(i: DiscoveryInput): string {
  return `gantry_${i.hostId}_${i.printerId}`.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export function topics(i: DiscoveryInput) {
  const p = `${i.base}/${i.printerId}`;
  return {
    bridge: `${i.base}/bridge/state`,
    availability: `${p}/availability`,
    state: `${p}/state`,
    temperature: `${p}/temperature`,
    job: `${p}/job`,
    system: `${i.base}/bridge/system`,
    cmd: `${p}/cmd`,
    set: `${p}/set`,
    camera: `${p}/camera`,
  };
}

export function deviceDiscovery(i: DiscoveryInput): { topic: string; payload: Record<string, unknown> } {
  const t = topics(i);
  const id = deviceId(i);
  const uid = (key: string) => `${id}_${key}`;
  const c: Record<string, Component> = {};
  const sensor = (key: string, name: string, topic: string, tpl: string, extra: Record<string, unknown> = {}) =>
    (c[key] = { platform: 'sensor', unique_id: uid(key), name, state_topic: topic, value_template: tpl, ...extra });
  const binary = (key: string, name: string, tpl: string, extra: Record<string, unknown> = {}) =>
    (c[key] = { platform: 'binary_sensor', unique_id: uid(key), name, state_topic: t.state, value_template: tpl, payload_on: 'ON', payload_off: 'OFF', ...extra });
  const button = (key: string, name: string, action: string, extra: Record<string, unknown> = {}) =>
    (c[key] = { platform: 'button', unique_id: uid(key), name, command_topic: `${t.cmd}/${action}`, payload_press: 'PRESS', ...extra });
  const temp = { device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' };
  const number = (key: string, name: string, heater: string, max: number) =>
    (c[key] = {
      platform: 'number',
      unique_id: uid(key),
      name,
      command_topic: `${t.set}/${heater}_target`,
      state_topic: t.temperature,
      value_template: `{{ value_json.${heater}.target | default(0, true) }}`,
      min: 0,
      max,
      step: 1,
      mode: 'box',
      device_class: 'temperature',
      unit_of_measurement: '°C',
    });

  sensor('state', 'State', t.state, '{{ value_json.text }}');
  // the link sensor must say OFF when the printer is away, not go unavailable with it: bridge availability only
  binary('connected', 'Connected', "{{ 'ON' if value_json.connected else 'OFF' }}", {
    device_class: 'connectivity',
    availability: [{ topic: t.bridge, payload_available: 'online', payload_not_available: 'offline' }],
  });
  binary('printing', 'Printing', "{{ 'ON' if value_json.printing else 'OFF' }}", { device_class: 'running' });
  binary('error', 'Error', "{{ 'ON' if value_json.error else 'OFF' }}", { device_class: 'problem' });
  for (let n = 0; n < i.tools; n++) {
    sensor(`tool${n}_temperature`, i.tools > 1 ? `Nozzle ${n} temperature` : 'Nozzle temperature', t.temperature, `{{ value_json.tool${n}.actual }}`, temp);
    number(`tool${n}_target`, i.tools > 1 ? `Nozzle ${n} target` : 'Nozzle target', `tool${n}`, 350);
  }
  if (i.bed) {
    sensor('bed_temperature', 'Bed temperature', t.temperature, '{{ value_json.bed.actual }}', temp);
    number('bed_target', 'Bed target', 'bed', 150);
  }
  if (i.chamber) {
    sensor('chamber_temperature', 'Chamber temperature', t.temperature, '{{ value_json.chamber.actual }}', temp);
    number('chamber_target', 'Chamber target', 'chamber', 90);
  }
  sensor('progress', 'Progress', t.job, '{{ value_json.progress | round(1) if value_json.progress is not none else None }}', { unit_of_measurement: '%', state_class: 'measurement' });
  sensor('print_time', 'Print time', t.job, '{{ value_json.printTime }}', { device_class: 'duration', unit_of_measurement: 's' });
  sensor('print_time_left', 'Print time left', t.job, '{{ value_json.printTimeLeft }}', { device_class: 'duration', unit_of_measurement: 's' });
  sensor('eta', 'Estimated finish', t.job, '{{ value_json.eta }}', { device_class: 'timestamp' });
  sensor('file', 'File', t.job, '{{ value_json.file }}');
  sensor('current_z', 'Current Z', t.job, '{{ value_json.z }}', { unit_of_measurement: 'mm', state_class: 'measurement' });
  sensor('layer', 'Layer', t.job, '{{ value_json.layer }}');
  button('pause', 'Pause', 'pause');
  button('resume', 'Resume', 'resume');
  button('cancel', 'Cancel', 'cancel');
  button('emergency_stop', 'Emergency stop', 'emergency_stop', { device_class: 'restart' });
  button('bed_clear', 'Bed cleared, print next', 'queue_next');
  // HA shows the latest image published on the topic (raw JPEG bytes)
  if (i.camera) c['camera'] = { platform: 'camera', unique_id: uid('camera'), name: 'Camera', topic: t.camera };
  sensor('cpu_temperature', 'Host CPU temperature', t.system, '{{ value_json.cpuTemperature }}', { ...temp, entity_category: 'diagnostic' });
  sensor('disk_free', 'Host disk free', t.system, '{{ (value_json.diskFree / 1048576) | round(0) }}', { unit_of_measurement: 'MB', entity_category: 'diagnostic' });

  return {
    topic: `${i.prefix}/device/${id}/config`,
    payload: {
      device: { identifiers: [id], name: i.name, manufacturer: 'Gantry', model: '3D printer', sw_version: i.version },
      origin: { name: 'Gantry', sw_version: i.version, support_url: 'https://github.com/' },
      availability: [
        { topic: t.bridge, payload_available: 'online', payload_not_available: 'offline' },
        { topic: t.availability, payload_available: 'online', payload_not_available: 'offline' },
      ],
      availability_mode: 'all',
      components: c,
    },
  };
}

/** The same entities as one retained message each (for Home Assistant before device discovery). */
export function entityDiscovery(i: DiscoveryInput): { topic: string; payload: Record<string, unknown> }[] {
  const d = deviceDiscovery(i).payload as { device: unknown; origin: unknown; availability: unknown; components: Record<string, Component> };
  return Object.entries(d.components).map(([key, comp]) => {
    const { platform, ...rest } = comp;
    return {
      topic: `${i.prefix}/${platform}/${deviceId(i)}/${key}/config`,
      payload: { ...rest, device: d.device, origin: d.origin, availability: d.availability, availability_mode: 'all' },
    };
  });
}
