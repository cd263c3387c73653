// The MQTT bridge: retained JSON state grouped by cadence (state, temperature, job) per printer, a per-printer
// availability topic for the serial link, the appliance's last will, commands, and Home Assistant discovery.
// MQTT.js connect() keeps retrying while the broker is away; Gantry never waits for it.
import { redactUrl } from '../config/secrets.js';
import { createRequire } from 'node:module';
import type { IClientOptions, MqttClient } from 'mqtt';
import { type Permission, permissionsOf } from '../accounts/permissions.js';
import type { PrinterBus } from '../events.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import type { FileStorage } from '../files/storage.js';
import type { MqttSettings } from '../config/settings.js';
import type { Logger } from '../log.js';
import type { Printer } from '../printer/printer.js';
import { stateFlags } from '../printer/state.js';
import type { SystemHealth } from '../system/health.js';
import { type DiscoveryInput, configTopics, deviceDiscovery, entityDiscovery, topics } from './discovery.js';

export { deviceName, pageUrl } from './discovery.js';

// mqtt is CommonJS: require() it (no CJS export lexer for an ESM import), and only when a broker is configured:
// MQTT is off by default and the library is a few MB of a 512 MB board's memory
const loadMqtt = () => createRequire(import.meta.url)('mqtt') as { connect(url: string, opts: IClientOptions): MqttClient };


export interface BridgeDeps {
  printer: Printer;
  jobs: JobRunner;
  queue: PrintQueue;
  storage: FileStorage;
  bus: PrinterBus;
  log: Logger;
  version: string;
  /** the Pi's health (src/system/health.ts), published on the system topic for the diagnostic entities */
  systemHealth: () => Promise<SystemHealth>;
  discovery: () => Omit<DiscoveryInput, 'prefix' | 'base'>;
  /** a fresh camera frame, or undefined when there is no camera */
  snapshot: () => Promise<Buffer> | undefined;
  /** where the Connect command connects: the port and baud rate Gantry connects to at start */
  connectTarget: () => { port: string; baudrate: number };
  /** the MQTT settings as they are now: when the bridge stops for a change of broker, discovery prefix, base topic or
   * discovery mode, it first removes its discovery from Home Assistant (the new bridge publishes the new one) */
  settings: () => MqttSettings;
}

const COMMANDS: Record<string, Permission> = {
  pause: 'PRINT',
  resume: 'PRINT',
  cancel: 'PRINT',
  queue_next: 'PRINT',
  connect: 'CONNECTION',
  disconnect: 'CONNECTION',
  emergency_stop: 'CONTROL',
};

