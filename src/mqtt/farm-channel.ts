// The farm queue on the bridge's connection: its items (each one's state, the printers its copies went to, why the
// rest wait) retained on <base>/bridge/farm/queue, and its commands on <base>/bridge/farm/cmd/<name> with a JSON
// object of parameters (add {"path", "copies", "constraints"}, remove/printed/requeue {"id"}, move {"id",
// "position"}), run as the farm's operations (src/ops/builtin/farm.ts) with the MQTT command role.
// Under bridge/ because the queue is the whole Gantry's, as the bridge's topics are: no printer id can take it.
import type { FarmItemView } from '../farm/farm-queue.js';
import type { Logger } from '../log.js';
import type { OpFarm, OpPrinter } from '../ops/operation.js';
import type { Operations } from '../ops/registry.js';
import type { MqttLink } from './channel.js';
import { type CommandTarget, runFarmCommand } from './commands.js';
import { farmTopics } from './discovery.js';
import { InOrder } from './in-order.js';

/** What MQTT needs of the farm queue. */
export interface MqttFarm extends OpFarm {
  items(): FarmItemView[];
  /** calls `listener` on every change of the queue; returns how to stop */
  onChange(listener: () => void): () => void;
}

export interface FarmChannelDeps {
  link: MqttLink;
  ops: Operations;
  farm: MqttFarm;
  /** the printer whose library the files are looked up in (the library is shared: the default printer) */
  target: () => OpPrinter | undefined;
  log: Logger;
}

export class FarmChannel {
  private off: (() => void) | undefined;
  private pending = false;
  /** commands one at a time, as they arrived */
  private readonly commands = new InOrder();

  constructor(private readonly d: FarmChannelDeps) {}

  private get topics() {
    return farmTopics(this.d.link.settings.baseTopic);
  }

  attach(): void {
    this.off = this.d.farm.onChange(() => this.publishSoon());
  }

  detach(): void {
    this.off?.();
    this.off = undefined;
  }

  /** The connection is up (again): the command topic, and the queue as it is. */
  connected(): void {
    this.d.link.subscribe([this.topics.command('+')]);
    void this.publish();
  }

  /** `<base>/bridge/farm/cmd/<name>`: the command's name, else undefined (not a farm command topic). */
  commandOf(topic: string): string | undefined {
    const prefix = this.topics.command('');
    const name = topic.startsWith(prefix) ? topic.slice(prefix.length) : '';
    return name && !name.includes('/') ? name : undefined;
  }

  /** Commands run one at a time, in the order they arrived (in-order.ts says why). */
  handle(name: string, payload: string): Promise<void> {
    return this.commands.run(() => this.run(name, payload));
  }

  private async run(name: string, payload: string): Promise<void> {
    const target = this.d.target();
    if (!target) return;
    const t: CommandTarget = { ops: this.d.ops, printer: target, farm: this.d.farm, role: () => this.d.link.settings.commandRole, log: this.d.log };
    await runFarmCommand(t, name, payload);
  }

  /** one publish for a burst of changes (a dispatch pass changes an item and its reason together) */
  private publishSoon(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      void this.publish();
    });
  }

  publish(): Promise<void> {
    if (!this.d.link.connected() || !this.off) return Promise.resolve();
    return this.d.link.publish(this.topics.queue, { items: this.d.farm.items() });
  }
}
