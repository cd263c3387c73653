// MQTT for the whole Gantry: off until a broker URL is configured, one bridge (one connection) while it is, restarted
// when the MQTT settings change, and following the printers as they are added and removed. Changes are applied one
// at a time: two quick settings saves must not each start a bridge and leave one running.
import type { MqttSettings, Settings } from '../config/settings.js';
import type { EventBus } from '../events.js';
import type { FileStorage } from '../files/storage.js';
import type { Logger } from '../log.js';
import type { JsonStore } from '../store/json-store.js';
import type { SystemHealth } from '../system/health.js';
import type { MqttBridge } from './bridge.js';
import type { MqttPrinter } from './channel.js';
import type { Operations } from '../ops/registry.js';
import { type DiscoveryInput, deviceName } from './discovery.js';
import type { MqttFarm } from './farm-channel.js';
import type { MqttRemovalsFile } from './removals.js';

export interface MqttServiceDeps {
  /** the printers there are now */
  printers: { all(): MqttPrinter[] };
  bus: EventBus;
  /** the Gantry-wide settings (MQTT, the install's id) */
  settings: JsonStore<Settings>;
  /** `gantry serve --mqtt URL`: the broker for this run, over the saved one */
  url: string | undefined;
  storage: FileStorage;
  /** the operations MQTT commands run as */
  ops: Operations;
  /** the farm queue, on <base>/bridge/farm/ */
  farm: MqttFarm;
  /** removed printers whose Home Assistant devices wait for the broker */
  removals: JsonStore<MqttRemovalsFile>;
  log: Logger;
  version: string;
  systemHealth: () => Promise<SystemHealth>;
  /** Gantry's page as Home Assistant (on another machine) reaches it */
  pageUrl: () => string;
}

export class MqttService {
  private bridge: MqttBridge | undefined;
  private applied = Promise.resolve();
  private readonly offs: (() => void)[] = [];
  private config = '';

  constructor(private readonly d: MqttServiceDeps) {}

  /** the running bridge, if a broker is configured */
  get current(): MqttBridge | undefined {
    return this.bridge;
  }

  /** Resolves once every change so far (settings, printers) has been applied. */
  settled(): Promise<void> {
    return this.applied;
  }

  async start(): Promise<void> {
    const { bus, settings } = this.d;
    this.config = JSON.stringify(settings.data.mqtt);
    this.offs.push(
      bus.on('settings.updated', () => {
        // a printer re-applies its camera on the same event (the bridge waits for it): discovery says whether it
        // has one; a rename or another profile shows too
        this.bridge?.refreshDiscovery();
        if (JSON.stringify(settings.data.mqtt) === this.config) return;
        this.config = JSON.stringify(settings.data.mqtt);
        // MQTT switched off: take the printers out of Home Assistant too (empty retained discovery)
        void this.apply(() => this.restart(settings.data.mqtt.url === ''));
      }),
      bus.on('printers.changed', () => void this.apply(async () => (this.bridge ? this.bridge.sync(this.d.printers.all()) : this.forgetReAdded()))),
    );
    await this.apply(() => this.restart(false));
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    await this.applied;
    await this.bridge?.stop();
    this.bridge = undefined;
  }

  private apply(change: () => Promise<void>): Promise<void> {
    this.applied = this.applied.then(change).catch((err: Error) => this.d.log.warn(`mqtt: ${err.message}`));
    return this.applied;
  }

  /** MQTT off: removals wait for the next broker, but not those of printers that are there again (their topics are
   * their new devices', for that broker to keep). */
  private async forgetReAdded(): Promise<void> {
    const ids = new Set(this.d.printers.all().map((p) => p.id));
    if (!this.d.removals.data.removed.some((r) => ids.has(r.printerId))) return;
    await this.d.removals.update((f) => (f.removed = f.removed.filter((r) => !ids.has(r.printerId))));
  }

  private mqttSettings(): MqttSettings {
    return { ...this.d.settings.data.mqtt, ...(this.d.url !== undefined ? { url: this.d.url } : {}) };
  }

  private async restart(removeFromHomeAssistant: boolean): Promise<void> {
    if (removeFromHomeAssistant) await this.bridge?.removeDiscovery();
    await this.bridge?.stop();
    this.bridge = undefined;
    const m = this.mqttSettings();
    if (!m.url) return;
    // loaded only when a broker is configured: most installs never pay for it
    const { MqttBridge } = await import('./bridge.js');
    const hostId = this.d.settings.data.server.uuid.replace(/-/g, '');
    this.bridge = new MqttBridge(m, {
      storage: this.d.storage,
      ops: this.d.ops,
      farm: this.d.farm,
      removals: this.d.removals,
      log: this.d.log,
      hostId,
      systemHealth: this.d.systemHealth,
      discovery: (p) => this.discovery(p, hostId),
      settings: () => this.mqttSettings(),
    });
    this.bridge.start(this.d.printers.all());
  }

  private discovery(p: MqttPrinter, hostId: string): Omit<DiscoveryInput, 'prefix' | 'base'> {
    const s = p.settings.data;
    const page = this.d.pageUrl();
    return {
      hostId,
      printerId: p.id,
      // the printer's name, or one from the host name while it is the default: not "Gantry" for every install
      name: deviceName(s.appearance.name),
      version: this.d.version,
      tools: s.printerProfile.extruder.count,
      bed: s.printerProfile.heatedBed,
      chamber: s.printerProfile.heatedChamber,
      camera: p.camera.capture !== undefined && this.d.settings.data.mqtt.cameraInterval > 0,
      // a printer's own base URL opens the page showing that printer
      pageUrl: p.isDefault ? page : `${page}printers/${encodeURIComponent(p.id)}/`,
      // the host's entities once, on the default printer's device, where they always were
      hostEntities: p.isDefault,
    };
  }
}
