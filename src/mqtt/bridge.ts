// The MQTT bridge: one connection for the whole Gantry, with what is Gantry-wide on it (the last will on
// <base>/bridge/state, the host's health on <base>/bridge/system, Home Assistant's birth message) and a channel per
// printer (src/mqtt/channel.ts) for the rest. MQTT.js connect() keeps retrying while the broker is away; Gantry never
// waits for it.
import { redactUrl } from '../config/secrets.js';
import { createRequire } from 'node:module';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { FileStorage } from '../files/storage.js';
import type { MqttSettings } from '../config/settings.js';
import type { Logger } from '../log.js';
import type { SystemHealth } from '../system/health.js';
import type { Operations } from '../ops/registry.js';
import { type MqttLink, type MqttPrinter, PrinterChannel } from './channel.js';
import { type DiscoveryInput, bridgeTopics, farmTopics } from './discovery.js';
import { FarmChannel, type MqttFarm } from './farm-channel.js';
import type { JsonStore } from '../store/json-store.js';
import type { MqttRemovalsFile } from './removals.js';

// mqtt is CommonJS: require() it (no CJS export lexer for an ESM import), and only when a broker is configured:
// MQTT is off by default and the library is a few MB of a 512 MB board's memory
const loadMqtt = () => createRequire(import.meta.url)('mqtt') as { connect(url: string, opts: IClientOptions): MqttClient };

