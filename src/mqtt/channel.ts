// One printer on the bridge's connection: its retained JSON state grouped by cadence (state, temperature, job), its
// availability (the printer link), its camera snapshots, its commands, and its Home Assistant device. Added and
// removed at run time with the printer; removing it takes the device out of Home Assistant and clears its state.
import type { Camera } from '../camera/camera.js';
import type { SettingsStore } from '../config/settings-store.js';
import type { MqttSettings } from '../config/settings.js';
import type { PrinterBus } from '../events.js';
import type { FileStorage } from '../files/storage.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import type { Logger } from '../log.js';
import type { Printer } from '../printer/printer.js';
import { stateFlags } from '../printer/state.js';
import { type CommandTarget, isEmergencyStop, runCommand, setField } from './commands.js';
import { InOrder } from './in-order.js';
import type { Operations } from '../ops/registry.js';
import type { OpFarm } from '../ops/operation.js';
import type { StatusSource } from '../status/types.js';
import { jobPayload } from './payloads.js';
import { type DiscoveryInput, configTopics, deviceDiscovery, entityDiscovery, topics } from './discovery.js';

/** What MQTT needs of a printer unit (src/printers/unit.ts). */
export interface MqttPrinter {
  readonly id: string;
  /** the default printer: its device also carries the host's entities */
  readonly isDefault: boolean;
  readonly printer: Printer;
  readonly jobs: JobRunner;
  readonly queue: PrintQueue;
  readonly camera: Camera;
  readonly settings: SettingsStore;
  readonly bus: PrinterBus;
  /** its status model: the job topic is a translation of it */
  readonly status: StatusSource;
  /** the camera's last settings change, applied (discovery says whether there is a camera) */
  readonly cameraApplied: Promise<void>;
  connectTarget(): { port: string; baudrate: number };
  fileKind(path: string): Promise<'file' | 'folder' | undefined>;
}

/** The bridge's one connection, as a channel uses it. */
export interface MqttLink {
  connected(): boolean;
  readonly settings: MqttSettings;
  /** retained, QoS 1; resolves once the broker has it. Dropped while disconnected: state topics are retained and the
   * next connect republishes everything */
  publish(topic: string, payload: string | Buffer | Record<string, unknown>, qos?: 0 | 1): Promise<void>;
  /** (un)subscribes now when connected; every connect subscribes each channel again */
  subscribe(filters: string[]): void;
  unsubscribe(filters: string[]): void;
}

export interface ChannelDeps {
  link: MqttLink;
  /** the operations commands run as */
  ops: Operations;
  /** the farm queue, for `cmd/farm.*` */
  farm: OpFarm;
  storage: FileStorage;
  log: Logger;
  /** this printer's device as Home Assistant should see it now */
  discovery: () => Omit<DiscoveryInput, 'prefix' | 'base'>;
}

export class PrinterChannel {
  private readonly offs: (() => void)[] = [];
  private input: DiscoveryInput;
  /** config topics this channel published discovery on (retained) */
  private readonly published = new Set<string>();
  private lastTemp = 0;
  private lastJob = 0;
  private tempTimer: NodeJS.Timeout | undefined;
  private jobTimer: NodeJS.Timeout | undefined;
  private jobSoonTimer: NodeJS.Timeout | undefined;
  private cameraTimer: NodeJS.Timeout | undefined;
  private snapshotting = false;
  private closed = false;
  private readonly commands: CommandTarget;
  /** commands one at a time, as they arrived */
  private readonly inOrder = new InOrder();

  constructor(
    readonly unit: MqttPrinter,
    private readonly d: ChannelDeps,
  ) {
    this.input = this.discoveryInput();
    this.commands = { ops: d.ops, printer: unit, farm: d.farm, role: () => d.link.settings.commandRole, log: d.log };
  }

  get id(): string {
    return this.unit.id;
  }

  private get topics() {
    return topics(this.input);
  }

  /** Follows the printer: its events, the job's cadence, camera snapshots. */
  attach(): void {
    const bus = this.unit.bus;
    this.offs.push(
      bus.on('printer.state', () => {
        this.publishState();
        this.publishJob();
      }),
      // an error that leaves the state as it was (a connect failing again after "Offline after error") is news too
      bus.on('printer.error', () => this.publishState()),
      bus.on('printer.temperature', () => this.publishTemperatureSoon()),
      // the status model hears these first (it subscribed when the printer was built): it has the layer already
      bus.on('job.selected', () => this.publishJob()),
      bus.on('job.deselected', () => this.publishJob()),
      bus.on('job.started', () => this.publishJob()),
      bus.on('job.layer', () => this.publishJobSoon()),
      bus.on('job.ended', () => this.publishJob()),
      bus.on('queue.changed', () => this.publishState()),
      // the printer waits for the user (M0, M600): an automation can notify someone
      bus.on('printer.prompt', () => this.publishState()),
    );
    this.jobTimer = setInterval(() => this.publishJob(), 5000);
    this.jobTimer.unref();
    const every = this.d.link.settings.cameraInterval;
    if (every > 0) {
      this.cameraTimer = setInterval(() => void this.publishCamera(), every * 1000);
      this.cameraTimer.unref();
    }
  }

  /** The connection is up (again): its command topics, its device, its state. */
  connected(): void {
    this.d.link.subscribe(this.commandFilters());
    this.republish();
  }

  /** Discovery and every state topic again (a connect, Home Assistant restarting). */
  republish(): void {
    this.publishDiscovery();
    this.publishState();
    this.publishTemperature();
    this.publishJob();
  }

