// Print jobs: the selected file, start / pause / resume / cancel / restart with OctoPrint's rules, the scripts
// around them, progress, and the history record when a job ends. Firmware host actions drive it too.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { EventBus } from '../events.js';
import type { FileStorage } from '../files/storage.js';
import type { Logger } from '../log.js';
import type { Position } from '../printer/parse.js';
import type { Printer } from '../printer/printer.js';
import { ServiceError } from '../service-error.js';
import { FileLineSource } from './file-line-source.js';
import type { History, JobResult } from './history.js';
import { type JobScripts, fill, parkPlaceholders } from './scripts.js';
import { type Checkpoint, type CheckpointFile, checkpointFrom, recoveryPreamble } from './checkpoint.js';
import type { JsonStore } from '../store/json-store.js';

export interface JobFile {
  path: string;
  name: string;
  display: string;
  size: number;
  date: number;
  origin: 'local';
}

interface ActiveJob {
  id: string;
  file: JobFile;
  hash: string;
  user: string | null;
  source: FileLineSource;
  startedAt: number;
  pausedAt: number | null;
  pausedTotal: number;
  resumeState: { position: Position | undefined; targets: { tools: Map<number, number>; bed: number | null } } | null;
  ending: boolean;
  fromQueue: boolean;
}

export interface JobProgress {
  completion: number | null;
  filepos: number | null;
  printTime: number | null;
  printTimeLeft: number | null;
  printTimeLeftOrigin: string | null;
}

export interface JobRunnerDeps {
  printer: Printer;
  storage: FileStorage;
  history: History;
  bus: EventBus;
  log: Logger;
  scripts: () => JobScripts;
  profile: () => { width: number; depth: number; height: number };
  checkpoints: JsonStore<CheckpointFile>;
}

const conflict = (msg: string) => new ServiceError(409, msg);

export class JobRunner {
  selected: JobFile | undefined;
  private job: ActiveJob | undefined;
  private lastEnded: { file: JobFile; printTime: number } | undefined;
  private recovering = false;
  private readonly d: JobRunnerDeps;
  private readonly offs: (() => void)[] = [];

  constructor(deps: JobRunnerDeps) {
    this.d = deps;
    const { bus } = deps;
    this.offs.push(
      bus.on('printer.stream-done', () => void this.finish()),
      bus.on('printer.error', (e) => {
        if (this.job) void this.end('failed', e.message);
      }),
      bus.on('printer.disconnected', () => {
        if (this.job) void this.end('failed', 'The printer disconnected');
      }),
      bus.on('printer.action', (a) => void this.onAction(a.name).catch((err: Error) => deps.log.warn(`host action ${a.name}: ${err.message}`))),
    );
  }

  stop(): void {
    for (const off of this.offs) off();
  }

  get active(): boolean {
    return this.job !== undefined;
  }

  /** The file being printed, which must not be overwritten or deleted. */
  get printingPath(): string | undefined {
    return this.job?.file.path;
  }

  async select(path: string, print: boolean, user: string | null): Promise<void> {
    if (this.job) throw conflict('Printer is currently printing; cannot select another file');
    const entry = await this.d.storage.entry(path);
    if (entry.kind !== 'file') throw new ServiceError(415, `${path} is a folder, not a G-code file`);
    if (print && !this.d.printer.operational) throw conflict('Printer is not operational');
    this.selected = { path, name: entry.name, display: entry.meta.display, size: entry.size, date: entry.date, origin: 'local' };
    if (print) await this.start(user);
  }

  unselect(): void {
    if (this.job) throw conflict('Printer is currently printing; cannot unselect the file');
    this.selected = undefined;
  }

  async start(user: string | null, fromQueue = false): Promise<void> {
    const { printer } = this.d;
    if (!printer.operational) throw conflict('Printer is not operational');
    if (this.job || this.recovering || printer.printing || printer.state === 'PAUSED') throw conflict('Printer is already printing; did you mean "restart"?');
    if (!this.selected) throw conflict('No file selected to print');
    const file = this.selected;
    // real(): a file a symlink has replaced since it was selected is gone as far as printing goes
    const abs = await this.d.storage.real(file.path).catch(() => undefined);
    const size = abs === undefined ? undefined : (await stat(abs).catch(() => undefined))?.size;
    if (size === undefined) throw new ServiceError(404, `${file.path} no longer exists`);
    file.size = size;
    await this.launch(file, user, fromQueue, 0, Date.now(), 0);
  }

  /** The interrupted job, if Gantry stopped (or the power went) mid-print. */
  get checkpoint(): Checkpoint | null {
    return this.d.checkpoints.data.checkpoint;
  }

