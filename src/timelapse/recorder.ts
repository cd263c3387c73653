// Records a timelapse during a print: a fresh camera frame at each layer change (or every N seconds), saved as
// frame-NNNNNN.jpg in the job's own folder. With parking on, the stream is held at the layer change, the head
// moves away, the frame is taken once the printer has stopped, and the head goes back.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimelapseSettings } from '../config/settings.js';
import type { PrinterBus } from '../events.js';
import type { JobRunner } from '../jobs/job-runner.js';
import { fill, parkPlaceholders } from '../jobs/scripts.js';
import type { Logger } from '../log.js';
import type { Printer } from '../printer/printer.js';
import { type TimelapseLibrary, frameFileName, timelapseName } from './library.js';

/** What the recorder needs from a camera (the capture satisfies it). */
export interface FrameSource {
  /** keeps the camera running until the returned function is called */
  acquire(): () => void;
  /** the first frame captured after the call */
  nextFrame(timeoutMs?: number): Promise<Buffer>;
}

export interface RecorderDeps {
  bus: PrinterBus;
  jobs: JobRunner;
  printer: Printer;
  camera: () => FrameSource | undefined;
  settings: () => TimelapseSettings;
  volume: () => { width: number; depth: number; height: number };
  library: TimelapseLibrary;
  log: Logger;
}

export interface FinishedRecording {
  name: string;
  gcode: string;
  frames: number;
  result: 'success' | 'failed' | 'cancelled';
}

interface Recording {
  name: string;
  gcode: string;
  dir: string;
  camera: FrameSource;
  release: () => void;
  frames: number;
  lastFrameAt: number;
  timer: NodeJS.Timeout | undefined;
  /** captures still being written, awaited before the recording is handed on */
  pending: Set<Promise<void>>;
}

const FRAME_TIMEOUT_MS = 5_000;

export class TimelapseRecorder {
  private rec: Recording | undefined;
  /** a recording whose print ended but whose last frames and job.json are still being written */
  private finishing: string | undefined;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly d: RecorderDeps,
    private readonly onFinished: (r: FinishedRecording) => void,
  ) {
    this.offs.push(
      d.bus.on('job.started', (e) => void this.begin(e.path).catch((err: Error) => d.log.error(`timelapse: cannot start recording: ${err.message}`))),
      d.bus.on('job.layer', () => this.onLayer()),
      d.bus.on('job.ended', (e) => void this.end(e.result)),
    );
  }

  /** the name of the recording in progress, until its files are complete: a delete or render before then would
   * race the post-roll frame and job.json into the folder (seen as ENOTEMPTY from a delete) */
  get recording(): string | undefined {
    return this.rec?.name ?? this.finishing;
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    const rec = this.rec;
    this.rec = undefined;
    if (!rec) return;
    clearInterval(rec.timer);
    await Promise.allSettled([...rec.pending]);
    rec.release();
  }

  private async begin(gcode: string): Promise<void> {
    const s = this.d.settings();
    const camera = this.d.camera();
    if (s.type === 'off' || !camera || this.rec) return;
    const name = timelapseName(gcode, new Date());
    const dir = this.d.library.framesDir(name);
    await mkdir(dir, { recursive: true });
    // warm the camera up now so the first layer's frame is not the auto-exposure's first guess
    const rec: Recording = { name, gcode, dir, camera, release: camera.acquire(), frames: 0, lastFrameAt: 0, timer: undefined, pending: new Set() };
    this.rec = rec;
    this.d.log.info(`timelapse: recording ${name} (${s.type === 'timed' ? `every ${s.interval} s` : 'at each layer change'}${s.park ? ', parking the head' : ''})`);
    if (s.type === 'timed') {
      rec.timer = setInterval(() => {
        if (this.d.printer.state === 'PRINTING') this.capture(rec);
      }, Math.max(1, s.interval) * 1000);
    }
  }

  private onLayer(): void {
    const rec = this.rec;
    const s = this.d.settings();
    if (!rec || s.type !== 'zchange') return;
    if (Date.now() - rec.lastFrameAt < s.minDelay * 1000) return;
    rec.lastFrameAt = Date.now();
    if (!s.park) {
      this.capture(rec);
      return;
    }
    const v = this.d.volume();
    // runs synchronously inside the layer change, so the file stops right at the layer boundary
    this.d.jobs.hold(async (pos) => {
      const { printer } = this.d;
      if (!pos) {
        // parking without knowing the way back would resume the print in the wrong place
        this.d.log.warn('timelapse: the printer did not report its position; frame taken without parking');
        await this.capture(rec);
        return;
      }
      try {
        printer.commands([...fill(s.parkScript, parkPlaceholders(v, printer.firmware?.area, 0)), 'M400']);
        await printer.drained(60_000);
        await this.capture(rec);
      } finally {
        // back to where the head was, even if the park timed out: the print must go on from its own place
        printer.commands(fill(s.returnScript, { x: pos.x, y: pos.y, z: pos.z }));
      }
    });
  }

  /** Takes the next frame; numbers are given out at the trigger, so frames stay in order however long a save takes. */
  private capture(rec: Recording): Promise<void> {
    const n = ++rec.frames;
    const file = join(rec.dir, frameFileName(n));
    const p = rec.camera
      .nextFrame(FRAME_TIMEOUT_MS)
      .then(async (jpeg) => {
        // written aside and renamed: a crash never leaves a half-written frame in the set
        await writeFile(`${file}.part`, jpeg);
        await rename(`${file}.part`, file);
        this.d.bus.emit('timelapse.frame', { name: rec.name, frame: n });
      })
      .catch((err: Error) => this.d.log.warn(`timelapse: frame ${n} of ${rec.name} missed: ${err.message}`))
      .finally(() => rec.pending.delete(p));
    rec.pending.add(p);
    return p;
  }

  private async end(result: FinishedRecording['result']): Promise<void> {
    const rec = this.rec;
    if (!rec) return;
    this.rec = undefined;
    this.finishing = rec.name;
    clearInterval(rec.timer);
    let finished: FinishedRecording | undefined;
    try {
      // the last layer's frame may still be on its way
      await Promise.allSettled([...rec.pending]);
      // a timed recording also takes the finished part (OctoPrint's post-roll frame)
      if (this.d.settings().type === 'timed') await this.capture(rec);
      rec.release();
      const frames = (await this.d.library.frameFiles(rec.name)).length;
      this.d.log.info(`timelapse: ${rec.name} recorded ${frames} frames`);
      if (frames === 0) {
        await this.d.library.deleteFrames(rec.name);
        return;
      }
      await writeFile(join(rec.dir, 'job.json'), JSON.stringify({ gcode: rec.gcode, result, frames })).catch(() => undefined);
      finished = { name: rec.name, gcode: rec.gcode, frames, result };
    } finally {
      if (this.finishing === rec.name) this.finishing = undefined;
    }
    if (finished) this.onFinished(finished); // after `finishing` is cleared: a render it starts must not see "still recording"
  }
}