  /** The camera, the printer profile or the name changed: tell Home Assistant which entities exist now. */
  refreshDiscovery(): void {
    if (JSON.stringify(this.discoveryInput()) !== JSON.stringify(this.input)) this.publishDiscovery();
  }

  /** Stops following the printer (the bridge stops, or the printer went). */
  detach(): void {
    this.closed = true;
    for (const off of this.offs.splice(0)) off();
    clearInterval(this.jobTimer);
    clearTimeout(this.tempTimer);
    clearTimeout(this.jobSoonTimer);
    clearInterval(this.cameraTimer);
  }

  /** The printer was removed: its commands no longer heard, nothing more published. Answers every retained topic it
   * has (its discovery in either mode, its state), for the bridge to clear: now, or at the next connection when the
   * broker is away (src/mqtt/removals.ts). */
  remove(): string[] {
    this.detach();
    this.d.link.unsubscribe(this.commandFilters());
    const t = this.topics;
    return [...new Set([...this.published, ...configTopics(this.input, 'device'), ...configTopics(this.input, 'entity'), t.availability, t.state, t.temperature, t.job, t.camera])];
  }

  /** Empty retained payloads on every config topic this channel published or would publish; how many. */
  async clearDiscovery(): Promise<number> {
    if (!this.d.link.connected()) return 0;
    const s = this.d.link.settings;
    const old = new Set([...this.published, ...configTopics(this.input, s.discovery)]);
    this.published.clear();
    await Promise.all([...old].map((topic) => this.d.link.publish(topic, '')));
    return old.size;
  }

  /** A command for this printer: `kind` is cmd or set. Commands run one at a time, in the order they arrived
   * (in-order.ts says why), except an emergency stop, which never waits behind another. Every operation answers at
   * once (a connect or a cancel goes on in the printer's state), so none holds the next back for long. */
  handle(kind: 'cmd' | 'set', field: string, text: string): Promise<void> {
    if (kind === 'cmd' && isEmergencyStop(field)) return runCommand(this.commands, field, text);
    return this.inOrder.run(() => (kind === 'cmd' ? runCommand(this.commands, field, text) : setField(this.commands, field, text)));
  }

  // ---- publishing ----------------------------------------------------------------------------------------

  private discoveryInput(): DiscoveryInput {
    const s = this.d.link.settings;
    return { ...this.d.discovery(), prefix: s.discoveryPrefix, base: s.baseTopic };
  }

  private commandFilters(): string[] {
    const t = this.topics;
    return [`${t.cmd}/+`, `${t.set}/+`];
  }

  private publish(topic: string, payload: string | Record<string, unknown>): void {
    if (!this.closed) void this.d.link.publish(topic, payload);
  }

  private publishDiscovery(): void {
    this.input = this.discoveryInput();
    if (!this.d.link.connected() || this.closed) return;
    const configs = this.d.link.settings.discovery === 'device' ? [deviceDiscovery(this.input)] : entityDiscovery(this.input);
    // one message per entity: an entity that went (the camera) is removed by clearing its own config
    const now = new Set(configs.map((c) => c.topic));
    for (const topic of this.published) if (!now.has(topic)) this.publish(topic, '');
    this.published.clear();
    for (const c of configs) {
      this.publish(c.topic, c.payload);
      this.published.add(c.topic);
    }
  }

  private publishState(): void {
    const { printer, queue } = this.unit;
    const t = this.topics;
    const flags = stateFlags(printer.state);
    this.publish(t.availability, flags.operational ? 'online' : 'offline');
    this.publish(t.state, {
      state: printer.state,
      text: printer.stateText,
      connected: flags.operational,
      printing: flags.printing,
      paused: flags.paused,
      error: flags.error,
      errorText: printer.error || null,
      bedClear: queue.data.bedClear,
      queued: queue.data.items.length,
      prompt: printer.prompt ? { text: printer.prompt.text, choices: printer.prompt.choices } : null,
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
    const t = this.unit.printer.temperatures;
    if (t.tools.size === 0 && !t.bed) return; // nothing read yet: an empty object would break HA's templates
    const body: Record<string, unknown> = {};
    for (const [i, h] of t.tools) body[`tool${i}`] = { actual: h.actual, target: h.target };
    if (t.bed) body['bed'] = { actual: t.bed.actual, target: t.bed.target };
    if (t.chamber) body['chamber'] = { actual: t.chamber.actual, target: t.chamber.target };
    this.publish(this.topics.temperature, body);
  }

  private publishJob(): void {
    clearTimeout(this.jobSoonTimer);
    this.jobSoonTimer = undefined;
    this.lastJob = Date.now();
    this.publish(this.topics.job, jobPayload(this.unit.status.snapshot(), Date.now()));
  }

  /** Layer changes come as fast as the file has them (a vase: every move): at most one message a second. */
  private publishJobSoon(): void {
    const wait = 1000 - (Date.now() - this.lastJob);
    if (wait <= 0) this.publishJob();
    else this.jobSoonTimer ??= setTimeout(() => this.publishJob(), wait);
  }

  /** A snapshot as raw JPEG bytes, retained so Home Assistant has a picture as soon as it subscribes. QoS 0:
   * an image that cannot go now is replaced by the next one, never queued. */
  private async publishCamera(): Promise<void> {
    if (!this.d.link.connected() || this.snapshotting) return;
    const frame = this.unit.camera.capture?.nextFrame(5_000);
    if (!frame) return;
    this.snapshotting = true;
    try {
      const jpeg = await frame;
      if (!this.closed) await this.d.link.publish(this.topics.camera, jpeg, 0);
    } catch (err) {
      this.d.log.warn(`MQTT camera snapshot: ${(err as Error).message}`);
    } finally {
      this.snapshotting = false;
    }
  }
}
