// GET/POST /api/settings with the fields OctoPrint clients read (HA needs plugins.discovery.upnpUuid and
// webcam.*; Cura reads feature.sdSupport and gcodeAnalysis.runAt; FDM Monster writes appearance.name).
import { Hono } from 'hono/tiny';
import type { Settings } from '../../config/settings.js';
import { SECRET_MASK, maskUrlPassword, unmaskUrlPassword } from '../../config/secrets.js';
import { generateApiKey } from '../../accounts/api-keys.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, numberIn, parseBool, readJsonObject } from '../http.js';

function cameraUrl(action: 'stream' | 'snapshot', camera: Settings['camera'], basePath: string): string {
  return `${basePath}/webcam/?action=${action}${camera.lanOpen || !camera.token ? '' : `&token=${encodeURIComponent(camera.token)}`}`;
}

export function settingsView(s: Settings, basePath = ''): Record<string, unknown> {
  return {
    api: { allowCrossOrigin: false },
    appearance: { name: s.appearance.name, color: 'default', colorTransparent: false },
    feature: { sdSupport: false, temperatureGraph: true, gcodeViewer: false },
    gcodeAnalysis: { runAt: 'always' },
    serial: {
      port: s.serial.port === 'AUTO' ? null : s.serial.port,
      baudrate: s.serial.baudrate || null,
      autoconnect: s.serial.autoconnect,
      autoReconnect: s.serial.autoReconnect,
      alwaysChecksum: s.serial.alwaysChecksum,
      windowed: s.serial.windowed,
      streamLayer: s.serial.streamLayer,
      timeoutCommunication: s.serial.timeouts.communication / 1000,
    },
    temperature: {
      profiles: [
        { name: 'PLA', extruder: 210, bed: 60, chamber: null },
        { name: 'PETG', extruder: 240, bed: 80, chamber: null },
        { name: 'ABS', extruder: 250, bed: 100, chamber: null },
      ],
    },
    webcam: {
      webcamEnabled: s.camera.source !== 'none',
      timelapseEnabled: s.timelapse.type !== 'off',
      // Home Assistant and slicers fetch these without a key: unless the camera is open to the LAN, they carry the
      // camera-only token (it grants the stream and the snapshot, nothing else; a new one is one click away)
      streamUrl: cameraUrl('stream', s.camera, basePath),
      snapshotUrl: cameraUrl('snapshot', s.camera, basePath),
      flipH: s.camera.flipH,
      flipV: s.camera.flipV,
      rotate90: s.camera.rotate90,
      snapshotSslValidation: true,
      bitrate: '10000k',
      ffmpegPath: '/usr/bin/ffmpeg',
      streamRatio: '16:9',
    },
    scripts: { gcode: { afterPrintPaused: s.scripts.pause.join('\n'), afterPrintCancelled: s.scripts.cancel.join('\n') } },
    plugins: { discovery: { upnpUuid: s.server.uuid, publicHost: null, publicPort: null } },
    // secrets are never sent back, to anyone: the mask stands for them (and leaves them unchanged when saved)
    gantry: {
      mqtt: { ...s.mqtt, url: maskUrlPassword(s.mqtt.url), password: s.mqtt.password ? SECRET_MASK : '' },
      camera: { ...s.camera },
      timelapse: { ...s.timelapse },
      printerProfile: s.printerProfile,
      server: { allowedHosts: [...s.server.allowedHosts] },
    },
  };
}

