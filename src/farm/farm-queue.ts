// The farm queue: one queue for the whole Gantry whose jobs go to the first idle printer whose profile fits the file
// (bed, nozzle, filament: requirements.ts). A printer is idle only when it is Operational with no job, nothing of
// its own queued, no interrupted print waiting, and its bed confirmed clear (its queue's gate).
//
// Nothing prints twice: a dispatch is saved (farm-queue.json) before the print starts. A dispatch found in the file
// at start was cut short by a stop or a crash: it stays attributed to its printer, marked interrupted, and is never
// sent anywhere again by itself. Resuming it there (recovery) finishes it; the user may instead say it was printed,
// or put the copy back in the queue.
//
// The dispatcher runs on state changes (a printer's state, a queue, a finished job, an analysis), one pass at a
// time, never on the printers' per-line path.
import { randomUUID } from 'node:crypto';
import type { EventBus, GantryEvents } from '../events.js';
import type { AnalysisQueue } from '../files/analysis/analysis-queue.js';
import type { FileStorage } from '../files/storage.js';
import { moveItem } from '../jobs/queue-order.js';
import type { Logger } from '../log.js';
import type { PrinterUnit } from '../printers/unit.js';
import { ServiceError } from '../service-error.js';
import type { JsonStore } from '../store/json-store.js';
import { type FarmConstraints, type Requirements, misfit, requirementsOf } from './requirements.js';

export interface FarmDispatch {
  printerId: string;
  since: number;
  /** Gantry stopped while it printed: kept on its printer until resumed there or resolved by the user */
  interrupted: boolean;
}

export interface FarmItem {
  id: string;
  path: string;
  copies: number;
  printed: number;
  constraints: FarmConstraints;
  addedBy: string | null;
  added: number;
  /** copies on printers now (or interrupted there) */
  active: FarmDispatch[];
}

export interface FarmFile {
  items: FarmItem[];
}

export const defaultFarmFile = (): FarmFile => ({ items: [] });

export interface FarmItemView extends Omit<FarmItem, 'active'> {
  state: 'waiting' | 'printing' | 'interrupted' | 'done';
  printing: { printer: string; since: number; interrupted: boolean }[];
  requirements: Omit<Requirements, 'area'> & { area: { maxX: number; maxY: number; maxZ: number } | null };
  /** why the copies not on a printer wait; null when none waits */
  reason: string | null;
}

export interface FarmView {
  items: FarmItemView[];
  /** each printer as the farm sees it: ready for a farm job, or why not */
  printers: { id: string; name: string; ready: boolean; reason: string | null }[];
}

/** What the farm needs of a printer unit. */
export type FarmPrinter = Pick<PrinterUnit, 'id' | 'printer' | 'jobs' | 'queue' | 'settings'>;

export interface FarmDeps {
  store: JsonStore<FarmFile>;
  bus: EventBus;
  storage: Pick<FileStorage, 'metaFor'>;
  analysis: Pick<AnalysisQueue, 'enqueue' | 'failure'>;
  /** the printers, in the order they are offered work (the default first, then as added) */
  printers: () => FarmPrinter[];
  log: Logger;
}

const notFound = (id: string) => new ServiceError(404, `No farm queue item ${id}`);

