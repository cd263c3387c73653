// The MQTT bridge: retained JSON state grouped by cadence (state, temperature, job) per printer, a per-printer
// availability topic for the serial link, the appliance's last will, commands, and Home Assistant discovery.
// MQTT.js connect() keeps retrying while the broker is away; Gantry never waits for it.
import { redactUrl } from '../config/secrets.js';
import { readFile, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { IClientOptions, MqttClient } from 'mqtt';
import { type Permission, permissionsOf } from '../accounts/permissions.js';
import type { EventBus } from '../events.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import type { FileStorage } from '../files/storage.js';
import type { MqttSettings } from '../config/settings.js';
import type { Logger } from '../log.js';
import type { Printer } from '../printer/printer.js';
import { stateFlags } from '../printer/state.js';
import { type DiscoveryInput, deviceDiscovery, entityDiscovery, topics } from './discovery.js';

// mqtt is CommonJS: require() it (no CJS export lexer for an ESM import), and only when a broker is configured:
// MQTT is off by default and the library is a few MB of a 512 MB board's memory
const loadMqtt = () => createRequire(import.meta.url)('mqtt') as { connect(url: string, opts: IClientOptions): MqttClient };


export interface BridgeDeps {
  printer: Printer;
  jobs: JobRunner;
  queue: PrintQueue;
  storage: FileStorage;
  bus: EventBus;
  log: Logger;
  version: string;
  dataDir: string;
  discovery: () => Omit<DiscoveryInput, 'prefix' | 'base'>;
  /** a fresh camera frame, or undefined when there is no camera */
  snapshot: () => Promise<Buffer> | undefined;
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
      bus.on('printer.temperature', () => this.publishTemperatureSoon()),
      bus.on('job.started', () => this.publishJob()),
      bus.on('job.ended', () => this.publishJob()),
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
    clearInterval(this.cameraTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      await new Promise<void>((resolve) => client.publish(topics(this.input).bridge, 'offline', { qos: 1, retain: true }, () => resolve()));
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  /** Removes this printer from Home Assistant (empty retained discovery). */
  async removeDiscovery(): Promise<void> {
    const c = this.client;
    if (!c?.connected) return;
    const topicsToClear = this.s.discovery === 'device' ? [deviceDiscovery(this.input).topic] : entityDiscovery(this.input).map((e) => e.topic);
    await Promise.all(topicsToClear.map((topic) => new Promise<void>((resolve) => c.publish(topic, '', { qos: 1, retain: true }, () => resolve()))));
    this.d.log.info('removed the printer from Home Assistant (empty retained discovery)');
  }

  // ---- publishing ----------------------------------------------------------------------------------------

  private publish(topic: string, payload: string | Record<string, unknown>): void {
    const c = this.client;
    if (!c?.connected) return; // state topics are retained: the next connect republishes everything
    c.publish(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain: true });
  }

  private publishDiscovery(): void {
    this.input = { ...this.d.discovery(), prefix: this.s.discoveryPrefix, base: this.s.baseTopic };
    if (this.s.discovery === 'device') {
      const d = deviceDiscovery(this.input);
      this.publish(d.topic, d.payload);
    } else for (const e of entityDiscovery(this.input)) this.publish(e.topic, e.payload);
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
    const { jobs, storage, printer } = this.d;
    const { file } = jobs.current();
    const active = jobs.active;
    const analysis = file ? storage.metaFor(file.path)?.analysis : undefined;
    const progress = active ? jobs.progress(analysis?.estimatedPrintTime ?? null) : null;
    const left = progress?.printTimeLeft ?? null;
    this.publish(topics(this.input).job, {
      file: active && file ? file.display : null,
      path: active && file ? file.path : null,
      progress: progress?.completion ?? null,
      printTime: progress?.printTime ?? null,
      printTimeLeft: left,
      // only a real estimate makes a finish time
      eta: active && left !== null && printer.state === 'PRINTING' ? new Date(Date.now() + left * 1000).toISOString() : null,
      z: printer.position?.z ?? null,
      layer: jobs.checkpoint?.layer ?? null,
    });
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
    let cpuTemperature: number | null = null;
    try {
      cpuTemperature = Math.round(Number(await readFile('/sys/class/thermal/thermal_zone0/temp', 'utf8')) / 100) / 10;
    } catch {
      // no thermal zone (containers, some boards)
    }
    const fs = await statfs(this.d.dataDir).catch(() => undefined);
    this.publish(topics(this.input).system, { cpuTemperature, diskFree: fs ? fs.bavail * fs.bsize : null });
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
      case 'connect':
        if (!printer.operational) await printer.connect('AUTO', 0).catch(() => undefined);
        return;
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