  async discardCheckpoint(): Promise<void> {
    await this.d.checkpoints.update((c) => (c.checkpoint = null));
  }

  /** Resumes the interrupted job from the start of its last layer: reheat, home X/Y, restore Z, E and fan. */
  async recover(user: string | null): Promise<void> {
    const { printer } = this.d;
    const cp = this.checkpoint;
    if (!cp) throw new ServiceError(404, 'No interrupted print to resume');
    if (!printer.operational) throw conflict('Printer is not operational');
    if (this.job || this.recovering || printer.printing) throw conflict('Printer is busy');
    const meta = this.d.storage.metaFor(cp.path);
    if (!meta) throw new ServiceError(404, `${cp.path} no longer exists`);
    if (meta.hash !== cp.hash) throw conflict(`${cp.path} changed since the print was interrupted; it cannot be resumed`);
    const entry = await this.d.storage.entry(cp.path);
    if (entry.kind !== 'file') throw new ServiceError(404, `${cp.path} no longer exists`);
    this.recovering = true;
    try {
      this.d.log.info(`resuming ${cp.path} at layer ${cp.layer} (Z ${cp.z}, byte ${cp.filepos})`);
      const height = this.d.profile().height;
      printer.commands(recoveryPreamble(cp, Math.min(height, cp.z + 5)));
      await printer.drained(3_600_000); // reheating can take a while
      const file: JobFile = { path: cp.path, name: entry.name, display: entry.meta.display, size: entry.size, date: entry.date, origin: 'local' };
      this.selected = file;
      await this.launch(file, cp.user ?? user, false, cp.filepos, cp.startedAt, cp.layer - 1);
    } finally {
      this.recovering = false;
    }
  }

  private async launch(file: JobFile, user: string | null, fromQueue: boolean, startAt: number, startedAt: number, layersDone: number): Promise<void> {
    const { printer } = this.d;
    const abs = await this.d.storage.real(file.path);
    const source = await FileLineSource.open(
      abs,
      file.size,
      () => printer.pump(),
      (err) => void this.end('failed', `Reading ${file.path} failed: ${err.message}`),
      startAt,
    );
    const meta = this.d.storage.metaFor(file.path);
    source.layerMarker = meta?.analysis?.layers.marker ?? 'comments';
    source.startLayerCount(layersDone);
    const hash = meta?.hash ?? '';
    const base = { path: file.path, hash, user, startedAt };
    source.onLayer = (layer, filepos, modes) => {
      const t = printer.temperatures;
      const tools: Record<string, number> = {};
      for (const [i, h] of t.tools) if (h.target) tools[String(i)] = h.target;
      const cp = checkpointFrom({ ...base, targets: { tools, bed: t.bed?.target ?? null } }, layer, filepos, modes);
      void this.d.checkpoints.update((c) => (c.checkpoint = cp)).catch((err: Error) => this.d.log.warn(`checkpoint not saved: ${err.message}`));
      this.d.bus.emit('job.layer', { path: file.path, layer, z: modes.z });
    };
    this.job = {
      id: randomUUID(),
      file,
      hash,
      user,
      source,
      startedAt,
      pausedAt: null,
      pausedTotal: 0,
      resumeState: null,
      ending: false,
      fromQueue,
    };
    this.d.log.info(`printing ${file.path}${startAt ? ` from byte ${startAt}` : ''}`);
    printer.stream(source, true);
    this.d.bus.emit('job.started', { path: file.path, fromQueue });
  }

  async pause(action: 'pause' | 'resume' | 'toggle'): Promise<void> {
    const { printer } = this.d;
    if (!this.job || this.job.ending) throw conflict('Printer is neither printing nor paused');
    const paused = printer.state === 'PAUSED';
    if (action === 'toggle') action = paused ? 'resume' : 'pause';
    if (action === 'pause') {
      if (printer.state !== 'PRINTING') return; // already pausing or paused: nothing to do (OctoPrint answers 204)
      await this.doPause(true);
    } else {
      if (!paused) return;
      await this.doResume(true);
    }
  }

  async cancel(): Promise<void> {
    const job = this.job;
    if (!job || job.ending) throw conflict('Printer is neither printing nor paused');
    const { printer } = this.d;
    job.ending = true;
    printer.setJobState('CANCELLING');
    printer.stopStream(false);
    await printer.drained().catch(() => undefined);
    const position = this.d.printer.position;
    printer.commands(fill(this.d.scripts().cancel, this.placeholders(position)));
    await this.end('cancelled', 'Cancelled');
  }