/** The broker a URL names, without its credentials (a new password is not a new broker). */
function broker(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

export class MqttBridge {
  private client: MqttClient | undefined;
  private readonly offs: (() => void)[] = [];
  private lastTemp = 0;
  private tempTimer: NodeJS.Timeout | undefined;
  private jobTimer: NodeJS.Timeout | undefined;
  private systemTimer: NodeJS.Timeout | undefined;
  private birthTimer: NodeJS.Timeout | undefined;
  private cameraTimer: NodeJS.Timeout | undefined;
  private input: DiscoveryInput;
  /** config topics this bridge published discovery on (retained) */
  private readonly published = new Set<string>();
  /** the running job's layer and the Z it was reached at (job.layer events); null between jobs */
  private layer: { layer: number; z: number } | null = null;
  private jobSoonTimer: NodeJS.Timeout | undefined;
  private lastJob = 0;

  constructor(
    private readonly s: MqttSettings,
    private readonly d: BridgeDeps,
  ) {
    this.input = { ...d.discovery(), prefix: s.discoveryPrefix, base: s.baseTopic };
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const t = topics(this.input);
    const opts: IClientOptions = {
      clientId: this.s.clientId || `gantry-${this.input.hostId.slice(0, 8)}`,
      clean: true,
      queueQoSZero: false,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      reconnectOnConnackError: true,
      will: { topic: t.bridge, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    if (this.s.username) opts.username = this.s.username;
    if (this.s.password) opts.password = this.s.password;
    const client = loadMqtt().connect(this.s.url, opts);
    this.client = client;
    client.on('connect', () => {
      this.d.log.info(`MQTT connected to ${redactUrl(this.s.url)}`);
      client.subscribe([`${t.cmd}/+`, `${t.set}/+`, `${this.s.discoveryPrefix}/status`], { qos: 1 });
      this.publish(t.bridge, 'online');
      this.publishDiscovery();
      this.publishAll();
    });
    client.on('error', (err) => this.d.log.warn(`MQTT: ${err.message}`));
    client.on('offline', () => this.d.log.warn(`MQTT broker ${redactUrl(this.s.url)} unreachable; retrying`));
    client.on('message', (topic, payload, packet) => void this.onMessage(topic, payload.toString(), packet.retain));

    const bus = this.d.bus;
    this.offs.push(
      bus.on('printer.state', () => {
        this.publishState();
        this.publishJob();
      }),
      // an error that leaves the state as it was (a connect failing again after "Offline after error") is news too
      bus.on('printer.error', () => this.publishState()),
      bus.on('printer.temperature', () => this.publishTemperatureSoon()),
      bus.on('job.started', () => {
        this.layer = null;
        this.publishJob();
      }),
      bus.on('job.layer', (e) => {
        this.layer = { layer: e.layer, z: e.z };
        this.publishJobSoon();
      }),
      bus.on('job.ended', () => {
        this.layer = null;
        this.publishJob();
      }),
      bus.on('queue.changed', () => this.publishState()),
      // the printer waits for the user (M0, M600): an automation can notify someone
      bus.on('printer.prompt', () => this.publishState()),
    );
    this.jobTimer = setInterval(() => this.publishJob(), 5000);
    this.systemTimer = setInterval(() => void this.publishSystem(), 60_000);
    this.jobTimer.unref();
    this.systemTimer.unref();
    if (this.s.cameraInterval > 0) {
      this.cameraTimer = setInterval(() => void this.publishCamera(), this.s.cameraInterval * 1000);
      this.cameraTimer.unref();
    }
  }

  /** The camera or the printer profile changed: tell Home Assistant which entities exist now. */
  refreshDiscovery(): void {
    const before = JSON.stringify(this.input);
    const next = { ...this.d.discovery(), prefix: this.s.discoveryPrefix, base: this.s.baseTopic };
    if (JSON.stringify(next) !== before) this.publishDiscovery();
  }

  /** Clean shutdown: say offline ourselves (the will is only for crashes), then disconnect. */
  async stop(): Promise<void> {
    for (const off of this.offs) off();
    clearInterval(this.jobTimer);
    clearInterval(this.systemTimer);
    clearTimeout(this.tempTimer);
    clearTimeout(this.birthTimer);
    clearTimeout(this.jobSoonTimer);
    clearInterval(this.cameraTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      // the discovery moves (another prefix, base topic, mode or broker): take the old one out first, or Home
      // Assistant sees every entity twice under the same unique_id
      const next = this.d.settings();
      const moved: string[] = (['discoveryPrefix', 'baseTopic', 'discovery'] as const).filter((k) => next[k] !== this.s[k]);
      if (broker(next.url) !== broker(this.s.url)) moved.push('url');
      if (next.url !== '' && moved.length > 0) await this.clearDiscovery(`its ${moved.join(', ')} changed`);
      await new Promise<void>((resolve) => client.publish(topics(this.input).bridge, 'offline', { qos: 1, retain: true }, () => resolve()));
    }
    this.client = undefined;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  /** Removes this printer from Home Assistant (empty retained discovery). */
  async removeDiscovery(): Promise<void> {
    await this.clearDiscovery('MQTT is switched off');
  }

  /** Empty retained payloads on every config topic this bridge published or would publish. */
  private async clearDiscovery(why: string): Promise<void> {
    const c = this.client;
    if (!c?.connected) return;
    const old = new Set([...this.published, ...configTopics(this.input, this.s.discovery)]);
    this.published.clear();
    await Promise.all([...old].map((topic) => new Promise<void>((resolve) => c.publish(topic, '', { qos: 1, retain: true }, () => resolve()))));
    this.d.log.info(`removed the printer from Home Assistant under ${this.s.discoveryPrefix}/ (${why}): ${old.size} empty retained config${old.size === 1 ? '' : 's'}`);
  }

  // ---- publishing ----------------------------------------------------------------------------------------

  private publish(topic: string, payload: string | Record<string, unknown>): void {
    const c = this.client;
    if (!c?.connected) return; // state topics are retained: the next connect republishes everything
    c.publish(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain: true });
  }

  private publishDiscovery(): void {
    this.input = { ...this.d.discovery(), prefix: this.s.discoveryPrefix, base: this.s.baseTopic };
    if (!this.client?.connected) return;
    const configs = this.s.discovery === 'device' ? [deviceDiscovery(this.input)] : entityDiscovery(this.input);
    // one message per entity: an entity that went (the camera) is removed by clearing its own config
    const now = new Set(configs.map((c) => c.topic));
    for (const topic of this.published) if (!now.has(topic)) this.publish(topic, '');
    this.published.clear();
    for (const c of configs) {
      this.publish(c.topic, c.payload);
      this.published.add(c.topic);
    }
  }

  private publishAll(): void {
    this.publishState();
    this.publishTemperature();
    this.publishJob();
    void this.publishSystem();
  }

  private publishState(): void {
    const p = this.d.printer;
    const t = topics(this.input);
    const flags = stateFlags(p.state);
    this.publish(t.availability, flags.operational ? 'online' : 'offline');
    this.publish(t.state, {
      state: p.state,
      text: p.stateText,
      connected: flags.operational,
      printing: flags.printing,
      paused: flags.paused,
      error: flags.error,
      errorText: p.error || null,
      bedClear: this.d.queue.data.bedClear,
      queued: this.d.queue.data.items.length,
      prompt: p.prompt ? { text: p.prompt.text, choices: p.prompt.choices } : null,
    });
  }

  private publishTemperatureSoon(): void {
    // at most once a second, whatever the firmware's report rate
    const wait = 1000 - (Date.now() - this.lastTemp);
    if (wait <= 0) this.publishTemperature();
    else if (!this.tempTimer) this.tempTimer = setTimeout(() => this.publishTemperature(), wait);
  }

  private publishTemperature(): void {
    this.tempTimer = undefined;
    this.lastTemp = Date.now();
    const t = this.d.printer.temperatures;
    if (t.tools.size === 0 && !t.bed) return; // nothing read yet: an empty object would break HA's templates
    const body: Record<string, unknown> = {};
    for (const [i, h] of t.tools) body[`tool${i}`] = { actual: h.actual, target: h.target };
    if (t.bed) body['bed'] = { actual: t.bed.actual, target: t.bed.target };
    if (t.chamber) body['chamber'] = { actual: t.chamber.actual, target: t.chamber.target };
    this.publish(topics(this.input).temperature, body);
  }

  private publishJob(): void {
    clearTimeout(this.jobSoonTimer);
    this.jobSoonTimer = undefined;
    this.lastJob = Date.now();
    const { jobs, storage, printer } = this.d;
    const { file } = jobs.current();
    const active = jobs.active;
    const analysis = file ? storage.metaFor(file.path)?.analysis : undefined;
    const progress = active ? jobs.progress(analysis?.estimatedPrintTime ?? null) : null;
    const left = progress?.printTimeLeft ?? null;
    const cp = active && file ? jobs.checkpoint : null;
    const at = !active ? null : (this.layer ?? (cp && cp.path === file?.path ? { layer: cp.layer, z: cp.z } : null));
    this.publish(topics(this.input).job, {
      file: active && file ? file.display : null,
      path: active && file ? file.path : null,
      progress: progress?.completion ?? null,
      printTime: progress?.printTime ?? null,
      printTimeLeft: left,
      // only a real estimate makes a finish time
      eta: active && left !== null && printer.state === 'PRINTING' ? new Date(Date.now() + left * 1000).toISOString() : null,
      // the job's own: the layer it is on and the Z it reached it at, from its layer changes (a bridge started
      // mid-print starts from the job's checkpoint); nothing between jobs
      z: at?.z ?? null,
      layer: at?.layer ?? null,
    });
  }

  /** Layer changes come as fast as the file has them (a vase: every move): at most one message a second. */
  private publishJobSoon(): void {
    const wait = 1000 - (Date.now() - this.lastJob);
    if (wait <= 0) this.publishJob();
    else this.jobSoonTimer ??= setTimeout(() => this.publishJob(), wait);
  }

  private publishing = false;

  /** A snapshot as raw JPEG bytes, retained so Home Assistant has a picture as soon as it subscribes. QoS 0:
   * an image that cannot go now is replaced by the next one, never queued. */
  private async publishCamera(): Promise<void> {
    const c = this.client;
    if (!c?.connected || this.publishing) return;
    const frame = this.d.snapshot();
    if (!frame) return;
    this.publishing = true;
    try {
      const jpeg = await frame;
      if (c.connected) c.publish(topics(this.input).camera, jpeg, { qos: 0, retain: true });
    } catch (err) {
      this.d.log.warn(`MQTT camera snapshot: ${(err as Error).message}`);
    } finally {
      this.publishing = false;
    }
  }

  private async publishSystem(): Promise<void> {
    const h = await this.d.systemHealth().catch((err: Error) => {
      this.d.log.warn(`MQTT: system health not read: ${err.message}`);
      return undefined;
    });
    if (!h) return;
    const t = h.throttling;
    this.publish(topics(this.input).system, {
      cpuTemperature: h.cpuTemperature,
      diskFree: h.disk?.free ?? null,
      diskTotal: h.disk?.total ?? null,
      memoryAvailable: h.memory?.available ?? null,
      memoryTotal: h.memory?.total ?? null,
      load: h.load?.[0] ?? null,
      uptime: h.uptime,
      wifiSignal: h.wifi?.signal ?? null,
      // null off a Raspberry Pi: Home Assistant then shows unknown, not a reassuring "OK"
      underVoltage: t ? t.underVoltage : null,
      underVoltageOccurred: t ? t.underVoltageOccurred : null,
      throttled: t ? t.throttled || t.frequencyCapped : null,
    });
  }

  // ---- commands ------------------------------------------------------------------------------------------

  private async onMessage(topic: string, text: string, retained: boolean): Promise<void> {
    const t = topics(this.input);
    if (topic === `${this.s.discoveryPrefix}/status`) {
      if (text === 'online') {
        // Home Assistant restarted: send discovery and state again, after a short random delay (HA's advice)
        clearTimeout(this.birthTimer);
        this.birthTimer = setTimeout(() => {
          this.publishDiscovery();
          this.publishAll();
        }, Math.random() * 2000);
      }
      return;
    }
    if (retained) {
      this.d.log.warn(`MQTT: ignoring a retained command on ${topic} (commands must not be retained)`);
      return;
    }
    // an empty payload is how a retained message is cleared; it reaches live subscribers and is not a command
    if (text === '') return;
    try {
      if (topic.startsWith(`${t.cmd}/`)) await this.command(topic.slice(t.cmd.length + 1));
      else if (topic.startsWith(`${t.set}/`)) await this.set(topic.slice(t.set.length + 1), text);
    } catch (err) {
      this.d.log.warn(`MQTT command ${topic} failed: ${(err as Error).message}`);
    }
  }

  private allowed(permission: Permission): boolean {
    if (permissionsOf([this.s.commandRole]).includes(permission)) return true;
    this.d.log.warn(`MQTT command refused: the MQTT role "${this.s.commandRole}" lacks ${permission}`);
    return false;
  }

  private async command(action: string): Promise<void> {
    const need = COMMANDS[action];
    if (!need) {
      this.d.log.warn(`MQTT: unknown command ${action}`);
      return;
    }
    if (!this.allowed(need)) return;
    const { printer, jobs, queue } = this.d;
    // idempotent: a QoS 1 message may arrive twice, and a second pause on a paused job changes nothing (the job's
    // state table says so); what the table refuses (nothing to cancel) is only logged
    switch (action) {
      case 'pause':
      case 'resume':
      case 'cancel':
        try {
          jobs.request(action);
        } catch (err) {
          this.d.log.info(`MQTT ${action}: ${(err as Error).message}`);
        }
        return;
      case 'queue_next':
        await queue.confirmBedClear();
        return;
      case 'connect': {
        // only from Offline, Error or Offline after error: a second delivery must not restart a connect under way
        if (!stateFlags(printer.state).closedOrError) return;
        const { port, baudrate } = this.d.connectTarget();
        this.d.log.info(`MQTT: connecting to ${port}`);
        // the failure is in the state topic too (printer.error), even when the state stayed "Offline after error"
        await printer.connect(port, baudrate).catch((err: Error) => this.d.log.warn(`MQTT connect to ${port} failed: ${err.message}`));
        return;
      }
      case 'disconnect':
        await printer.disconnect();
        return;
      case 'emergency_stop':
        if (printer.operational) printer.emergencyStop();
        return;
    }
  }

  private async set(field: string, text: string): Promise<void> {
    const m = /^(tool(\d+)|bed|chamber)_target$/.exec(field);
    if (!m) {
      this.d.log.warn(`MQTT: unknown setting ${field}`);
      return;
    }
    if (!this.allowed('CONTROL')) return;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value > 500) {
      this.d.log.warn(`MQTT: ${field} must be a temperature from 0 to 500, not ${JSON.stringify(text.slice(0, 20))}`);
      return;
    }
    if (!this.d.printer.operational) return;
    const cmd = m[1] === 'bed' ? `M140 S${value}` : m[1] === 'chamber' ? `M141 S${value}` : `M104 T${m[2]} S${value}`;
    this.d.printer.commands([cmd]);
  }
}

