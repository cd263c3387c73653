// After a burst of work ends (a print, an upload, an analysis result), one full garbage collection once things have
// been quiet for a moment. On a small heap V8 collects late: 70 s after 20 prints the RSS still held their garbage
// and old code (+14-34 % over idle), though nothing leaked (a later compaction took it back). Never while a job
// prints: a pause of tens of ms on a Pi has no place between two lines of a print.
// Prints back to back (a queue, the soak) never leave those 5 s quiet: each collection found the next job printing
// and was skipped, so none ever ran, and the garbage of every print, upload and push message waited for V8's own
// late collections (`make bench-soak`: RSS climbing ~0.7 MB/min). A skipped collection is therefore owed, and paid
// the moment a job ends: the job has stopped streaming and the next one has not started.
// With several printers the whole process must be quiet (`printing` asks every printer), and some printer was nearly
// always streaming, so the owed collection waited for a moment that rarely came. A paused print streams nothing, so
// it does not count as printing, and the debt is also paid on any printer's change of state (one pausing, one going
// offline) that leaves no printer streaming, not only at a job's end.
// Those events are emitted from inside a printer's line handler: the collection is not run there (a pause of tens
// of ms in the middle of handling a printer's reply) but right after it (setImmediate), asking again then whether a
// printer streams (another may have resumed meanwhile).
// Nor while an upload streams in: the collection after one upload's analysis landed in the middle of the next
// upload (a slicer sending files one after another), a 35 ms stop of the stream here. It waits for another quiet
// moment instead.
import type { EventBus } from '../events.js';
import { collectAllGarbage } from './gc.js';

/** Quiet this long after the last burst before collecting. */
export const IDLE_GC_DELAY_MS = 5000;

export interface IdleGcDeps {
  bus: EventBus;
  /** true while a job streams to a printer, any printer of this process (a paused one does not) */
  printing: () => boolean;
  /** true while an upload's body streams in */
  uploading?: () => boolean;
  collect?: () => void;
  delayMs?: number;
}

export class IdleCollector {
  private timer: NodeJS.Timeout | undefined;
  private readonly offs: (() => void)[];
  /** collections run, and those skipped because a job was printing (for tests and the log) */
  runs = 0;
  skipped = 0;
  /** quiet moments that found an upload streaming in: the collection waited for the next */
  deferred = 0;
  /** a collection was skipped for a print: the next job's end runs it at once */
  private owed = false;
  /** the check for paying it, right after the event that asked for it */
  private paying: NodeJS.Immediate | undefined;

  constructor(private readonly d: IdleGcDeps) {
    this.offs = [
      d.bus.on('job.ended', () => this.jobEnded()),
      d.bus.on('printer.state', () => this.payIfQuiet()),
      d.bus.on('files.uploaded', () => this.soon()),
      d.bus.on('files.analysed', () => this.soon()),
    ];
  }

  /** a collection owed, and no printer streaming now: pay it, once the event's handlers are done */
  private payIfQuiet(): void {
    if (!this.owed || this.d.printing() || this.paying) return;
    this.paying = setImmediate(() => {
      this.paying = undefined;
      if (this.owed && !this.d.printing()) this.collect();
    });
  }

  private jobEnded(): void {
    this.payIfQuiet();
    this.soon();
  }

  private collect(): void {
    this.owed = false;
    (this.d.collect ?? collectAllGarbage)();
    this.runs++;
  }

  private soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.d.uploading?.()) {
        this.deferred++;
        this.soon();
        return;
      }
      if (this.d.printing()) {
        this.skipped++;
        this.owed = true; // the job's own end brings the next chance
        return;
      }
      this.collect();
    }, this.d.delayMs ?? IDLE_GC_DELAY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    clearImmediate(this.paying);
    for (const off of this.offs) off();
  }
}
