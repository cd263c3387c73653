// Analyses files one at a time in the analysis process (analysis-child.ts), stores the result with the file's
// metadata and writes thumbnails next to it. The process runs while files wait and exits soon after the last,
// so a 512 MB board does not keep it around, and a queue of files pays for one start, not one per file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventBus } from '../../events.js';
import type { Logger } from '../../log.js';
import type { FileStorage } from '../storage.js';
import { AnalysisChild } from './analysis-child.js';
import type { AnalysisOptions, GcodeAnalysis } from './analyze.js';

export type StoredAnalysis = Omit<GcodeAnalysis, 'thumbnails'> & {
  hash: string;
  thumbnails: { width: number; height: number; format: string; file: string }[];
};

/** How long the process waits for another file before it exits: a slicer sending several files in a row, or a
 * listing that found files copied in by hand, shares one process start. */
const IDLE_EXIT_MS = 10_000;

/** What the queue needs of the files folder. */
export type AnalysisStorage = Pick<FileStorage, 'metaFor' | 'real' | 'setAnalysis'>;

export class AnalysisQueue {
  private readonly child = new AnalysisChild();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly pending: string[] = [];
  private running: string | undefined;
  private readonly waiters = new Map<string, (() => void)[]>();
  /** files whose analysis failed, by path, with the bytes (hash) that failed: not tried again on every listing */
  private readonly failures = new Map<string, { hash: string; error: string }>();

  constructor(
    private readonly storage: AnalysisStorage,
    private readonly thumbnailDir: string,
    private readonly options: () => AnalysisOptions,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly idleExitMs = IDLE_EXIT_MS,
  ) {}

  /** Queues a file (again, if it changed). A file whose analysis failed is tried again only when `retry` (the
   * API's analyse command) or once its bytes changed. */
  enqueue(path: string, retry = false): void {
    if (this.running === path || this.pending.includes(path)) return;
    const meta = this.storage.metaFor(path);
    if (meta?.analysis) return; // same bytes as last time: nothing new to learn
    if (retry) this.failures.delete(path);
    else if (meta && this.failures.get(path)?.hash === meta.hash) return;
    this.pending.push(path);
    void this.drain();
  }

  /** Why the file's analysis failed, if it did for the bytes it has now. */
  failure(path: string): string | undefined {
    const f = this.failures.get(path);
    return f && f.hash === this.storage.metaFor(path)?.hash ? f.error : undefined;
  }

  /** The analysis process: its pid while it runs, and how many were started. For tests and the benchmarks. */
  get process(): { pid: number | undefined; spawned: number } {
    return { pid: this.child.pid, spawned: this.child.spawned };
  }

  /** Whether a file is being analysed or waiting to be. */
  get busy(): boolean {
    return this.running !== undefined || this.pending.length > 0;
  }

  /** Resolves once the file's analysis is stored (or failed). For tests and the job runner. */
  whenDone(path: string): Promise<void> {
    if (this.running !== path && !this.pending.includes(path)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(path, [...(this.waiters.get(path) ?? []), resolve]));
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.pending.length = 0;
    await this.child.stop();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    const path = this.pending.shift();
    if (path === undefined) {
      this.idleTimer = setTimeout(() => this.child.release(), this.idleExitMs);
      this.idleTimer.unref();
      return;
    }
    clearTimeout(this.idleTimer);
    this.running = path;
    const meta = this.storage.metaFor(path);
    try {
      if (meta) {
        const t0 = Date.now();
        // real(): never read through a symlink that leads out of the files folder
        const analysis = await this.child.analyse(await this.storage.real(path), this.options());
        const thumbnails: StoredAnalysis['thumbnails'] = [];
        if (analysis.thumbnails.length) await mkdir(this.thumbnailDir, { recursive: true });
        for (const t of analysis.thumbnails) {
          const file = `${meta.hash}-${t.width}x${t.height}.${t.format}`;
          await writeFile(join(this.thumbnailDir, file), t.data);
          thumbnails.push({ width: t.width, height: t.height, format: t.format, file });
        }
        const stored: StoredAnalysis = { ...analysis, thumbnails, hash: meta.hash };
        await this.storage.setAnalysis(path, meta.hash, stored);
        this.log.info(`analysed ${path} in ${Date.now() - t0} ms: ${Math.round(analysis.estimatedPrintTime)} s, ${analysis.layers.count} layers`);
        this.bus.emit('files.analysed', { path });
      }
    } catch (err) {
      const error = (err as Error).message;
      if (meta) this.failures.set(path, { hash: meta.hash, error }); // these bytes failed; others may not
      this.log.warn(`analysis of ${path} failed: ${error}`);
    } finally {
      this.running = undefined;
      for (const w of this.waiters.get(path) ?? []) w();
      this.waiters.delete(path);
      void this.drain();
    }
  }
}