  /** Restart a paused job from the beginning. */
  async restart(user: string | null): Promise<void> {
    if (!this.job || this.d.printer.state !== 'PAUSED') throw conflict('Printer is not paused');
    const file = this.job.file;
    this.job.ending = true;
    this.d.printer.stopStream(true);
    await this.end('cancelled', 'Restarted');
    this.selected = file;
    await this.start(user);
  }

  /**
   * Holds the stream between two lines: once the printer has executed everything sent, `fn` runs (with the head's
   * position) and may send its own commands (a timelapse parks the head); then the file carries on where it was,
   * in the motion modes it had set. Called from a `job.layer` listener, the hold starts right at the layer change.
   */
  hold(fn: (position: Position | undefined) => Promise<void>): void {
    const job = this.job;
    if (!job || job.ending || this.d.printer.state !== 'PRINTING') return;
    const { printer } = this.d;
    job.source.paused = true;
    const run = async () => {
      await printer.drained();
      const pos = await this.queryPosition();
      try {
        await fn(pos);
      } finally {
        // whatever fn did (or failed to finish), the file goes on in the modes it had set
        const m = job.source.modes;
        printer.commands([m.absoluteXYZ ? 'G90' : 'G91', m.absoluteE ? 'M82' : 'M83', `G1 F${m.feedrate}`]);
      }
      await printer.drained();
    };
    run()
      .catch((err: Error) => this.d.log.warn(`hold at layer change: ${err.message}`))
      .finally(() => {
        // a pause requested meanwhile keeps the source paused; doResume releases it
        if (this.job !== job || job.ending || this.d.printer.state !== 'PRINTING') return;
        job.source.paused = false;
        printer.pump();
      });
  }

  /** Progress; `estimate` is the analysis's print time, blended with what the print has shown so far. */
  progress(estimate: number | null = null): JobProgress {
    const job = this.job;
    if (!job) {
      if (this.lastEnded) return { completion: 100, filepos: this.lastEnded.file.size, printTime: this.lastEnded.printTime, printTimeLeft: 0, printTimeLeftOrigin: null };
      return { completion: null, filepos: null, printTime: null, printTimeLeft: null, printTimeLeftOrigin: null };
    }
    const filepos = job.source.filepos;
    const completion = job.file.size > 0 ? (100 * filepos) / job.file.size : 0;
    const printTime = this.printTime(job);
    const linear = completion > 0.5 ? (printTime * (100 - completion)) / completion : null;
    if (estimate !== null && estimate > 0) {
      // the analysis knows the file's shape (slow first layer, fast infill); observed progress knows this
      // printer. Trust the analysis early and the observation more as the print goes on.
      const analysisLeft = Math.max(0, estimate * (1 - completion / 100));
      const w = Math.min(1, completion / 100);
      const left = linear === null ? analysisLeft : (1 - w) * analysisLeft + w * linear;
      return { completion, filepos, printTime, printTimeLeft: Math.round(left), printTimeLeftOrigin: linear === null ? 'analysis' : 'mixed-analysis' };
    }
    return { completion, filepos, printTime, printTimeLeft: linear === null ? null : Math.round(linear), printTimeLeftOrigin: linear === null ? null : 'linear' };
  }

  current(): { file: JobFile | undefined; user: string | null } {
    return { file: this.job?.file ?? this.selected, user: this.job?.user ?? null };
  }

  // ---- internals ---------------------------------------------------------------------------------------------

  private printTime(job: ActiveJob): number {
    const now = job.pausedAt ?? Date.now();
    return Math.max(0, Math.round((now - job.startedAt - job.pausedTotal) / 1000));
  }

  private async doPause(runScript: boolean): Promise<void> {
    const job = this.job!;
    const { printer } = this.d;
    printer.setJobState('PAUSING');
    job.source.paused = true;
    job.pausedAt = Date.now();
    await printer.drained();
    // where the head was, and the heater targets, so resume can put everything back
    const pos = await this.queryPosition();
    // targets as the firmware holds them now: an auto-report sent just before it ran the file's last M104 would
    // otherwise stand for ~1 s, and resume would heat back to the old temperature
    printer.commands(['M105']);
    await printer.drained();
    const t = printer.temperatures;
    const targets = { tools: new Map<number, number>(), bed: t.bed?.target ?? null };
    for (const [i, h] of t.tools) if (h.target !== null) targets.tools.set(i, h.target);
    job.resumeState = { position: pos, targets };
    if (runScript) printer.commands(fill(this.d.scripts().pause, this.placeholders(pos)));
    await printer.drained();
    if (this.job === job && !job.ending) {
      printer.setJobState('PAUSED');
      this.d.bus.emit('job.paused', { path: job.file.path });
    }
  }