export interface BridgeDeps {
  storage: FileStorage;
  /** the operations MQTT commands run as */
  ops: Operations;
  /** the farm queue, published and commanded under <base>/bridge/farm/ */
  farm: MqttFarm;
  /** removed printers whose retained topics wait for the broker (src/mqtt/removals.ts) */
  removals: JsonStore<MqttRemovalsFile>;
  log: Logger;
  /** stable per install (the UPnP UUID without dashes): the client id and every unique_id start from it */
  hostId: string;
  /** the Pi's health (src/system/health.ts), published on the system topic for the diagnostic entities */
  systemHealth: () => Promise<SystemHealth>;
  /** a printer's device as Home Assistant should see it now */
  discovery: (printer: MqttPrinter) => Omit<DiscoveryInput, 'prefix' | 'base'>;
  /** the MQTT settings as they are now: when the bridge stops for a change of broker, discovery prefix, base topic or
   * discovery mode, it first removes its discovery from Home Assistant (the new bridge publishes the new one) */
  settings: () => MqttSettings;
}

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
  private readonly channels = new Map<string, PrinterChannel>();
  private systemTimer: NodeJS.Timeout | undefined;
  private birthTimer: NodeJS.Timeout | undefined;
  private readonly link: MqttLink;
  private readonly farm: FarmChannel;

  constructor(
    private readonly s: MqttSettings,
    private readonly d: BridgeDeps,
  ) {
    this.link = {
      settings: s,
      connected: () => this.connected,
      publish: (topic, payload, qos) => this.publish(topic, payload, qos),
      subscribe: (filters) => {
        if (this.client?.connected) this.client.subscribe(filters, { qos: 1 });
      },
      unsubscribe: (filters) => {
        if (this.client?.connected) this.client.unsubscribe(filters);
      },
    };
    this.farm = new FarmChannel({ link: this.link, ops: d.ops, farm: d.farm, log: d.log, target: () => [...this.channels.values()].find((ch) => ch.unit.isDefault)?.unit });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** the printers on the bridge, by id */
  get printerIds(): string[] {
    return [...this.channels.keys()];
  }

  start(printers: MqttPrinter[]): void {
    void this.forgetRemovals(printers.map((p) => p.id));
    for (const p of printers) this.addChannel(p);
    this.farm.attach();
    const t = bridgeTopics(this.s.baseTopic);
    const opts: IClientOptions = {
      clientId: this.s.clientId || `gantry-${this.d.hostId.slice(0, 8)}`,
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
      client.subscribe([`${this.s.discoveryPrefix}/status`], { qos: 1 });
      void this.publish(t.bridge, 'online');
      // first: a printer removed while the broker was away goes out of Home Assistant now
      void this.clearRemoved();
      for (const ch of this.channels.values()) ch.connected();
      this.farm.connected();
      void this.publishSystem();
    });
    client.on('error', (err) => this.d.log.warn(`MQTT: ${err.message}`));
    client.on('offline', () => this.d.log.warn(`MQTT broker ${redactUrl(this.s.url)} unreachable; retrying`));
    client.on('message', (topic, payload, packet) => void this.onMessage(topic, payload.toString(), packet.retain));
    this.systemTimer = setInterval(() => void this.publishSystem(), 60_000);
    this.systemTimer.unref();
  }

  /** The printers there are now: a channel for each new one (a new device in Home Assistant), and each removed
   * one's device and state taken out. */
  async sync(printers: MqttPrinter[]): Promise<void> {
    const now = new Set(printers.map((p) => p.id));
    for (const [id, ch] of this.channels) {
      if (now.has(id)) continue;
      this.channels.delete(id);
      const topics = ch.remove();
      // remembered first (saved), cleared now if the broker is there, else at the next connection
      await this.d.removals
        .update((f) => (f.removed = [...f.removed.filter((r) => r.printerId !== id), { printerId: id, topics, at: Date.now() }]))
        .catch((err: Error) => this.d.log.warn(`MQTT: printer ${id}'s removal not remembered (${err.message}); cleared now only if the broker is there`));
      if (!this.connected) this.d.log.warn(`MQTT broker unreachable: printer ${id} leaves Home Assistant when it is back`);
      if (!this.d.removals.data.removed.some((r) => r.printerId === id)) await this.clearRetained(topics);
    }
    // a printer added again under an id removed while the broker was away: its new device is not to be cleared
    await this.forgetRemovals(printers.filter((p) => !this.channels.has(p.id)).map((p) => p.id));
    for (const p of printers) if (!this.channels.has(p.id)) this.addChannel(p).connected();
    await this.clearRemoved();
  }

  private clearing: Promise<void> | undefined;

  /** Empties the retained topics of every removed printer still remembered, each forgotten once the broker has it;
   * one pass at a time, taking the ones remembered meanwhile too. */
  private clearRemoved(): Promise<void> {
    if (this.clearing) return this.clearing;
    const run = this.clearRemovedNow().finally(() => {
      if (this.clearing === run) this.clearing = undefined;
    });
    this.clearing = run;
    return run;
  }

  private async clearRemovedNow(): Promise<void> {
    try {
      // each one once: an entry that stays (its forgetting failed) must not be taken again in this pass
      const seen = new Set<string>();
      for (let r = this.next(seen); r; r = this.next(seen)) {
        const done = r;
        seen.add(`${done.printerId}@${done.at}`);
        if (this.channels.has(done.printerId)) {
          // added again under the same id (while the broker was away, or MQTT off): the topics are its new
          // device's now, not to be emptied; only forgotten
          await this.forgetRemovals([done.printerId]);
          continue;
        }
        if (!(await this.clearRetained(done.topics))) return; // the broker went: the next connection goes on
        await this.d.removals.update((f) => (f.removed = f.removed.filter((x) => !(x.printerId === done.printerId && x.at === done.at))));
        this.d.log.info(`printer ${done.printerId} removed from Home Assistant: ${done.topics.length} retained topics emptied`);
      }
    } catch (err) {
      this.d.log.warn(`MQTT: clearing removed printers: ${(err as Error).message}`);
    }
  }

  private next(seen: Set<string>) {
    return this.d.removals.data.removed.find((r) => !seen.has(`${r.printerId}@${r.at}`));
  }

  private async forgetRemovals(ids: string[]): Promise<void> {
    if (!this.d.removals.data.removed.some((r) => ids.includes(r.printerId))) return;
    await this.d.removals.update((f) => (f.removed = f.removed.filter((r) => !ids.includes(r.printerId)))).catch((err: Error) => this.d.log.warn(`MQTT: ${err.message}`));
  }

  /** Empty retained payloads on `topics`; true once the broker has every one. */
  private clearRetained(topics: string[]): Promise<boolean> {
    const c = this.client;
    if (!c?.connected) return Promise.resolve(false);
    return Promise.all(topics.map((t) => new Promise<boolean>((resolve) => c.publish(t, '', { qos: 1, retain: true }, (err) => resolve(!err))))).then((ok) => ok.every(Boolean));
  }

  /** The cameras, printer profiles or names changed: each printer's device as it is now. */
  refreshDiscovery(): void {
    // read each printer's cameraApplied once the event has reached every listener: a printer added after the
    // bridge started hears it after the bridge does
    for (const ch of this.channels.values()) void Promise.resolve().then(() => ch.unit.cameraApplied).then(() => ch.refreshDiscovery());
  }

  /** Clean shutdown: say offline ourselves (the will is only for crashes), then disconnect. */
  async stop(): Promise<void> {
    clearInterval(this.systemTimer);
    clearTimeout(this.birthTimer);
    for (const ch of this.channels.values()) ch.detach();
    this.farm.detach();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      // the discovery moves (another prefix, base topic, mode or broker): take the old one out first, or Home
      // Assistant sees every entity twice under the same unique_id
      const next = this.d.settings();
      const moved: string[] = (['discoveryPrefix', 'baseTopic', 'discovery'] as const).filter((k) => next[k] !== this.s[k]);
      if (broker(next.url) !== broker(this.s.url)) moved.push('url');
      if (next.url !== '' && moved.length > 0) await this.clearDiscovery(`its ${moved.join(', ')} changed`);
      await this.publish(bridgeTopics(this.s.baseTopic).bridge, 'offline');
    }
    this.client = undefined;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  /** Removes every printer from Home Assistant (empty retained discovery). */
  async removeDiscovery(): Promise<void> {
    await this.clearDiscovery('MQTT is switched off');
  }

  private addChannel(printer: MqttPrinter): PrinterChannel {
    const ch = new PrinterChannel(printer, { link: this.link, ops: this.d.ops, farm: this.d.farm, storage: this.d.storage, log: this.d.log, discovery: () => this.d.discovery(printer) });
    this.channels.set(printer.id, ch);
    ch.attach();
    return ch;
  }

  private async clearDiscovery(why: string): Promise<void> {
    if (!this.connected) return;
    const counts = await Promise.all([...this.channels.values()].map((ch) => ch.clearDiscovery()));
    // the farm queue, retained under the base topic too: a subscriber must not keep reading a queue that is gone
    await this.clearRetained([farmTopics(this.s.baseTopic).queue]);
    const n = counts.reduce((a, b) => a + b, 0);
    this.d.log.info(`removed ${counts.length === 1 ? 'the printer' : `${counts.length} printers`} from Home Assistant under ${this.s.discoveryPrefix}/ (${why}): ${n} empty retained config${n === 1 ? '' : 's'}`);
  }

  private publish(topic: string, payload: string | Buffer | Record<string, unknown>, qos: 0 | 1 = 1): Promise<void> {
    const c = this.client;
    if (!c?.connected) return Promise.resolve(); // state topics are retained: the next connect republishes everything
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    return new Promise<void>((resolve) => c.publish(topic, body, { qos, retain: true }, () => resolve()));
  }

  private async publishSystem(): Promise<void> {
    const h = await this.d.systemHealth().catch((err: Error) => {
      this.d.log.warn(`MQTT: system health not read: ${err.message}`);
      return undefined;
    });
    if (!h) return;
    const t = h.throttling;
    await this.publish(bridgeTopics(this.s.baseTopic).system, {
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
      // the mainline kernel's sensor tells under-voltage alone: throttling is unknown there, not "no"
      throttled: t && t.source === 'firmware' ? t.throttled || t.frequencyCapped : null,
    });
  }

  // ---- messages ------------------------------------------------------------------------------------------

  private async onMessage(topic: string, text: string, retained: boolean): Promise<void> {
    if (topic === `${this.s.discoveryPrefix}/status`) {
      if (text === 'online') {
        // Home Assistant restarted: send discovery and state again, after a short random delay (HA's advice)
        clearTimeout(this.birthTimer);
        this.birthTimer = setTimeout(() => {
          for (const ch of this.channels.values()) ch.republish();
          void this.publishSystem();
        }, Math.random() * 2000);
      }
      return;
    }
    const farmCommand = this.farm.commandOf(topic);
    if (farmCommand !== undefined) {
      if (retained) this.d.log.warn(`MQTT: ignoring a retained command on ${topic} (commands must not be retained)`);
      else if (text !== '') await this.farm.handle(farmCommand, text).catch((err: Error) => this.d.log.warn(`MQTT command ${topic} failed: ${err.message}`));
      return;
    }
    // <base>/<printer>/(cmd|set)/<field>: the base topic may hold slashes, a printer id never does
    const [id, kind, field, ...more] = topic.startsWith(`${this.s.baseTopic}/`) ? topic.slice(this.s.baseTopic.length + 1).split('/') : [];
    const ch = id === undefined ? undefined : this.channels.get(id);
    if (!ch || (kind !== 'cmd' && kind !== 'set') || !field || more.length > 0) return;
    if (retained) {
      this.d.log.warn(`MQTT: ignoring a retained command on ${topic} (commands must not be retained)`);
      return;
    }
    // an empty payload is how a retained message is cleared; it reaches live subscribers and is not a command
    if (text === '') return;
    try {
      await ch.handle(kind, field, text);
    } catch (err) {
      this.d.log.warn(`MQTT command ${topic} failed: ${(err as Error).message}`);
    }
  }
}