export class FarmQueue {
  private readonly offs: (() => void)[] = [];
  private readonly reasons = new Map<string, string>();
  private pass: Promise<void> = Promise.resolve();
  private scheduled: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly d: FarmDeps) {}

  /** Marks what the file says was printing as interrupted (nothing prints at start) and starts listening. */
  async start(): Promise<void> {
    if (this.d.store.data.items.some((i) => i.active.some((a) => !a.interrupted))) {
      await this.d.store.update((f) => f.items.forEach((i) => i.active.forEach((a) => (a.interrupted = true))));
      for (const i of this.d.store.data.items) {
        for (const a of i.active) this.d.log.warn(`farm: ${i.path} was printing on ${a.printerId} when Gantry stopped; it stays there until resumed, requeued or marked printed`);
      }
    }
    const b = this.d.bus;
    const kick = () => void this.kick();
    this.offs.push(
      b.on('printer.state', kick),
      b.on('queue.changed', kick),
      b.on('files.analysed', kick),
      b.on('printers.changed', kick),
      b.on('settings.updated', kick),
      b.on('job.started', (e) => void this.onJobStarted(e).catch((err: Error) => this.d.log.warn(`farm: ${err.message}`))),
      b.on('job.ended', (e) => void this.onJobEnded(e).catch((err: Error) => this.d.log.warn(`farm: cannot record the finished print: ${err.message}`))),
    );
    await this.kick();
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs) off();
    return this.pass;
  }

  view(): FarmView {
    return {
      items: this.d.store.data.items.map((i) => this.itemView(i)),
      printers: this.d.printers().map((u) => {
        const reason = this.busy(u);
        return { id: u.id, name: u.settings.data.appearance.name, ready: reason === null, reason };
      }),
    };
  }

  async add(path: string, copies: number, constraints: FarmConstraints, user: string | null): Promise<FarmItemView> {
    if (!Number.isInteger(copies) || copies < 1 || copies > 1000) throw new ServiceError(400, 'copies must be a whole number from 1 to 1000');
    const item: FarmItem = { id: randomUUID(), path, copies, printed: 0, constraints, addedBy: user, added: Date.now(), active: [] };
    await this.d.store.update((f) => f.items.push(item));
    this.changed();
    await this.kick();
    const now = this.d.store.data.items.find((i) => i.id === item.id);
    return this.itemView(now ?? { ...item, printed: copies });
  }

  /** Takes an item off the queue. Copies printing now go on as the printers' own prints. */
  async remove(id: string): Promise<void> {
    if (!this.find(id)) throw notFound(id);
    await this.d.store.update((f) => (f.items = f.items.filter((i) => i.id !== id)));
    this.reasons.delete(id);
    this.changed();
    void this.kick();
  }

  /** Moves an item to `position` (0 = offered a printer first). */
  async move(id: string, position: number): Promise<void> {
    const items = this.d.store.data.items;
    if (!this.find(id)) throw notFound(id);
    if (!Number.isInteger(position) || position < 0 || position >= items.length) throw new ServiceError(400, `position must be from 0 to ${items.length - 1}`);
    await this.d.store.update((f) => moveItem(f.items, id, position));
    this.changed();
    void this.kick();
  }

  /** Settles the copies Gantry's stop interrupted: `printed` counts them done, `requeue` prints them again (on
   * whichever printer fits first). */
  async resolve(id: string, how: 'printed' | 'requeue'): Promise<void> {
    const item = this.find(id);
    if (!item) throw notFound(id);
    if (!item.active.some((a) => a.interrupted)) throw new ServiceError(409, `Item ${id} has no interrupted copy to settle`);
    await this.d.store.update((f) => {
      const it = f.items.find((i) => i.id === id);
      if (!it) return;
      const settled = it.active.filter((a) => a.interrupted).length;
      it.active = it.active.filter((a) => !a.interrupted);
      if (how === 'printed') it.printed += settled;
      if (it.printed >= it.copies) f.items = f.items.filter((i) => i.id !== id);
    });
    this.d.log.info(`farm: the interrupted copies of ${item.path} ${how === 'printed' ? 'marked printed' : 'back in the queue'}`);
    this.changed();
    void this.kick();
  }

  /** Runs a dispatch pass soon (once for a burst of events); resolves when it is done. */
  kick(): Promise<void> {
    if (this.stopped) return this.pass;
    this.scheduled ??= this.pass = this.pass.then(
      () =>
        new Promise<void>((resolve) => {
          setImmediate(() => {
            this.scheduled = undefined;
            this.dispatchPass().then(resolve, (err: Error) => {
              this.d.log.warn(`farm: dispatch failed: ${err.message}`);
              resolve();
            });
          });
        }),
    );
    return this.scheduled;
  }

  // ---- dispatching -----------------------------------------------------------------------------------------

  private async dispatchPass(): Promise<void> {
    if (this.stopped) return;
    const printers = this.d.printers();
    const reasons = new Map<string, string>();
    // a printer given a job in this pass is not free for the next item, whatever its state says yet
    const taken = new Set<string>();
    for (const snapshot of this.d.store.data.items) {
      let waiting = snapshot.copies - snapshot.printed - snapshot.active.length;
      if (waiting <= 0) continue;
      const req = this.requirements(snapshot);
      if (typeof req === 'string') {
        reasons.set(snapshot.id, req);
        continue;
      }
      const misfits: string[] = [];
      const busy: string[] = [];
      for (const unit of printers) {
        if (waiting === 0 || this.stopped) break;
        const misfitWhy = misfit(unit.id, unit.settings.data.printerProfile, req);
        if (misfitWhy) {
          misfits.push(`${unit.id}: ${misfitWhy}`);
          continue;
        }
        const busyWhy = taken.has(unit.id) ? 'just given another farm job' : this.busy(unit);
        if (busyWhy) {
          busy.push(`${unit.id}: ${busyWhy}`);
          continue;
        }
        taken.add(unit.id);
        const failed = await this.dispatch(snapshot, unit);
        if (failed === null) waiting--;
        else busy.push(`${unit.id}: ${failed}`);
      }
      if (waiting > 0) reasons.set(snapshot.id, busy.length === 0 ? `no printer fits: ${misfits.join('; ')}` : `no idle printer fits: ${[...misfits, ...busy].join('; ')}`);
    }
    const before = JSON.stringify([...this.reasons]);
    this.reasons.clear();
    for (const [k, v] of reasons) this.reasons.set(k, v);
    if (JSON.stringify([...this.reasons]) !== before) this.changed();
  }

  /** What the item needs, or why that is not known yet. */
  private requirements(item: FarmItem): Requirements | string {
    const meta = this.d.storage.metaFor(item.path);
    if (!meta) return `${item.path} is not in the files any more`;
    if (!meta.analysis) {
      const failure = this.d.analysis.failure(item.path);
      // a file that cannot be analysed is matched on what the item says; the slicer said nothing readable
      if (failure === undefined) {
        this.d.analysis.enqueue(item.path);
        return "waiting for the file's analysis (its size, nozzle and filament)";
      }
    }
    return requirementsOf(meta.analysis, item.constraints);
  }

  /** Why a printer cannot take a farm job now, or null when it can. */
  private busy(u: FarmPrinter): string | null {
    if (this.d.store.data.items.some((i) => i.active.some((a) => a.printerId === u.id))) {
      return this.d.store.data.items.some((i) => i.active.some((a) => a.printerId === u.id && a.interrupted)) ? 'a farm print was interrupted there' : 'printing a farm job';
    }
    if (u.jobs.active || u.printer.state !== 'OPERATIONAL') return u.printer.stateText.toLowerCase();
    if (u.jobs.checkpoint) return 'an interrupted print waits to be resumed or discarded';
    const q = u.queue.data;
    if (q.items.length > 0) return `${q.items.length} item${q.items.length === 1 ? '' : 's'} in its own queue`;
    if (!q.bedClear) return 'bed not confirmed clear';
    if (!u.queue.free) return 'starting from its own queue';
    return null;
  }

  /** Starts one copy on a printer: recorded first, so a crash from here on never prints it again elsewhere.
   * Null when it started; else why not (the record is taken back, the bed left as it was). */
  private async dispatch(item: FarmItem, unit: FarmPrinter): Promise<string | null> {
    const mine: FarmDispatch = { printerId: unit.id, since: Date.now(), interrupted: false };
    try {
      await this.d.store.update((f) => {
        const it = f.items.find((i) => i.id === item.id);
        if (!it) throw notFound(item.id);
        it.active.push(mine);
      });
    } catch (err) {
      return (err as Error).message;
    }
    let bedTaken = false;
    try {
      await unit.queue.takeBed();
      bedTaken = true;
      await unit.jobs.select(item.path, false, item.addedBy);
      await unit.jobs.start(item.addedBy, false);
      this.d.log.info(`farm: printing ${item.path} on ${unit.id} (copy ${item.printed + item.active.length + 1} of ${item.copies})`);
      this.changed();
      return null;
    } catch (err) {
      const why = (err as Error).message;
      this.d.log.warn(`farm: ${item.path} not started on ${unit.id}: ${why}`);
      await this.d.store
        .update((f) => {
          const it = f.items.find((i) => i.id === item.id);
          if (it) it.active = it.active.filter((a) => !(a.printerId === mine.printerId && a.since === mine.since));
        })
        .catch((e: Error) => this.d.log.warn(`farm: ${e.message}`));
      if (bedTaken && !unit.jobs.active) await unit.queue.confirmBedClear().catch(() => undefined);
      return `could not start: ${why}`;
    }
  }

  /** An interrupted copy resumed on its printer (recovery) is printing again. */
  private async onJobStarted(e: GantryEvents['job.started']): Promise<void> {
    const item = this.d.store.data.items.find((i) => i.path === e.path && i.active.some((a) => a.printerId === e.printerId && a.interrupted));
    if (!item) return;
    await this.d.store.update((f) => {
      const a = f.items.find((i) => i.id === item.id)?.active.find((x) => x.printerId === e.printerId && x.interrupted);
      if (a) a.interrupted = false;
    });
    this.changed();
  }

  private async onJobEnded(e: GantryEvents['job.ended']): Promise<void> {
    const item = this.d.store.data.items.find((i) => i.path === e.path && i.active.some((a) => a.printerId === e.printerId && !a.interrupted));
    if (!item) return;
    const unit = this.d.printers().find((u) => u.id === e.printerId);
    // cut short by the printer's power (its link lost, a reset) with its last layer kept for resuming there: the copy
    // stays on that printer, interrupted, as after a stop of Gantry's (resumed there, or settled by hand)
    const resumable = e.result === 'failed' && unit?.jobs.checkpoint?.path === e.path;
    await this.d.store.update((f) => {
      const it = f.items.find((i) => i.id === item.id);
      if (!it) return;
      const at = it.active.findIndex((a) => a.printerId === e.printerId && !a.interrupted);
      if (at >= 0 && resumable) it.active[at]!.interrupted = true;
      else if (at >= 0) it.active.splice(at, 1);
      // a failed or cancelled copy is printed again, once the bed is cleared (the printer's gate)
      if (e.result === 'success') it.printed++;
      if (it.printed >= it.copies) f.items = f.items.filter((i) => i.id !== it.id);
    });
    this.d.log.info(`farm: ${e.path} on ${e.printerId}: ${e.result}`);
    this.changed();
    void this.kick();
    // the printer's own queue runs the bed-clear script when it has items; for farm work that waits, it runs here
    if (e.result === 'success' && unit && unit.queue.data.items.length === 0 && this.hasWaiting()) await unit.queue.clearBedByScript();
  }

  private hasWaiting(): boolean {
    return this.d.store.data.items.some((i) => i.copies - i.printed - i.active.length > 0);
  }

  private find(id: string): FarmItem | undefined {
    return this.d.store.data.items.find((i) => i.id === id);
  }

  private itemView(i: FarmItem): FarmItemView {
    const { active, ...rest } = i;
    const req = requirementsOf(this.d.storage.metaFor(i.path)?.analysis, i.constraints);
    const waiting = i.copies - i.printed - active.length;
    const state = i.printed >= i.copies ? 'done' : active.some((a) => a.interrupted) ? 'interrupted' : active.length > 0 ? 'printing' : 'waiting';
    return {
      ...rest,
      state,
      printing: active.map((a) => ({ printer: a.printerId, since: a.since, interrupted: a.interrupted })),
      requirements: { ...req, area: req.area ? { maxX: req.area.maxX, maxY: req.area.maxY, maxZ: req.area.maxZ } : null },
      reason: waiting > 0 ? (this.reasons.get(i.id) ?? 'waiting for the dispatcher') : null,
    };
  }

  private changed(): void {
    const items = this.d.store.data.items;
    const printing = items.reduce((n, i) => n + i.active.length, 0);
    const waiting = items.reduce((n, i) => n + Math.max(0, i.copies - i.printed - i.active.length), 0);
    this.d.bus.emit('farm.changed', { items: items.length, printing, waiting });
  }
}
