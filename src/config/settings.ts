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
  /** the filament loaded (PLA, PETG, …): the farm queue gives it only files sliced for that; '' = unknown, takes any */
  filamentType: string;
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
  /** seconds between camera snapshots on <base>/<printer>/camera; 0 = none */
  cameraInterval: number;
}

export interface TimelapseSettings {
  /** OctoPrint's names: off, zchange (a frame per layer), timed (a frame every `interval` seconds) */
  type: 'off' | 'zchange' | 'timed';
  interval: number;
  /** zchange: at most one frame per this many seconds (spiral vases change layer constantly) */
  minDelay: number;
  /** frames per second of the video; 0 = fit the video to `targetSeconds` (clamped to 5-60 fps) */
  fps: number;
  targetSeconds: number;
  /** seconds the last frame is held at the end */
  postRoll: number;
  renderAfterPrint: 'always' | 'success' | 'failure' | 'off';
  /** park the head for each frame (sharp frames, slower print): parkScript, wait, snapshot, back */
  park: boolean;
  parkScript: string[];
  /** after the frame: back to where the head was ({x} {y} {z}); the file's own modes are restored after it */
  returnScript: string[];
  /** x264 preset; auto = veryfast, or ultrafast (half the memory) on a board with 1 GB or less, such as a Pi Zero 2 W */
  preset: 'auto' | 'ultrafast' | 'superfast' | 'veryfast';
  threads: number;
  /** h264_v4l2m2m (Pi 4 / Zero 2 W) when it probes working; lower quality, far less CPU */
  hardwareEncoder: boolean;
  /** videos and unrendered frames are pruned, oldest first, above this many MB */
  budgetMB: number;
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
    /** bytes through serialport's stream layer instead of the device's descriptor: slower, for an adapter the
     * direct path does not suit (takes effect on the next connection) */
    streamLayer: boolean;
    timeouts: { communication: number; busy: number; connection: number; detection: number };
  };
  printerProfile: PrinterProfile;
  files: { maxUploadBytes: number };
  queue: { enabled: boolean; bedClearMode: 'confirm' | 'script'; bedClearScript: string[] };
  scripts: JobScripts;
  /** argv arrays, run without a shell. On the appliance systemctl asks logind and systemd over D-Bus, and polkit
   * (image/polkit/50-gantry.rules) lets the gantry user do exactly these: sudo cannot work under the unit's
   * NoNewPrivileges. restartCommand is used only under systemd (elsewhere a restart is a clean exit). */
  system: { rebootCommand: string[]; shutdownCommand: string[]; restartCommand: string[] };
  mqtt: MqttSettings;
  /** source: none | auto | testsrc | rpicam[:N] | a /dev/video path (MJPEG copied through, raw encoded) */
  camera: {
    source: string;
    width: number;
    height: number;
    fps: number;
    lanOpen: boolean;
    flipH: boolean;
    flipV: boolean;
    rotate90: boolean;
    /**
     * Grants the stream and the snapshot, nothing else: the camera URLs handed to clients that read the settings
     * with a key carry it, because Home Assistant and slicers fetch those URLs without a key. '' until first start.
     */
    token: string;
  };
  timelapse: TimelapseSettings;
  api: { /** let requests without a key read status (never control); off by default */ allowAnonymousStatus: boolean };
  server: {
    uuid: string;
    /** extra host names first-run setup answers to (IP literals, localhost, *.local and the machine's name always do) */
    allowedHosts: string[];
  };
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
      streamLayer: false,
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
      filamentType: '',
    },
    files: { maxUploadBytes: 1024 * 1024 * 1024 },
    queue: { enabled: true, bedClearMode: 'confirm', bedClearScript: ['G28 X Y', 'M84'] },
    scripts: defaultScripts(),
    camera: { source: 'auto', width: 640, height: 480, fps: 15, lanOpen: false, flipH: false, flipV: false, rotate90: false, token: '' },
    timelapse: {
      type: 'zchange',
      interval: 10,
      minDelay: 5,
      fps: 0,
      targetSeconds: 10,
      postRoll: 1,
      renderAfterPrint: 'always',
      park: false,
      parkScript: ['M83', 'G1 E-1 F2700', 'G91', 'G1 Z0.4 F600', 'G90', 'G1 X{park_x} Y{park_y} F9000'],
      returnScript: ['G90', 'G1 X{x} Y{y} F9000', 'G1 Z{z} F600', 'M83', 'G1 E1 F2700'],
      preset: 'auto',
      threads: 1,
      hardwareEncoder: false,
      budgetMB: 2048,
    },
    mqtt: { url: '', username: '', password: '', clientId: '', baseTopic: 'gantry', discoveryPrefix: 'homeassistant', discovery: 'device', commandRole: 'user', cameraInterval: 10 },
    system: {
      rebootCommand: ['/usr/bin/systemctl', 'reboot'],
      shutdownCommand: ['/usr/bin/systemctl', 'poweroff'],
      // --no-block: the restart stops this process (and systemctl with it, in the same cgroup) before it could answer
      restartCommand: ['/usr/bin/systemctl', 'restart', '--no-block', 'gantry.service'],
    },
    api: { allowAnonymousStatus: false },
    server: { uuid: randomUUID(), allowedHosts: [] },
  };
}

/** The sudo commands Gantry used to save as its defaults: sudo cannot raise privileges under the hardened unit
 * (NoNewPrivileges), so an install that still has them gets the polkit ones. Commands the owner changed stay. */
export function migrateSystemCommands(s: Settings): boolean {
  const d = defaultSettings().system;
  let changed = false;
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (same(s.system.rebootCommand, ['sudo', '-n', '/usr/bin/systemctl', 'reboot'])) {
    s.system.rebootCommand = d.rebootCommand;
    changed = true;
  }
  if (same(s.system.shutdownCommand, ['sudo', '-n', '/usr/bin/systemctl', 'poweroff'])) {
    s.system.shutdownCommand = d.shutdownCommand;
    changed = true;
  }
  return changed;
}
