// Renders recordings one at a time, in the background: ffmpeg at the lowest CPU priority (and so the lowest I/O
// priority too), one encoder thread, progress read from `-progress pipe:1`. The video is written under a hidden
// name and renamed when complete, so a listed video is always whole.
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { setPriority, totalmem } from 'node:os';
import { join } from 'node:path';
import type { TimelapseSettings } from '../config/settings.js';
import type { Logger } from '../log.js';
import type { TimelapseLibrary } from './library.js';
import { concatList, renderArgs, timelapseFps, x264Preset } from './render-args.js';

export interface RenderEvents {
  started(name: string): void;
  progress(name: string, percent: number): void;
  done(name: string, file: string): void;
  failed(name: string, error: string): void;
}

export interface RendererDeps {
  library: TimelapseLibrary;
  settings: () => TimelapseSettings;
  camera: () => { flipH: boolean; flipV: boolean; rotate90: boolean };
  log: Logger;
  events: RenderEvents;
  ffmpeg?: string;
}

const ffmpegBinary = (d: RendererDeps) => d.ffmpeg ?? process.env['GANTRY_FFMPEG'] ?? 'ffmpeg';

/** Whether a JPEG is complete: starts with SOI, ends with EOI (a frame cut short by a crash is skipped). */
export async function isCompleteJpeg(path: string): Promise<boolean> {
  const b = await readFile(path).catch(() => undefined);
  return !!b && b.length >= 128 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

export class TimelapseRenderer {
  private readonly queue: string[] = [];
  private current: { name: string; progress: number } | undefined;
  private child: ReturnType<typeof spawn> | undefined;
  private hardware: Promise<boolean> | undefined;
  private stopped = false;

  constructor(private readonly d: RendererDeps) {}

  /** the render in progress and its percentage */
  get rendering(): { name: string; progress: number } | undefined {
    return this.current;
  }

  isQueued(name: string): boolean {
    return this.current?.name === name || this.queue.includes(name);
  }

  enqueue(name: string): void {
    if (this.isQueued(name)) return;
    this.queue.push(name);
    this.next();
  }

  /** Ends the render in progress (its frames are kept: listed as unrendered, to render later) and waits until
   * its ffmpeg is gone and its partial file removed: nothing is written in the folder after this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    this.child?.kill('SIGKILL');
    await this.running;
  }

  /** the render in progress, settled once its files are cleaned up */
  private running: Promise<void> | undefined;

  private next(): void {
    if (this.current || this.stopped) return;
    const name = this.queue.shift();
    if (!name) return;
    this.current = { name, progress: 0 };
    this.d.events.started(name);
    this.running = this.renderOne(name)
      .catch((err: Error) => this.d.log.error(`timelapse: ${name}: ${err.message}`))
      .finally(() => {
        this.current = undefined;
        this.running = undefined;
        this.next();
      });
  }

  private async renderOne(name: string): Promise<void> {
    try {
      await this.render(name);
      this.d.log.info(`timelapse: rendered ${name}.mp4`);
      this.d.events.done(name, `${name}.mp4`);
    } catch (err) {
      if (this.stopped) {
        this.d.log.info(`timelapse: rendering ${name} stopped (Gantry is stopping); its frames are kept`);
        return;
      }
      this.d.log.error(`timelapse: rendering ${name} failed: ${(err as Error).message}; its frames are kept`);
      this.d.events.failed(name, (err as Error).message);
    }
  }

  private async render(name: string): Promise<void> {
    const { library } = this.d;
    const s = this.d.settings();
    const all = await library.frameFiles(name);
    const frames: string[] = [];
    for (const f of all) {
      if (this.stopped) throw new Error('stopped'); // reading every frame takes seconds on a card: not for a stop to wait on
      if (await isCompleteJpeg(f)) frames.push(f);
    }
    if (frames.length === 0) throw new Error('no usable frames');
    const fps = timelapseFps(frames.length, s.fps, s.targetSeconds);
    const dir = library.framesDir(name);
    const listFile = join(dir, 'frames.txt');
    await writeFile(listFile, concatList(frames));
    const part = join(library.root, `.${name}.mp4.part`);
    const hardware = s.hardwareEncoder && (await this.hardwareWorks());
    const { flipH, flipV, rotate90 } = this.d.camera();
    const args = renderArgs({ listFile, out: part, fps, postRoll: s.postRoll, flipH, flipV, rotate90, encoder: hardware ? 'h264_v4l2m2m' : 'libx264', preset: x264Preset(s.preset, totalmem()), threads: s.threads });
    const totalUs = (frames.length / fps + s.postRoll) * 1e6;
    try {
      await this.run(args, (us) => {
        const pct = Math.min(99, Math.floor((100 * us) / totalUs));
        if (this.current && pct > this.current.progress) {
          this.current.progress = pct;
          this.d.events.progress(name, pct);
        }
      });
      await library.publish(name, part, frames[frames.length - 1]);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    await library.deleteFrames(name);
  }

  private run(args: string[], onTime: (us: number) => void): Promise<void> {
    // stopped while the frames were checked and listed: no ffmpeg for a render nobody waits for
    if (this.stopped) return Promise.reject(new Error('stopped'));
    return new Promise((resolve, reject) => {
      const child = spawn(ffmpegBinary(this.d), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      if (child.pid) {
        try {
          setPriority(child.pid, 19); // printing (and the camera) come first
        } catch {
          /* not permitted: runs at normal priority */
        }
      }
      let err = '';
      let buf = '';
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('out_time_us=')) {
            const us = Number(line.slice(12));
            if (Number.isFinite(us)) onTime(us);
          }
        }
      });
      child.once('error', (e) => reject(new Error(`cannot run ffmpeg: ${e.message}`)));
      child.once('exit', (code, signal) => {
        this.child = undefined;
        if (code === 0) resolve();
        else reject(new Error(`ffmpeg exited with ${signal ?? code}${err.trim() ? `: ${err.trim().split('\n').pop()}` : ''}`));
      });
    });
  }

  /** Probed once: the Pi's hardware H.264 encoder, where it exists and works. */
  private hardwareWorks(): Promise<boolean> {
    this.hardware ??= new Promise<boolean>((resolve) => {
      const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '5', '-c:v', 'h264_v4l2m2m', '-b:v', '2M', '-f', 'null', '-'];
      const child = spawn(ffmpegBinary(this.d), args, { stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('exit', (code) => resolve(code === 0));
    }).then((ok) => {
      this.d.log.info(ok ? 'timelapse: using the hardware H.264 encoder' : 'timelapse: the hardware H.264 encoder does not work here; using libx264');
      return ok;
    });
    return this.hardware;
  }
}
