// Persistent settings: what the user changes through the API or the page. Defaults here are the whole schema.
import { randomUUID } from 'node:crypto';
import { DEFAULT_PORT_GLOBS } from '../transport/discovery.js';
import { type JobScripts, defaultScripts } from '../jobs/scripts.js';
import type { Role } from '../accounts/permissions.js';

export interface PrinterProfile {
  id: string;
  name: string;
  model: string;
  color: string;
  volume: { width: number; depth: number; height: number; formFactor: 'rectangular' | 'circular'; origin: 'lowerleft' | 'center' };
  heatedBed: boolean;
  heatedChamber: boolean;
  axes: Record<'x' | 'y' | 'z' | 'e', { speed: number; inverted: boolean }>;
  extruder: { count: number; nozzleDiameter: number; sharedNozzle: boolean; defaultExtrusionLength: number; offsets: [number, number][] };
}

export interface MqttSettings {
  url: string;
  username: string;
  password: string;
  clientId: string;
  baseTopic: string;
  discoveryPrefix: string;
  /** 'device': one message per device (HA 2024.11+); 'entity': one per entity for older HA */
  discovery: 'device' | 'entity';
  /** the role whose permissions MQTT commands get (anyone who can publish to the broker acts with it) */
  commandRole: Role;
}

export interface Settings {
  appearance: { name: string };
  serial: {
    /** AUTO, VIRTUAL, a device path or a socket:// / rfc2217:// URL */
    port: string;
    /** 0 = detect */
    baudrate: number;
    autoconnect: boolean;
    autoReconnect: boolean;
    portGlobs: string[];
    alwaysChecksum: boolean;
    /** opt-in: several lines in flight when the firmware reports buffer room (ADVANCED_OK) */
    windowed: boolean;
    maxWindow: number;
    timeouts: { communication: number; busy: number; connection: number; detection: number };
  };
  printerProfile: PrinterProfile;
  files: { maxUploadBytes: number };
  queue: { enabled: boolean; bedClearMode: 'confirm' | 'script'; bedClearScript: string[] };
  scripts: JobScripts;
  system: { rebootCommand: string[]; shutdownCommand: string[] };
  mqtt: MqttSettings;
  /** source: none | testsrc | /dev/videoN (a V4L2 camera that sends MJPEG) */
  camera: { source: string; width: number; height: number; fps: number; lanOpen: boolean; flipH: boolean; flipV: boolean; rotate90: boolean };
  api: { /** let requests without a key read status (never control); off by default */ allowAnonymousStatus: boolean };
  server: { uuid: string };
}

export function defaultSettings(): Settings {
  return {
    appearance: { name: 'Gantry' },
    serial: {
      port: 'AUTO',
      baudrate: 0,
      autoconnect: true,
      autoReconnect: true,
      portGlobs: [...DEFAULT_PORT_GLOBS],
      alwaysChecksum: false,
      windowed: false,
      maxWindow: 4,
      timeouts: { communication: 10_000, busy: 5_000, connection: 5_000, detection: 2_500 },
    },
    printerProfile: {
      id: '_default',
      name: 'Default',
      model: 'Generic RepRap Printer',
      color: 'default',
      volume: { width: 220, depth: 220, height: 250, formFactor: 'rectangular', origin: 'lowerleft' },
      heatedBed: true,
      heatedChamber: false,
      axes: {
        x: { speed: 6000, inverted: false },
        y: { speed: 6000, inverted: false },
        z: { speed: 200, inverted: false },
        e: { speed: 300, inverted: false },
      },
      extruder: { count: 1, nozzleDiameter: 0.4, sharedNozzle: false, defaultExtrusionLength: 5, offsets: [[0, 0]] },
    },
    files: { maxUploadBytes: 1024 * 1024 * 1024 },
    queue: { enabled: true, bedClearMode: 'confirm', bedClearScript: ['G28 X Y', 'M84'] },
    scripts: defaultScripts(),
    camera: { source: 'none', width: 640, height: 480, fps: 15, lanOpen: false, flipH: false, flipV: false, rotate90: false },
    mqtt: { url: '', username: '', password: '', clientId: '', baseTopic: 'gantry', discoveryPrefix: 'homeassistant', discovery: 'device', commandRole: 'user' },
    system: { rebootCommand: ['sudo', '-n', '/usr/bin/systemctl', 'reboot'], shutdownCommand: ['sudo', '-n', '/usr/bin/systemctl', 'poweroff'] },
    api: { allowAnonymousStatus: false },
    server: { uuid: randomUUID() },
  };
}
