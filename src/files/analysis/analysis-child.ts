// The analysis process as Gantry sees it: forked on the first file, kept while files wait, let go when idle.
// A process and not a worker thread: a worker's allocations stay in Gantry's own memory after it ends (glibc keeps
// the thread's malloc arena — up to 64 MB resident after one 100 MB file — and V8's freed pages in fragments),
// while an exited process gives everything back to the OS. It also runs at a lower priority than the serial path,
// and whatever kills it (its heap limit, the OOM killer, a bug) fails one file, not Gantry.
import { type ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { NODE_FLAGS } from '../../node-flags.js';
import type { AnalysisOptions, GcodeAnalysis } from './analyze.js';
import type { AnalysisRequest } from './analysis-process.js';

const ENTRY = new URL('./analysis-process.js', import.meta.url);
/** The analysis streams; it never holds a file. Its heap is small, and a runaway one is stopped early. */
const HEAP_MB = 64;
/** Below the serial path and the HTTP server (0), as a background job should be. */
const NICENESS = 10;

type Reply = { id: number; analysis?: GcodeAnalysis; error?: string };

export class AnalysisChild {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (a: GcodeAnalysis) => void; reject: (e: Error) => void }>();
  /** how many processes were started (tests: a queue of files shares one) */
  spawned = 0;

  /** The running process's id, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  analyse(path: string, options: AnalysisOptions): Promise<GcodeAnalysis> {
    const child = (this.child ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.hold(child, true);
      const req: AnalysisRequest = { id, path, options };
      child.send(req, (err) => {
        if (err && this.waiting.delete(id)) reject(new Error(`the analysis process could not be reached: ${err.message}`));
      });
    });
  }

  /** No more work: the process exits by itself once the channel closes (its memory goes with it). */
  release(): void {
    const child = this.child;
    this.child = undefined;
    if (child?.connected) child.disconnect();
  }

  /** Ends the process now and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.hold(child, true); // whoever awaits this waits for the exit, even if nothing else keeps the loop running
    child.kill('SIGKILL');
    await gone;
  }

  private spawn(): ChildProcess {
    const child = fork(ENTRY, [], {
      // Gantry's own flags, not whatever this process was started with (a test runner's, an inspector)
      execArgv: [...NODE_FLAGS, `--max-old-space-size=${HEAP_MB}`],
      serialization: 'advanced', // thumbnails cross as bytes, not as JSON arrays of numbers
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.spawned++;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, NICENESS);
      } catch {
        // not permitted here: it still works, only at the same priority
      }
    }
    child.on('message', (msg: Reply) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (this.waiting.size === 0) this.hold(child, false);
      if (msg.analysis) {
        // Buffers cross as Uint8Arrays
        msg.analysis.thumbnails = msg.analysis.thumbnails.map((t) => ({ ...t, data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
        w.resolve(msg.analysis);
      } else w.reject(new Error(msg.error ?? 'analysis failed'));
    });
    const fail = (why: string) => {
      if (this.child === child) this.child = undefined;
      for (const [id, w] of this.waiting) {
        this.waiting.delete(id);
        w.reject(new Error(why));
      }
    };
    child.on('error', (err) => fail(`the analysis process could not run: ${err.message}`));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined; // the next file starts a new one
    });
    // 'close', not 'exit': by then everything it wrote to stderr has arrived
    child.on('close', (code, signal) => {
      // what it said last, if it said why (V8's "FATAL ERROR: … heap out of memory", an uncaught error)
      const said = /FATAL ERROR: ([^\n]+)/.exec(stderr)?.[1] ?? /(?:^|\n)(\w*Error: [^\n]+)/.exec(stderr)?.[1];
      fail(`the analysis process ${signal ? `was killed (${signal})` : `exited with code ${code}`}${said ? `: ${said.trim()}` : ''}`);
    });
    this.hold(child, false);
    return child;
  }

  /** An idle process (or its channel) does not keep Gantry's event loop alive; one with work does. */
  private hold(child: ChildProcess, on: boolean): void {
    const channel = child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (on) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }
}
