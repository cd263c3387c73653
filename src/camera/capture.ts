// One ffmpeg per camera, started when someone watches and stopped a little after the last one leaves. It
// restarts with backoff when ffmpeg dies or the camera vanishes. Keeps only the newest frame.
import type { Logger } from '../log.js';
import { collectYoungGarbage } from '../system/gc.js';
import { type CameraSource, type FfmpegProcess, spawnCamera } from './ffmpeg.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { MpjpegSplitter } from './mpjpeg-splitter.js';

const IDLE_STOP_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;
/** a camera that stops sending (a hung driver, a USB hiccup) is restarted after this long without a frame */
const FRAME_WATCHDOG_MS = 10_000;
/** a camera just started sends its auto-exposure's first guesses: snapshots skip them */
const WARMUP_MS = 500;
/** Free spent frames every this many bytes of them (system/gc.ts says why). Each frame is several buffers outside
 * V8's heap (ffmpeg's pipe reads, the frame, each viewer's multipart part), and V8 collects them late: one viewer
 * of a 640×480 stream grew Gantry by ~24 MB in two minutes, and kept it. */
export const FRAME_GC_BYTES = 1 << 20;

export class CameraCapture {
  /** the newest JPEG, and a counter that tells viewers a new one arrived */
  latest: Buffer | undefined;
  frameNo = 0;
  private proc: FfmpegProcess | undefined;
  private readonly listeners = new Set<() => void>();
  private demand = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoff = 500;
  private stopped = false;
  private startedAt = 0;
  private framesSinceGc = 0;

  constructor(
    private readonly source: CameraSource,
    private readonly log: Logger,
    private readonly watchdogMs = FRAME_WATCHDOG_MS,
  ) {}

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Someone wants frames: start if needed. Returns a release function. */
  acquire(): () => void {
    this.demand++;
    clearTimeout(this.idleTimer);
    if (!this.proc && !this.restartTimer) this.start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.demand === 0) {
        this.idleTimer = setTimeout(() => this.stopProcess(), IDLE_STOP_MS);
        this.idleTimer.unref();
      }
    };
  }

  onFrame(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next frame after now, and not one of a just-started camera's first (a snapshot that is fresh and exposed). */
  nextFrame(timeoutMs = 10_000): Promise<Buffer> {
    const release = this.acquire();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        release();
        reject(new Error('The camera sent no picture in time'));
      }, timeoutMs);
      const off = this.onFrame(() => {
        if (Date.now() - this.startedAt < WARMUP_MS) return;
        clearTimeout(timer);
        off();
        release();
        resolve(this.latest!);
      });
    });
  }

  /** For tests and diagnostics: kill ffmpeg as if it crashed. */
  killProcess(): void {
    this.proc?.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.restartTimer);
    this.stopProcess();
  }

  private start(): void {
    if (this.stopped) return;
    const proc = spawnCamera(this.source);
    this.proc = proc;
    this.startedAt = Date.now();
    let lastFrameAt = Date.now();
    const watchdog = setInterval(() => {
      if (this.proc !== proc) clearInterval(watchdog);
      else if (Date.now() - lastFrameAt > this.watchdogMs) {
        this.log.warn(`camera: no picture for ${this.watchdogMs / 1000} s; restarting the capture`);
        proc.child.kill('SIGKILL');
      }
    }, Math.min(1_000, this.watchdogMs / 2));
    watchdog.unref();
    proc.child.once('exit', () => clearInterval(watchdog));
    const onFrame = (jpeg: Buffer) => {
      lastFrameAt = Date.now();
      this.latest = jpeg;
      this.frameNo++;
      this.framesSinceGc += jpeg.length;
      if (this.framesSinceGc >= FRAME_GC_BYTES) {
        this.framesSinceGc = 0;
        collectYoungGarbage();
      }
      this.backoff = 500;
      for (const l of this.listeners) l();
    };
    const onError = (msg: string) => this.log.warn(`camera: ${msg}`);
    const splitter = proc.framing === 'jpeg' ? new JpegSplitter(onFrame, onError) : new MpjpegSplitter(onFrame, onError);
    proc.child.stdout.on('data', (d: Buffer) => splitter.push(d));
    const program = this.source.kind === 'rpicam' ? 'rpicam-vid' : 'ffmpeg';
    // a program that cannot start reports 'error' and may never report 'exit': either one ends this run
    const gone = (why: string) => {
      if (this.proc !== proc) return; // stopped on purpose, or already handled
      this.proc = undefined;
      this.log.warn(`camera: ${program} ${why}; restarting in ${this.backoff} ms`);
      if (this.demand > 0 && !this.stopped) {
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          if (this.demand > 0) this.start();
        }, this.backoff);
        this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
      }
    };
    proc.child.once('error', (err) => gone(`could not run: ${err.message}`));
    proc.child.once('exit', (code, signal) => gone(`exited (${signal ?? code})${proc.stderr() ? `: ${proc.stderr().split('\n').pop()}` : ''}`));
  }

  private stopProcess(): void {
    const p = this.proc;
    this.proc = undefined;
    p?.child.kill('SIGTERM');
  }
}
