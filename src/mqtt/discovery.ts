// Home Assistant MQTT discovery payloads (pure functions). Device-based discovery: one retained message on
// <prefix>/device/<id>/config with device, origin and components; stable unique_ids, no object_id.
//
// Availability: Home Assistant merges a device-level `availability` into every component that has none of its own,
// and a component's own list replaces it (with `availability_mode` merged separately). So the device carries none, and
// each component lists exactly its own: entities that describe the host or the printer link (State, Error,
// Connected, Connect, the camera, the host sensors) follow the bridge alone (Gantry's last will), so they keep telling
// the truth ("Offline after error", Error on, Connected off) while the printer is away; entities that describe the
// print (temperatures, the job, print controls) also need the printer link.
import { hostname } from 'node:os';

/** Gantry's public project page, for Home Assistant's "support URL" of the discovery origin. Gantry has no public
 * page yet: until it has, this stays undefined and the install's own page (the one `configuration_url` opens, with
 * the version under Settings) is given instead. Set it here, in this one place, when there is one. */
export const PROJECT_URL: string | undefined = undefined;

export interface DiscoveryInput {
  prefix: string;
  base: string;
  /** stable per install (the UPnP UUID without dashes) */
  hostId: string;
  printerId: string;
  /** the device's name in Home Assistant: tells installs apart (see deviceName) */
  name: string;
  version: string;
  tools: number;
  bed: boolean;
  chamber: boolean;
  /** a camera whose snapshots are published on the camera topic */
  camera: boolean;
  /** Gantry's page: the device's "Visit" link in Home Assistant */
  pageUrl: string;
  /** this device also carries the host's diagnostic entities (CPU temperature, disk, memory, …): the default
   * printer's, where they always were (their unique_ids and history stay), so the host is in Home Assistant once */
  hostEntities: boolean;
}

/** The printer's name as the user set it, or, while it is still the default "Gantry", one made from the machine's
 * host name: two installs must not both show up as "Gantry" in Home Assistant. Renaming keeps the unique_ids (they
 * come from the install's id), so Home Assistant renames the device instead of making a new one. */
export function deviceName(configured: string, machine = hostname()): string {
  const name = configured.trim();
  if (name && name !== 'Gantry') return name;
  const host = machine.split('.')[0] || 'localhost';
  return `Gantry ${host}`;
}

/** The address Home Assistant (on another machine) opens Gantry's page at: the address Gantry listens on, or, when it
 * listens on every interface, the machine's mDNS name (<hostname>.local, which the appliance announces). */
export function pageUrl(listenHost: string, port: number, machine = hostname()): string {
  let host = listenHost;
  if (host === '' || host === '0.0.0.0' || host === '::') host = machine.includes('.') ? machine : `${machine}.local`;
  else if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`; // an IPv6 literal
  return `http://${host}${port === 80 ? '' : `:${port}`}/`;
}

export type Component = Record<string, unknown> & { platform: string; unique_id?: string };

