// Analyses files one at a time in a worker thread, stores the result with the file's metadata and writes
// thumbnails next to it. The worker exits when idle, so a 512 MB board does not keep it around.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventBus } from '../../events.js';
import type { Logger } from '../../log.js';
import type { FileStorage } from '../storage.js';
import type { AnalysisOptions, GcodeAnalysis } from './analyze.js';

export type StoredAnalysis = Omit<GcodeAnalysis, 'thumbnails'> & {
  hash: string;
  thumbnails: { width: number; height: number; format: string; file: string }[];
};

const IDLE_EXIT_MS = 30_000;

export class AnalysisQueue {
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly pending: string[] = [];
  private running: string | undefined;
  private nextId = 1;
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly storage: FileStorage,
    private readonly thumbnailDir: string,
    private readonly options: () => AnalysisOptions,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /** Queues a file (again, if it changed). */
  enqueue(path: string): void {
    if (this.running === path || this.pending.includes(path)) return;
    if (this.storage.metaFor(path)?.analysis) return; // same bytes as last time: nothing new to learn
    this.pending.push(path);
    void this.drain();
  }

  /** Resolves once the file's analysis is stored (or failed). For tests and the job runner. */
  whenDone(path: string): Promise<void> {
    if (this.running !== path && !this.pending.includes(path)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(path, [...(this.waiters.get(path) ?? []), resolve]));
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.pending.length = 0;
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    const path = this.pending.shift();
    if (path === undefined) {
      this.idleTimer = setTimeout(() => void this.stopWorker(), IDLE_EXIT_MS);
      this.idleTimer.unref();
      return;
    }
    clearTimeout(this.idleTimer);
    this.running = path;
    try {
      const meta = this.storage.metaFor(path);
      if (meta) {
        const t0 = Date.now();
        // real(): never read through a symlink that leads out of the files folder
        const analysis = await this.run(await this.storage.real(path));
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
      this.log.warn(`analysis of ${path} failed: ${(err as Error).message}`);
    } finally {
      this.running = undefined;
      for (const w of this.waiters.get(path) ?? []) w();
      this.waiters.delete(path);
      void this.drain();
    }
  }

  private run(path: string): Promise<GcodeAnalysis> {
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { id: number; analysis?: GcodeAnalysis; error?: string }) => {
        if (msg.id !== id) return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (msg.analysis) {
          // Buffers arrive as Uint8Arrays after structured cloning
          msg.analysis.thumbnails = msg.analysis.thumbnails.map((t) => ({ ...t, data: Buffer.from(t.data) }));
          resolve(msg.analysis);
        } else reject(new Error(msg.error ?? 'analysis failed'));
      };
      const onExit = (code: number) => {
        worker.off('message', onMessage);
        this.worker = undefined;
        reject(new Error(`the analysis worker exited (${code})`));
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage({ id, path, options: this.options() });
    });
  }

  private spawn(): Worker {
    // a small heap: the analysis streams, it never holds a file
    const w = new Worker(new URL('./worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 64 } });
    w.unref();
    return w;
  }

  private async stopWorker(): Promise<void> {
    if (this.running || this.pending.length) return;
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