  private async doResume(runScript: boolean): Promise<void> {
    const job = this.job!;
    const { printer } = this.d;
    printer.setJobState('RESUMING');
    if (runScript && job.resumeState) printer.commands(this.restoreCommands(job));
    await printer.drained(600_000); // may include heating back up
    if (job.pausedAt !== null) job.pausedTotal += Date.now() - job.pausedAt;
    job.pausedAt = null;
    if (this.job !== job || job.ending) return;
    printer.setJobState('PRINTING');
    job.source.paused = false;
    printer.pump();
    this.d.bus.emit('job.resumed', { path: job.file.path });
  }

  /** Where the head is once every move has finished (M400 then M114); undefined if the firmware does not say. */
  private queryPosition(): Promise<Position | undefined> {
    const position = new Promise<Position | undefined>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, 10_000);
      const off = this.d.bus.on('printer.position', (p) => {
        clearTimeout(timer);
        off();
        resolve(p.position);
      });
    });
    this.d.printer.commands(['M400', 'M114']);
    return position;
  }

  /** Back to the print: temperatures, position, extrusion state and modes as they were at the pause. */
  private restoreCommands(job: ActiveJob): string[] {
    const s = job.resumeState!;
    const t = this.d.printer.temperatures;
    const out: string[] = [];
    for (const [i, target] of s.targets.tools) {
      const now = t.tools.get(i);
      if (target > 0 && (now?.target ?? 0) < target) out.push(`M109 T${i} S${target}`);
    }
    if (s.targets.bed !== null && s.targets.bed > 0 && (t.bed?.target ?? 0) < s.targets.bed) out.push(`M190 S${s.targets.bed}`);
    const modes = job.source.modes;
    const p = s.position;
    if (p) {
      out.push('G90', `G1 X${p.x} Y${p.y} F6000`, `G1 Z${p.z} F600`);
      out.push('M83', 'G1 E2 F2700');
      if (modes.absoluteE) out.push('M82', `G92 E${p.e}`);
    }
    out.push(modes.absoluteXYZ ? 'G90' : 'G91', `G1 F${modes.feedrate}`);
    return out;
  }

  private placeholders(pos: Position | undefined): Record<string, number> {
    return parkPlaceholders(this.d.profile(), this.d.printer.firmware?.area, pos?.z ?? this.job?.source.modes.z ?? 0);
  }

  private async onAction(name: string): Promise<void> {
    if (!this.job || this.job.ending) return;
    const state = this.d.printer.state;
    if (name === 'pause' && state === 'PRINTING') await this.doPause(true);
    else if (name === 'paused' && state === 'PRINTING') await this.doPause(false); // the printer paused itself (M600, runout)
    else if (name === 'resume' && state === 'PAUSED') await this.doResume(true);
    else if (name === 'resumed' && state === 'PAUSED') await this.doResume(false);
    else if (name === 'cancel') await this.cancel();
  }

  private async finish(): Promise<void> {
    const job = this.job;
    if (!job || job.ending) return;
    job.ending = true;
    this.d.printer.setJobState('FINISHING');
    await this.end('success', null);
  }

  private async end(result: JobResult, reason: string | null): Promise<void> {
    const job = this.job;
    if (!job) return;
    job.ending = true;
    this.job = undefined;
    await job.source.close();
    job.source.onLayer = undefined;
    await this.d.checkpoints.update((c) => (c.checkpoint = null)).catch(() => undefined);
    const printTime = this.printTime(job);
    if (this.d.printer.operational) this.d.printer.setJobState('OPERATIONAL');
    this.lastEnded = result === 'success' ? { file: job.file, printTime } : undefined;
    this.d.log.info(`${job.file.path}: ${result}${reason ? ` (${reason})` : ''} after ${printTime} s`);
    const analysis = this.d.storage.metaFor(job.file.path)?.analysis;
    await this.d.history
      .append({
        id: job.id,
        file: { path: job.file.path, name: job.file.name, display: job.file.display, size: job.file.size },
        hash: job.hash,
        user: job.user,
        start: job.startedAt / 1000,
        end: Date.now() / 1000,
        printTime,
        result,
        reason,
        estimatedPrintTime: analysis?.estimatedPrintTime ?? null,
        filament: analysis?.filament ?? null,
      })
      .catch((err: Error) => this.d.log.error(`could not record the job in the history: ${err.message}`));
    await this.d.storage.recordPrint(job.file.path, result === 'success', printTime).catch(() => undefined);
    this.d.bus.emit('job.ended', { path: job.file.path, result, reason, fromQueue: job.fromQueue });
  }
}
