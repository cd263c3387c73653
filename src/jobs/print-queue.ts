// The print queue: persistent, ordered, copies per item. Between prints a "bed clear" gate holds the next job
// until the user confirms the bed is empty (API) or, if configured, a bed-clear script has run.
import { randomUUID } from 'node:crypto';
import type { PrinterBus } from '../events.js';
import type { Logger } from '../log.js';
import type { Printer } from '../printer/printer.js';
import { ServiceError } from '../service-error.js';
import type { JsonStore } from '../store/json-store.js';
import type { JobRunner } from './job-runner.js';
import { moveItem } from './queue-order.js';

export interface QueueItem {
  id: string;
  path: string;
  copies: number;
  printed: number;
  addedBy: string | null;
  added: number;
}

export interface QueueFile {
  items: QueueItem[];
  /** true once the user (or the bed-clear script) said the bed is empty; false after every print */
  bedClear: boolean;
}

export function defaultQueue(): QueueFile {
  return { items: [], bedClear: true };
}

export interface QueueSettings {
  /** 'confirm': wait for the user; 'script': run the bed-clear script and go on */
  bedClearMode: 'confirm' | 'script';
  bedClearScript: string[];
}

export class PrintQueue {
  private starting = false;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly store: JsonStore<QueueFile>,
    private readonly jobs: JobRunner,
    private readonly printer: Printer,
    private readonly bus: PrinterBus,
    private readonly settings: () => QueueSettings,
    private readonly log: Logger,
  ) {
    // a save that fails (disk full) rejects: say so in the log rather than let it end the process unhandled
    const logFailure = (what: string) => (err: Error) => log.warn(`queue: ${what}: ${err.message}`);
    this.offs.push(
      // any print, queued or not, leaves something on the bed
      bus.on('job.started', () => {
        if (this.store.data.bedClear) void this.store.update((q) => (q.bedClear = false)).then(() => this.changed(), logFailure('cannot mark the bed used'));
      }),
      bus.on('job.ended', (e) => void this.onJobEnded(e.path, e.result, e.fromQueue).catch(logFailure('cannot record the finished print'))),
      bus.on('printer.state', (s) => {
        if (s.state === 'OPERATIONAL') void this.maybeStartNext().catch(logFailure('cannot start the next item'));
      }),
    );
  }

  stop(): void {
    for (const off of this.offs) off();
  }

  get data(): QueueFile {
    return this.store.data;
  }

  /** Free for a print from elsewhere (the farm queue): no item of its own waiting or starting, and the bed confirmed
   * clear. */
  get free(): boolean {
    return !this.starting && this.store.data.bedClear && this.store.data.items.length === 0;
  }

  /** A print from elsewhere takes the bed: marked used before it starts, so the gate holds whatever happens next. */
  async takeBed(): Promise<void> {
    await this.store.update((q) => (q.bedClear = false));
    this.changed();
  }

  async add(path: string, copies: number, user: string | null): Promise<QueueItem> {
    if (!Number.isInteger(copies) || copies < 1 || copies > 1000) throw new ServiceError(400, 'copies must be a whole number from 1 to 1000');
    const item: QueueItem = { id: randomUUID(), path, copies, printed: 0, addedBy: user, added: Date.now() };
    await this.store.update((q) => q.items.push(item));
    this.changed();
    void this.maybeStartNext().catch((err: Error) => this.log.warn(`queue: cannot start the next item: ${err.message}`));
    return item;
  }

  async remove(id: string): Promise<void> {
    if (!this.store.data.items.some((i) => i.id === id)) throw new ServiceError(404, `No queue item ${id}`);
    await this.store.update((q) => (q.items = q.items.filter((i) => i.id !== id)));
    this.changed();
  }

  /** Moves an item to `position` (0 = next). */
  async move(id: string, position: number): Promise<void> {
    const items = this.store.data.items;
    const from = items.findIndex((i) => i.id === id);
    if (from < 0) throw new ServiceError(404, `No queue item ${id}`);
    if (!Number.isInteger(position) || position < 0 || position >= items.length) throw new ServiceError(400, `position must be from 0 to ${items.length - 1}`);
    await this.store.update((q) => moveItem(q.items, id, position));
    this.changed();
  }

  async confirmBedClear(): Promise<void> {
    await this.store.update((q) => (q.bedClear = true));
    this.changed();
    await this.maybeStartNext();
  }

  /** Starts the next item when the printer is idle, the bed is clear and something is queued. */
  async maybeStartNext(): Promise<void> {
    const q = this.store.data;
    // refusing starts (its printer being removed): the item waits, not dropped as a file that cannot print would be
    if (this.starting || !q.bedClear || q.items.length === 0 || this.jobs.active || this.jobs.refusingStarts || this.printer.state !== 'OPERATIONAL') return;
    this.starting = true;
    const item = q.items[0]!;
    try {
      await this.store.update((d) => (d.bedClear = false));
      await this.jobs.select(item.path, false, item.addedBy);
      await this.jobs.start(item.addedBy, true);
      this.log.info(`queue: printing ${item.path} (${item.printed + 1} of ${item.copies})`);
    } catch (err) {
      // a file that vanished or cannot print must not block the queue forever: drop it, say why
      this.log.warn(`queue: cannot print ${item.path}: ${(err as Error).message}; removed from the queue`);
      await this.store.update((d) => {
        d.items = d.items.filter((i) => i.id !== item.id);
        d.bedClear = true;
      });
    } finally {
      this.starting = false;
      this.changed();
    }
  }

  private async onJobEnded(path: string, result: string, fromQueue: boolean): Promise<void> {
    const headId = this.store.data.items[0]?.id;
    // one update: counting the copy and marking the bed used must not let a confirmation slip in between.
    // The item is matched by id: an update works on a copy of the queue, so object identity means nothing there.
    await this.store.update((q) => {
      const head = q.items[0];
      if (fromQueue && head && head.id === headId && head.path === path && result === 'success') {
        head.printed++;
        if (head.printed >= head.copies) q.items.shift();
      }
      q.bedClear = false;
    });
    this.changed();
    if (result === 'success' && this.store.data.items.length > 0) await this.clearBedByScript();
  }

  /** In 'script' mode, runs the bed-clear script and confirms the bed clear; false (nothing done) in 'confirm' mode.
   * After a successful print, when something waits for this printer: its own queue, or the farm's. */
  async clearBedByScript(): Promise<boolean> {
    const s = this.settings();
    if (s.bedClearMode !== 'script' || !this.printer.operational) return false;
    this.log.info('queue: running the bed-clear script');
    this.printer.commands(s.bedClearScript);
    await this.printer.drained(600_000).catch(() => undefined);
    await this.confirmBedClear();
    return true;
  }

  private changed(): void {
    this.bus.emit('queue.changed', { items: this.store.data.items.length, bedClear: this.store.data.bedClear });
  }
}