const TEMPERATURE = { device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' };

export function deviceId(i: DiscoveryInput): string {
  return `gantry_${i.hostId}_${i.printerId}`.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** The whole Gantry's topics: its last will and the host's health. `bridge` is therefore no printer's id. */
export function bridgeTopics(base: string) {
  return { bridge: `${base}/bridge/state`, system: `${base}/bridge/system` };
}

/** The farm queue's topics, the whole Gantry's too: its items (retained) and its commands. */
export function farmTopics(base: string) {
  return { queue: `${base}/bridge/farm/queue`, command: (name: string) => `${base}/bridge/farm/cmd/${name}` };
}

/** One printer's topics (and the Gantry-wide ones its entities read). */
export function topics(i: Pick<DiscoveryInput, 'base' | 'printerId'>) {
  const p = `${i.base}/${i.printerId}`;
  const { bridge, system } = bridgeTopics(i.base);
  return {
    bridge,
    availability: `${p}/availability`,
    state: `${p}/state`,
    temperature: `${p}/temperature`,
    job: `${p}/job`,
    system,
    cmd: `${p}/cmd`,
    set: `${p}/set`,
    camera: `${p}/camera`,
  };
}

/** Components that describe the host or the printer link, not the print: available whenever the bridge is. */
export const BRIDGE_ONLY = new Set(['state', 'connected', 'error', 'connect', 'camera', 'cpu_temperature', 'disk_free', 'memory_available', 'load', 'wifi_signal', 'under_voltage', 'throttled']);

export function availabilityOf(i: DiscoveryInput, key: string): Record<string, unknown> {
  const t = topics(i);
  const bridge = { topic: t.bridge, payload_available: 'online', payload_not_available: 'offline' };
  if (BRIDGE_ONLY.has(key)) return { availability: [bridge] };
  return { availability: [bridge, { topic: t.availability, payload_available: 'online', payload_not_available: 'offline' }], availability_mode: 'all' };
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
  binary('connected', 'Connected', "{{ 'ON' if value_json.connected else 'OFF' }}", { device_class: 'connectivity' });
  binary('printing', 'Printing', "{{ 'ON' if value_json.printing else 'OFF' }}", { device_class: 'running' });
  // the message (why the printer stopped, why a connect failed) as the entity's attribute
  binary('error', 'Error', "{{ 'ON' if value_json.error else 'OFF' }}", {
    device_class: 'problem',
    json_attributes_topic: t.state,
    json_attributes_template: "{{ {'message': value_json.errorText} | tojson }}",
  });
  for (let n = 0; n < i.tools; n++) {
    sensor(`tool${n}_temperature`, i.tools > 1 ? `Nozzle ${n} temperature` : 'Nozzle temperature', t.temperature, `{{ value_json.tool${n}.actual }}`, TEMPERATURE);
    number(`tool${n}_target`, i.tools > 1 ? `Nozzle ${n} target` : 'Nozzle target', `tool${n}`, 350);
  }
  if (i.bed) {
    sensor('bed_temperature', 'Bed temperature', t.temperature, '{{ value_json.bed.actual }}', TEMPERATURE);
    number('bed_target', 'Bed target', 'bed', 150);
  }
  if (i.chamber) {
    sensor('chamber_temperature', 'Chamber temperature', t.temperature, '{{ value_json.chamber.actual }}', TEMPERATURE);
    number('chamber_target', 'Chamber target', 'chamber', 90);
  }
  sensor('progress', 'Progress', t.job, '{{ value_json.progress | round(1) if value_json.progress is not none else None }}', { unit_of_measurement: '%', state_class: 'measurement' });
  sensor('print_time', 'Print time', t.job, '{{ value_json.printTime }}', { device_class: 'duration', unit_of_measurement: 's' });
  sensor('print_time_left', 'Print time left', t.job, '{{ value_json.printTimeLeft }}', { device_class: 'duration', unit_of_measurement: 's' });
  sensor('eta', 'Estimated finish', t.job, '{{ value_json.eta }}', { device_class: 'timestamp' });
  sensor('file', 'File', t.job, '{{ value_json.file }}');
  // numeric (a unit, a display precision): between jobs the null shows as unknown, not as the text "None"
  sensor('current_z', 'Current Z', t.job, '{{ value_json.z }}', { unit_of_measurement: 'mm', state_class: 'measurement' });
  sensor('layer', 'Layer', t.job, '{{ value_json.layer }}', { suggested_display_precision: 0 });
  button('pause', 'Pause', 'pause');
  button('resume', 'Resume', 'resume');
  button('cancel', 'Cancel', 'cancel');
  // no device_class: "restart" would show it as a Restart button
  button('emergency_stop', 'Emergency stop', 'emergency_stop');
  button('bed_clear', 'Bed cleared, print next', 'queue_next');
  // available while the printer is away: after an emergency stop (and a reset) this is how to get it back
  button('connect', 'Connect', 'connect');
  // HA shows the latest image published on the topic (raw JPEG bytes)
  if (i.camera) c['camera'] = { platform: 'camera', unique_id: uid('camera'), name: 'Camera', topic: t.camera };
  if (i.hostEntities) hostSensors(t.system, uid, c);
  for (const [key, comp] of Object.entries(c)) Object.assign(comp, availabilityOf(i, key));

  return {
    topic: `${i.prefix}/device/${id}/config`,
    payload: {
      device: { identifiers: [id], name: i.name, manufacturer: 'Gantry', model: '3D printer', sw_version: i.version, configuration_url: i.pageUrl },
      origin: { name: 'Gantry', sw_version: i.version, support_url: PROJECT_URL ?? i.pageUrl },
      components: c,
    },
  };
}

/** The host's health (src/system/health.ts): diagnostic entities on the system topic; null (not on a Pi, no Wi-Fi)
 * is unknown, not zero. */
function hostSensors(system: string, uid: (key: string) => string, c: Record<string, Component>): void {
  const sensor = (key: string, name: string, tpl: string, extra: Record<string, unknown>) =>
    (c[key] = { platform: 'sensor', unique_id: uid(key), name, state_topic: system, value_template: tpl, ...extra });
  sensor('cpu_temperature', 'Host CPU temperature', '{{ value_json.cpuTemperature }}', { ...TEMPERATURE, entity_category: 'diagnostic' });
  const mb = (field: string) => `{{ (value_json.${field} / 1048576) | round(0) if value_json.${field} is not none else None }}`;
  const diagnostic = { entity_category: 'diagnostic' };
  sensor('disk_free', 'Host disk free', mb('diskFree'), { unit_of_measurement: 'MB', state_class: 'measurement', ...diagnostic });
  sensor('memory_available', 'Host memory available', mb('memoryAvailable'), { unit_of_measurement: 'MB', state_class: 'measurement', ...diagnostic });
  sensor('load', 'Host load', '{{ value_json.load }}', { state_class: 'measurement', suggested_display_precision: 2, ...diagnostic });
  sensor('wifi_signal', 'Host Wi-Fi signal', '{{ value_json.wifiSignal }}', { device_class: 'signal_strength', unit_of_measurement: 'dBm', state_class: 'measurement', ...diagnostic });
  // an empty result leaves the entity unknown (Home Assistant drops the message): no firmware flags off a Pi
  const flag = (field: string) => `{{ '' if value_json.${field} is none else ('ON' if value_json.${field} else 'OFF') }}`;
  for (const [key, name, field] of [['under_voltage', 'Host under-voltage', 'underVoltage'], ['throttled', 'Host throttled', 'throttled']] as const) {
    c[key] = { platform: 'binary_sensor', unique_id: uid(key), name, state_topic: system, value_template: flag(field), payload_on: 'ON', payload_off: 'OFF', device_class: 'problem', ...diagnostic };
  }
}

/** The same entities as one retained message each (for Home Assistant before device discovery), each with its own
 * availability. */
export function entityDiscovery(i: DiscoveryInput): { topic: string; payload: Record<string, unknown> }[] {
  const d = deviceDiscovery(i).payload as { device: unknown; origin: unknown; components: Record<string, Component> };
  return Object.entries(d.components).map(([key, comp]) => {
    const { platform, ...rest } = comp;
    return { topic: `${i.prefix}/${platform}/${deviceId(i)}/${key}/config`, payload: { ...rest, device: d.device, origin: d.origin } };
  });
}

/** Every retained config topic the discovery for `i` in `mode` publishes. */
export function configTopics(i: DiscoveryInput, mode: 'device' | 'entity'): string[] {
  return mode === 'device' ? [deviceDiscovery(i).topic] : entityDiscovery(i).map((e) => e.topic);
}
