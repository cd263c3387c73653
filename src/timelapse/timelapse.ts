// Timelapse as one service: the recorder, the render queue and the library, with OctoPrint's rules for when to
// render (renderAfterPrint) and a size budget that prunes the oldest videos and frames.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimelapseSettings } from '../config/settings.js';
import { ServiceError } from '../service-error.js';
import { parseJsonSafe } from '../store/safe-json.js';
import { type FrameSetEntry, TimelapseLibrary, type VideoEntry, validTimelapseName } from './library.js';
import { type FinishedRecording, type RecorderDeps, TimelapseRecorder } from './recorder.js';
import { TimelapseRenderer } from './renderer.js';

/** What the recorder needs (it gets the library from here), plus where timelapses live and the camera's orientation. */
export interface TimelapseDeps extends Omit<RecorderDeps, 'library'> {
  dir: string;
  cameraSettings: () => { flipH: boolean; flipV: boolean; rotate90: boolean };
}

export interface UnrenderedEntry extends FrameSetEntry {
  recording: boolean;
  rendering: boolean;
  processing: boolean;
  progress: number | null;
}

export class TimelapseService {
  readonly library: TimelapseLibrary;
  private readonly recorder: TimelapseRecorder;
  private readonly renderer: TimelapseRenderer;
  /** which G-code each recording came from (render events name it); read from the frames' job.json after a restart */
  private readonly gcodeOf = new Map<string, string>();

  private constructor(private readonly d: TimelapseDeps) {
    this.library = new TimelapseLibrary(d.dir);
    const emit = (name: string, state: 'started' | 'progress' | 'done' | 'failed', progress: number, error: string | null = null) =>
      d.bus.emit('timelapse.render', { name, state, progress, file: state === 'done' ? `${name}.mp4` : null, error, gcode: this.gcodeOf.get(name) ?? null });
    this.renderer = new TimelapseRenderer({
      library: this.library,
      settings: d.settings,
      camera: d.cameraSettings,
      log: d.log,
      events: {
        started: (name) => emit(name, 'started', 0),
        progress: (name, pct) => emit(name, 'progress', pct),
        done: (name) => {
          emit(name, 'done', 100);
          void this.prune();
        },
        failed: (name, error) => emit(name, 'failed', 0, error),
      },
    });
    this.recorder = new TimelapseRecorder({ ...d, library: this.library }, (r) => this.recorded(r));
  }

  static async open(d: TimelapseDeps): Promise<TimelapseService> {
    const s = new TimelapseService(d);
    await s.library.init();
    return s;
  }

  get enabled(): boolean {
    return this.d.camera() !== undefined && this.d.settings().type !== 'off';
  }

  videos(): Promise<VideoEntry[]> {
    return this.library.videos();
  }

  async unrendered(): Promise<UnrenderedEntry[]> {
    const recording = this.recorder.recording;
    const rendering = this.renderer.rendering;
    return (await this.library.frameSets()).map((f) => ({
      ...f,
      recording: f.name === recording,
      rendering: f.name === rendering?.name,
      processing: this.renderer.isQueued(f.name),
      progress: f.name === rendering?.name ? rendering.progress : null,
    }));
  }

  async deleteVideo(file: string): Promise<void> {
    if (!validTimelapseName(file) || !file.endsWith('.mp4')) throw new ServiceError(404, `No timelapse named ${file}`);
    if (!(await this.library.videos()).some((v) => v.name === file)) throw new ServiceError(404, `No timelapse named ${file}`);
    await this.library.deleteVideo(file);
    this.d.bus.emit('timelapse.changed', {});
  }

  async render(name: string): Promise<void> {
    const set = await this.frameSet(name);
    if (set.name === this.recorder.recording) throw new ServiceError(409, `${name} is still recording`);
    if (this.renderer.isQueued(name)) throw new ServiceError(409, `${name} is already being rendered`);
    if (!this.gcodeOf.has(name)) {
      const job = await readFile(join(this.library.framesDir(name), 'job.json'), 'utf8').then((t) => parseJsonSafe(t) as { gcode?: unknown } | null).catch(() => undefined);
      if (typeof job?.gcode === 'string') this.gcodeOf.set(name, job.gcode);
    }
    this.renderer.enqueue(name);
  }

  async deleteUnrendered(name: string): Promise<void> {
    await this.frameSet(name);
    if (name === this.recorder.recording || this.renderer.isQueued(name)) throw new ServiceError(409, `${name} is recording or rendering; it cannot be deleted now`);
    await this.library.deleteFrames(name);
    this.d.bus.emit('timelapse.changed', {});
  }

  videoPath(file: string): string {
    if (!validTimelapseName(file)) throw new ServiceError(404, `No timelapse named ${file}`);
    return this.library.videoPath(file);
  }

  async stop(): Promise<void> {
    await this.recorder.stop();
    await this.renderer.stop();
  }

  private async frameSet(name: string): Promise<FrameSetEntry> {
    const set = validTimelapseName(name) ? (await this.library.frameSets()).find((f) => f.name === name) : undefined;
    if (!set) throw new ServiceError(404, `No unrendered timelapse named ${name}`);
    return set;
  }

  private recorded(r: FinishedRecording): void {
    this.gcodeOf.set(r.name, r.gcode);
    const when = this.d.settings().renderAfterPrint;
    const render = when === 'always' || (when === 'success' && r.result === 'success') || (when === 'failure' && r.result !== 'success');
    if (render) this.renderer.enqueue(r.name);
    else this.d.log.info(`timelapse: ${r.name} kept unrendered (renderAfterPrint: ${when})`);
    void this.prune();
  }

  private async prune(): Promise<void> {
    const keep = new Set<string>();
    const rec = this.recorder.recording;
    if (rec) keep.add(rec);
    for (const u of await this.unrendered()) if (u.processing) keep.add(u.name);
    const removed = await this.library.prune(this.d.settings().budgetMB * 1024 * 1024, keep).catch((err: Error) => {
      this.d.log.warn(`timelapse: pruning failed: ${err.message}`);
      return [];
    });
    if (removed.length) {
      this.d.log.info(`timelapse: over the ${this.d.settings().budgetMB} MB budget; removed ${removed.join(', ')}`);
      this.d.bus.emit('timelapse.changed', {});
    }
  }
}

/** The config as OctoPrint's API and push `timelapse` message show it, plus Gantry's own fields. */
export function timelapseConfigView(s: TimelapseSettings): Record<string, unknown> {
  const { type, fps, postRoll, interval, minDelay, renderAfterPrint, targetSeconds, park, preset, threads, hardwareEncoder, budgetMB } = s;
  return { type, fps, postRoll, interval, minDelay, retractionZHop: 0, renderAfterPrint, targetSeconds, park, preset, threads, hardwareEncoder, budgetMB };
}