export function settingsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { settings } = deps;
  // webcam.webcamEnabled tells whether a camera actually runs (--camera may override the saved setting)
  const view = () => {
    const v = settingsView(settings.data, deps.basePath);
    (v['webcam'] as Record<string, unknown>)['webcamEnabled'] = deps.camera() !== undefined;
    return v;
  };
  app.get('/api/settings', (c) => c.json(view()));
  app.get('/api/gantry/cameras', async (c) => c.json({ cameras: await deps.listCameras() }));
  app.post('/api/settings', async (c) => {
    const b = await readJsonObject(c);
    const errors: string[] = [];
    const apply: ((s: Settings) => void)[] = [];
    const obj = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
    const appearance = obj(b['appearance']);
    if (appearance?.['name'] !== undefined) {
      const name = appearance['name'];
      if (typeof name !== 'string' || name.length > 100) errors.push('appearance.name must be a string of at most 100 characters');
      else apply.push((s) => (s.appearance.name = name));
    }
    const serial = obj(b['serial']);
    if (serial) {
      if (serial['port'] !== undefined) {
        const port = serial['port'];
        if (port !== null && (typeof port !== 'string' || port.length > 200)) errors.push('serial.port must be a string');
        else apply.push((s) => (s.serial.port = (port as string | null) ?? 'AUTO'));
      }
      if (serial['baudrate'] !== undefined) {
        const baud = serial['baudrate'] === null ? 0 : Number(serial['baudrate']);
        if (!Number.isInteger(baud) || baud < 0) errors.push('serial.baudrate must be a number');
        else apply.push((s) => (s.serial.baudrate = baud));
      }
      for (const k of ['autoconnect', 'autoReconnect', 'alwaysChecksum', 'windowed', 'streamLayer'] as const) {
        if (serial[k] !== undefined) apply.push((s) => (s.serial[k] = parseBool(serial[k])));
      }
    }
    const scripts = obj(obj(b['scripts'])?.['gcode']);
    if (scripts) {
      for (const [key, field] of [['afterPrintPaused', 'pause'], ['afterPrintCancelled', 'cancel']] as const) {
        const v = scripts[key];
        if (v === undefined) continue;
        if (typeof v !== 'string' || v.length > 10_000) errors.push(`scripts.gcode.${key} must be text`);
        else apply.push((s) => (s.scripts[field] = v.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)));
      }
    }
    const webcam = obj(b['webcam']);
    for (const k of ['flipH', 'flipV', 'rotate90'] as const) {
      if (webcam?.[k] !== undefined) apply.push((s) => (s.camera[k] = parseBool(webcam[k])));
    }
    const camera = obj(obj(b['gantry'])?.['camera']);
    if (camera) {
      if (camera['source'] !== undefined) {
        const src = camera['source'];
        if (typeof src !== 'string' || !/^(none|auto|testsrc|rpicam(:\d+)?|\/dev\/[\w./:-]+)$/.test(src) || src.includes('..')) errors.push('gantry.camera.source must be none, auto, testsrc, rpicam[:N] or a /dev path');
        else apply.push((s) => (s.camera.source = src));
      }
      for (const [k, min, max] of [['width', 160, 4096], ['height', 120, 3072], ['fps', 1, 60]] as const) {
        if (camera[k] === undefined) continue;
        const v = numberIn(camera[k], min, max, true);
        if (v === undefined) errors.push(`gantry.camera.${k} must be a whole number from ${min} to ${max}`);
        else apply.push((s) => (s.camera[k] = v));
      }
      for (const k of ['lanOpen', 'flipH', 'flipV', 'rotate90'] as const) {
        if (camera[k] !== undefined) apply.push((s) => (s.camera[k] = parseBool(camera[k])));
      }
      // a new camera token: every camera link handed out so far stops working
      if (parseBool(camera['newToken'])) apply.push((s) => (s.camera.token = generateApiKey()));
    }
    const profile = obj(obj(b['gantry'])?.['printerProfile']);
    if (profile) {
      if (profile['name'] !== undefined) {
        const name = profile['name'];
        if (typeof name !== 'string' || !name.trim() || name.length > 100) errors.push('gantry.printerProfile.name must be a name of at most 100 characters');
        else apply.push((s) => (s.printerProfile.name = name.trim()));
      }
      const volume = obj(profile['volume']);
      for (const k of ['width', 'depth', 'height'] as const) {
        if (volume?.[k] === undefined) continue;
        const v = numberIn(volume[k], 10, 2000);
        if (v === undefined) errors.push(`gantry.printerProfile.volume.${k} must be 10 to 2000 mm`);
        else apply.push((s) => (s.printerProfile.volume[k] = v));
      }
      for (const k of ['heatedBed', 'heatedChamber'] as const) {
        if (profile[k] !== undefined) apply.push((s) => (s.printerProfile[k] = parseBool(profile[k])));
      }
      const extruder = obj(profile['extruder']);
      if (extruder?.['count'] !== undefined) {
        const n = numberIn(extruder['count'], 1, 8, true);
        if (n === undefined) errors.push('gantry.printerProfile.extruder.count must be 1 to 8');
        else apply.push((s) => (s.printerProfile.extruder.count = n));
      }
      if (extruder?.['nozzleDiameter'] !== undefined) {
        const d = numberIn(extruder['nozzleDiameter'], 0.1, 2);
        if (d === undefined) errors.push('gantry.printerProfile.extruder.nozzleDiameter must be 0.1 to 2 mm');
        else apply.push((s) => (s.printerProfile.extruder.nozzleDiameter = d));
      }
      if (profile['filamentType'] !== undefined) {
        const t = profile['filamentType'];
        if (typeof t !== 'string' || t.length > 40 || /[\0-\x1f]/.test(t)) errors.push('gantry.printerProfile.filamentType must be a filament type (PLA, PETG, …) of at most 40 characters, or "" for any');
        else apply.push((s) => (s.printerProfile.filamentType = t.trim()));
      }
    }
    const mqtt = obj(obj(b['gantry'])?.['mqtt']);
    if (mqtt) {
      for (const k of ['url', 'username', 'password', 'clientId', 'baseTopic', 'discoveryPrefix'] as const) {
        const v = mqtt[k];
        if (v === undefined) continue;
        if (typeof v !== 'string' || v.length > 500) errors.push(`gantry.mqtt.${k} must be a string`);
        else if (k === 'url' && v !== '' && !/^(mqtts?|wss?):\/\//.test(v)) errors.push('gantry.mqtt.url must start with mqtt://, mqtts://, ws:// or wss://');
        else if ((k === 'baseTopic' || k === 'discoveryPrefix') && !/^[\w/-]+$/.test(v)) errors.push(`gantry.mqtt.${k} may hold letters, digits, _, - and /`);
        else if (k === 'password' && v === SECRET_MASK) continue;
        else if (k === 'url') apply.push((s) => (s.mqtt.url = unmaskUrlPassword(v, s.mqtt.url)));
        else apply.push((s) => (s.mqtt[k] = v));
      }
      if (mqtt['cameraInterval'] !== undefined) {
        const v = numberIn(mqtt['cameraInterval'], 0, 86_400);
        if (v === undefined) errors.push('gantry.mqtt.cameraInterval must be seconds from 0 (off) to 86400');
        else apply.push((s) => (s.mqtt.cameraInterval = v));
      }
      if (mqtt['discovery'] !== undefined) {
        if (mqtt['discovery'] !== 'device' && mqtt['discovery'] !== 'entity') errors.push('gantry.mqtt.discovery must be "device" or "entity"');
        else apply.push((s) => (s.mqtt.discovery = mqtt['discovery'] as 'device' | 'entity'));
      }
    }
    const server = obj(obj(b['gantry'])?.['server']);
    if (server?.['allowedHosts'] !== undefined) {
      const hosts = server['allowedHosts'];
      if (!Array.isArray(hosts) || hosts.length > 50 || !hosts.every((h) => typeof h === 'string' && /^(\*\.)?[A-Za-z0-9.-]{1,253}$/.test(h))) {
        errors.push('gantry.server.allowedHosts must be a list of host names (or *.domain), at most 50');
      } else apply.push((s) => (s.server.allowedHosts = hosts as string[]));
    }
    if (errors.length) throw badRequest(errors.join('; '));
    if (apply.length) {
      await settings.update((s) => apply.forEach((f) => f(s)));
      deps.bus.emit('settings.updated', {});
    }
    return c.json(view());
  });
  return app;
}
