// Saves a job's checkpoints (checkpoint.ts) without letting them cost the send path. Every save is a durable write
// (temp file, fdatasync, rename, folder fsync: eight file operations through the thread pool), and a fast printer
// changes layers many times a second (an instant-ok printer: ~25 a second on a slicer file, ~3 µs of CPU per line
// of the print). So at most one write is in flight, and one starts at most every MIN_INTERVAL_MS: a layer that
// comes sooner waits, and only the newest waiting one is written. The file is then never more than about a second
// behind the layer being printed; a real print's layers take seconds (slicers slow down below a minimum layer time
// of 5-10 s), so for them every layer is still saved as it starts. A clean stop writes what waits at once.
import type { Logger } from '../log.js';
import type { JsonStore } from '../store/json-store.js';
import type { Checkpoint, CheckpointFile } from './checkpoint.js';

export const CHECKPOINT_MIN_INTERVAL_MS = 1000;

export class CheckpointSaver {
  private waiting: Checkpoint | undefined;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStart = -Infinity;
  private stopped = false;

  constructor(
    private readonly store: JsonStore<CheckpointFile>,
    private readonly log: Logger,
    private readonly minIntervalMs = CHECKPOINT_MIN_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The checkpoint of the layer that starts now: written now, or as soon as the last write and the interval allow. */
  save(cp: Checkpoint): void {
    if (this.stopped) return;
    this.waiting = cp;
    this.schedule();
  }

  /** The job goes on no longer (it ended): what waits is dropped; resolves once no write of ours is in flight. */
  async cancel(): Promise<void> {
    this.stopped = true;
    this.waiting = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
  }

  /** Gantry stops mid-print: what waits is written now (the store's settled() then waits for it). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.writing) this.write();
    this.stopped = true; // a write in flight still hands over to the waiting one (below), then nothing more
  }

  private schedule(): void {
    if (this.writing || this.timer) return; // the write in flight, or the timer, takes the newest when it is done
    const wait = this.lastStart + this.minIntervalMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.write();
      }, wait);
      this.timer.unref();
      return;
    }
    this.write();
  }

  private write(): void {
    const cp = this.waiting;
    if (!cp) return;
    this.waiting = undefined;
    this.lastStart = this.now();
    this.writing = this.store
      .update((c) => (c.checkpoint = cp))
      .catch((err: Error) => this.log.warn(`checkpoint not saved: ${err.message}`))
      .finally(() => {
        this.writing = undefined;
        if (!this.waiting) return;
        if (this.stopped) this.write(); // flushed while this one was in flight: the newest goes out now
        else this.schedule();
      });
  }
}
