// Print jobs: the selected file, start / pause / resume / cancel / restart, the scripts around them, progress,
// and the history record when a job ends. What each command and firmware event does in each state is decided by
// the table in job-state-machine.ts; this file carries the steps out. Commands are checked at once (409 from the
// table) and run in the background, so an API call never waits on the printer: a pause during a 5-minute M190
// answers now, and the state changes (push, MQTT) say when it took effect.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { PrinterBus } from '../events.js';
import type { FileStorage } from '../files/storage.js';
import type { Logger } from '../log.js';
import type { Position } from '../printer/parse.js';
import type { Printer } from '../printer/printer.js';
import { isOperational } from '../printer/state.js';
import { ServiceError } from '../service-error.js';
import { type FirmwareEvent, type JobCommand, type JobState, type Step, PRINTER_STATE_OF, decide } from './job-state-machine.js';
import { type HeaterLayout, heaterLayout, missingHeatersOff } from './heaters-off.js';
import { LONG_WAIT_MS, queryPosition, settle } from './printer-waits.js';
import { type JobProgress, printTimeOf, progressOf } from './job-progress.js';
import { type ResumeState, restoreCommands, targetsOf } from './pause-state.js';
import { FileLineSource, type LayerListener } from './file-line-source.js';
import type { History, JobResult } from './history.js';
import { type JobScripts, fill, parkPlaceholders } from './scripts.js';
import { type Checkpoint, type CheckpointFile, checkpointFrom, recoveryPreamble } from './checkpoint.js';
import { CheckpointSaver } from './checkpoint-saver.js';
import type { JsonStore } from '../store/json-store.js';

export type { JobProgress } from './job-progress.js';

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
  /** what a host pause recorded for resume; null after a hold (the firmware restores itself) */
  resumeState: ResumeState | null;
  /** a heat-up the pause ended early with M108: resume runs it again */
  abortedHeatup: string | undefined;
  ending: boolean;
  fromQueue: boolean;
  /** writes its checkpoints, a layer at a time but never faster than one a second (checkpoint-saver.ts) */
  checkpoints: CheckpointSaver;
}

export interface JobRunnerDeps {
  printer: Printer;
  storage: FileStorage;
  history: History;
  bus: PrinterBus;
  log: Logger;
  scripts: () => JobScripts;
  profile: () => { width: number; depth: number; height: number };
  /** the heaters the printer profile has (the cancel turns off these and any the printer reports) */
  heaters: () => HeaterLayout;
  checkpoints: JsonStore<CheckpointFile>;
}

const conflict = (msg: string) => new ServiceError(409, msg);

/** How long a step waits for a script before it gives up on that wait (and ends in a state that still works). */
const SCRIPT_WAIT_MS = 5 * 60_000;

export class JobRunner {
  selected: JobFile | undefined;
  private selectedBy: string | null = null;
  private job: ActiveJob | undefined;
  private phase: JobState = 'idle';
  /** a command that arrived mid-step (table: defer), applied when the step completes */
  private pending: 'pause' | 'resume' | 'cancel' | undefined;
  /** the file ran out while paused: the job finishes once it is printing again */
  private streamDone = false;
  /** every step takes the next number; a step that finds a newer one was replaced (a cancel during a pause) */
  private stepSeq = 0;
  private failReason = 'The printer failed';
  private lastEnded: { file: JobFile; printTime: number } | undefined;
  private recovering = false;
  /** the print failing now was cut short by the printer's power or board (a disconnect, a reset), not by the print
   * itself: its checkpoint stays, and /api/gantry/recovery offers to resume it at its last layer */
  private keepCheckpoint = false;
  /** why no print may start now (its printer is being removed), or undefined */
  private closedBecause: string | undefined;
  private readonly d: JobRunnerDeps;
  private readonly offs: (() => void)[] = [];

  constructor(deps: JobRunnerDeps) {
    this.d = deps;
    const { bus } = deps;
    const fail = (reason: string) => {
      this.failReason = reason;
      this.event('error');
    };
    this.offs.push(
      bus.on('printer.stream-done', () => this.event('stream-done')),
      bus.on('printer.error', (e) => {
        // the link lost (power lost at the printer, the cable pulled) while the host stayed up: the print's last
        // layer is offered for resuming, as after a restart. (The state change that comes first has started the
        // job's end already; it reads this once its file is closed.)
        if (e.reason === 'disconnect') this.keepCheckpoint = true;
        fail(e.message);
      }),
      bus.on('printer.disconnected', () => fail('The printer disconnected')),
      bus.on('printer.reset', () => {
        if (!this.active) return;
        if (this.phase === 'cancelling') {
          // what the user asked for happened, if not as planned: the rebooted board stopped everything, and its cancel
          // script must not run on a printer that no longer knows where its head is
          void this.end('cancelled', 'Cancelled (the printer reset)').catch((err: Error) => this.d.log.error(`job: ${err.message}`));
          return;
        }
        this.keepCheckpoint = true; // a brown-out, a watchdog: the same as a power loss
        fail('The printer reset during the print (it sent "start") and lost its position and temperatures');
      }),
      // a disconnect on request says no more than Offline: a job must not outlive its printer either way
      // (an error state says why in the printer's error, which its state event may come before: "The printer is
      // error" told nobody anything)
      bus.on('printer.state', (s) => !isOperational(s.state) && this.active && fail(deps.printer.error || `The printer is ${s.text.toLowerCase()}`)),
      bus.on('printer.action', (a) => {
        if (a.name === 'pause' || a.name === 'paused' || a.name === 'resume' || a.name === 'resumed' || a.name === 'cancel') this.event(`action:${a.name}`);
      }),
      bus.on('printer.prompt', (p) => this.event(p.prompt ? 'prompt-shown' : 'prompt-ended')),
      bus.on('printer.heating', (h) => h.command !== null && this.event('heatup')),
    );
  }

  /** Resolves once the file of a job cut short is closed. */
  stop(): Promise<void> {
    for (const off of this.offs) off();
    // a step still running (the M400 wait of Finishing among them) ends here, writing nothing after its stores close
    this.newStep();
    // Gantry stops mid-print: the newest layer's checkpoint goes to disk now (the unit waits for its stores)
    this.job?.checkpoints.flush();
    return this.job?.source.release() ?? Promise.resolve();
  }

  /** The job's state (the table's row); the printer model shows it as OctoPrint's state. */
  get state(): JobState {
    return this.phase;
  }

  get active(): boolean {
    return this.phase !== 'idle';
  }

  /** The file being printed, which must not be overwritten or deleted. */
  get printingPath(): string | undefined {
    return this.job?.file.path;
  }

  async select(path: string, print: boolean, user: string | null): Promise<void> {
    if (this.active) throw conflict('Printer is currently printing; cannot select another file');
    const entry = await this.d.storage.entry(path);
    if (entry.kind !== 'file') throw new ServiceError(415, `${path} is a folder, not a G-code file`);
    if (print && !this.d.printer.operational) throw conflict('Printer is not operational');
    this.selected = { path, name: entry.name, display: entry.meta.display, size: entry.size, date: entry.date, origin: 'local' };
    this.selectedBy = user;
    this.lastEnded = undefined; // the last print's 100 % is not this file's progress (OctoPrint resets it too)
    this.d.bus.emit('job.selected', { path, name: entry.name, size: entry.size, user });
    if (print) await this.start(user);
  }

  unselect(): void {
    if (this.active) throw conflict('Printer is currently printing; cannot unselect the file');
    const had = this.selected !== undefined;
    this.selected = undefined;
    this.lastEnded = undefined;
    if (had) this.d.bus.emit('job.deselected', {});
  }

  /**
   * pause / resume / toggle / cancel, from the API, MQTT or the page: checked against the table now (a refused
   * command throws the 409 before anything changes), carried out in the background. The state has already
   * changed when this returns (Pausing, Cancelling), so the answer and GET /api/job agree.
   */
  request(cmd: 'pause' | 'resume' | 'toggle' | 'cancel'): void {
    this.dispatch(cmd);
  }

  /** Refuses every start from now on with `reason` (a 409), whoever asks (the API, MQTT, its queue, the farm); undefined
   * allows them again. */
  refuseStarts(reason: string | undefined): void {
    this.closedBecause = reason;
  }

  /** starts are refused now (refuseStarts) */
  get refusingStarts(): boolean {
    return this.closedBecause !== undefined;
  }

  async start(user: string | null, fromQueue = false): Promise<void> {
    if (this.closedBecause) throw conflict(this.closedBecause);
    const { printer } = this.d;
    if (!printer.operational) throw conflict('Printer is not operational');
    this.check('start');
    if (this.recovering || printer.printing || printer.state === 'PAUSED') throw conflict('Printer is already printing; did you mean "restart"?');
    if (!this.selected) throw conflict('No file selected to print');
    const file = this.selected;
    // real(): a file a symlink has replaced since it was selected is gone as far as printing goes
    const abs = await this.d.storage.real(file.path).catch(() => undefined);
    const size = abs === undefined ? undefined : (await stat(abs).catch(() => undefined))?.size;
    if (size === undefined) throw new ServiceError(404, `${file.path} no longer exists`);
    this.check('start'); // a second start may have begun while we looked at the file
    if (this.closedBecause) throw conflict(this.closedBecause);
    file.size = size;
    await this.launch(file, user, fromQueue, 0, Date.now(), 0);
  }

  /** Restart a paused job from the beginning. */
  async restart(user: string | null): Promise<void> {
    this.check('restart');
    const job = this.job!;
    const file = job.file;
    this.newStep();
    job.ending = true;
    this.d.printer.stopStream(false);
    await this.end('cancelled', 'Restarted');
    this.selected = file;
    await this.start(user);
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
    if (this.active || this.recovering || printer.printing) throw conflict('Printer is busy');
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
      await printer.drained(LONG_WAIT_MS); // reheating can take a while
      const file: JobFile = { path: cp.path, name: entry.name, display: entry.meta.display, size: entry.size, date: entry.date, origin: 'local' };
      this.selected = file;
      await this.launch(file, cp.user ?? user, false, cp.filepos, cp.startedAt, cp.layer - 1);
    } finally {
      this.recovering = false;
    }
  }

  /**
   * Holds the stream between two lines: once the printer has executed everything sent, `fn` runs (with the head's
   * position) and may send its own commands (a timelapse parks the head); then the file carries on where it was,
   * in the motion modes it had set. Called from a `job.layer` listener, the hold starts right at the layer change.
   */
  hold(fn: (position: Position | undefined) => Promise<void>): void {
    const job = this.job;
    if (!job || job.ending || this.phase !== 'printing') return;
    const { printer } = this.d;
    job.source.paused = true;
    const run = async () => {
      await printer.drained();
      const pos = await queryPosition(this.d.printer, this.d.bus);
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
        // a pause requested meanwhile keeps the source paused; resume releases it
        if (this.job !== job || job.ending || this.phase !== 'printing') return;
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
    return progressOf({ ...job, filepos: job.source.filepos, size: job.file.size }, estimate);
  }

  /** Paused by Gantry, with the head's position saved: the printer is idle and resume puts the head back, so it may
   * be moved meanwhile. Not when the printer holds the print itself (M0, M600, a prompt): it runs nothing else until
   * it continues, so a move sent now would run in the middle of the print. */
  get pausedWithPositionSaved(): boolean {
    return this.phase === 'paused' && this.job?.resumeState?.position != null;
  }

  /** The Z of the job's lines sent so far (modes tracked as they go out), null without a job. */
  get sentZ(): number | null {
    return this.job ? this.job.source.modes.z : null;
  }

  current(): { file: JobFile | undefined; user: string | null } {
    // who selected the file until a print starts (OctoPrint's job user), then who started it
    return { file: this.job?.file ?? this.selected, user: this.job ? this.job.user : this.selected ? this.selectedBy : null };
  }

  // ---- the table -----------------------------------------------------------------------------------------

  /** Throws the table's 409 when `cmd` is refused in the current state. */
  private check(cmd: JobCommand): void {
    const out = decide(this.phase, cmd);
    if (out.kind === 'reject') throw conflict(out.reason);
  }

  /** A firmware event, or a deferred command applied late: never a 409 to anyone, only a log line. */
  private event(e: JobCommand | FirmwareEvent): void {
    try {
      this.dispatch(e);
    } catch (err) {
      this.d.log.warn(`job: ${e}: ${(err as Error).message}`);
    }
  }

  /** Does what the table's cell says. Refusals throw (the 409); every step runs in the background. */
  private dispatch(input: JobCommand | FirmwareEvent): void {
    const out = decide(this.phase, input);
    switch (out.kind) {
      case 'reject':
        throw conflict(out.reason);
      case 'noop':
        if (out.clear && this.pending !== 'cancel') this.pending = undefined;
        return;
      case 'defer':
        if (out.step === 'finish') this.streamDone = true;
        else if (this.pending !== 'cancel') this.pending = out.step; // a cancel waiting stays the last word
        this.d.log.info(`job: ${input} while ${this.phase}: applied when that completes`);
        return;
      case 'abort-heatup':
        this.abortHeatup();
        return;
      case 'run':
        this.run(out.step, input);
        return;
    }
  }

  private run(step: Step, why: JobCommand | FirmwareEvent): void {
    const job = this.job;
    if (!job && step !== 'fail') return; // start and restart have their own entry points; nothing else runs without a job
    const seq = this.newStep();
    let work: Promise<void>;
    switch (step) {
      case 'pause':
        work = this.pauseStep(job!, seq);
        break;
      case 'hold':
        work = this.holdStep(job!, seq, why);
        break;
      case 'resume':
        work = this.resumeStep(job!, seq, true);
        break;
      case 'release':
        work = this.resumeStep(job!, seq, false);
        break;
      case 'cancel':
        work = this.cancelStep(job!, seq);
        break;
      case 'finish':
        work = this.finishStep(job!, seq);
        break;
      case 'fail':
        work = this.end('failed', this.failReason);
        break;
      case 'start':
      case 'restart':
        return;
    }
    // never an unhandled rejection: a step that fails ends in a state from which every command still works
    work.catch((err: Error) => this.stepFailed(step, job, seq, err));
  }

  private newStep(): number {
    return ++this.stepSeq;
  }

  private stale(job: ActiveJob, seq: number): boolean {
    return this.job !== job || this.stepSeq !== seq;
  }

  /** Enters a job state; the printer model shows it (push, MQTT, GET /api/job). */
  private enter(phase: JobState): void {
    this.phase = phase;
    this.d.printer.setJobState(PRINTER_STATE_OF[phase]);
  }

  /** A step reached a state where deferred requests can apply: they go through the table again. */
  private settled(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      this.event(p);
      return;
    }
    if (this.phase === 'printing' && this.streamDone) {
      this.streamDone = false;
      this.event('stream-done');
    }
  }

  private stepFailed(step: Step, job: ActiveJob | undefined, seq: number, err: Error): void {
    this.d.log.warn(`job: ${step} failed: ${err.message}`);
    if (!job || this.stale(job, seq)) return; // replaced by another step
    if (!this.d.printer.operational) {
      void this.end('failed', 'The printer is not operational').catch((e: Error) => this.d.log.error(`job: ${e.message}`));
      return;
    }
    if (step === 'pause' || step === 'resume' || step === 'release' || step === 'hold') {
      // the file stays held: paused, from where resume and cancel work again
      job.source.paused = true;
      this.enterPaused(job, seq);
    } else void this.end(step === 'cancel' ? 'cancelled' : 'failed', step === 'cancel' ? 'Cancelled' : err.message).catch((e: Error) => this.d.log.error(`job: ${e.message}`));
  }

  // ---- steps ---------------------------------------------------------------------------------------------

  private async launch(file: JobFile, user: string | null, fromQueue: boolean, startAt: number, startedAt: number, layersDone: number): Promise<void> {
    const { printer } = this.d;
    const seq = this.newStep();
    this.pending = undefined;
    this.streamDone = false;
    this.keepCheckpoint = false; // (a link lost while idle said so to no job)
    this.enter('starting');
    let source: FileLineSource;
    try {
      // the real path, inside the files folder: a symlink leading out of it is never printed
      source = await FileLineSource.open(
        await this.d.storage.real(file.path),
        file.size,
        () => printer.pump(),
        (err) => {
          this.failReason = `Reading ${file.path} failed: ${err.message}`;
          this.event('error');
        },
        startAt,
      );
    } catch (err) {
      if (this.phase === 'starting' && this.stepSeq === seq) this.enter('idle');
      throw err;
    }
    if (this.phase !== 'starting' || this.stepSeq !== seq || !printer.operational) {
      // the printer failed while the file opened
      await source.close();
      if (this.phase === 'starting') this.enter('idle');
      throw conflict('Printer is not operational');
    }
    const meta = this.d.storage.metaFor(file.path);
    source.layerMarker = meta?.analysis?.layers.marker ?? 'comments';
    source.startLayerCount(layersDone);
    const hash = meta?.hash ?? '';
    const checkpoints = new CheckpointSaver(this.d.checkpoints, this.d.log);
    source.onLayer = this.onLayer;
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
      abortedHeatup: undefined,
      ending: false,
      fromQueue,
      checkpoints,
    };
    this.d.log.info(`printing ${file.path}${startAt ? ` from byte ${startAt}` : ''}`);
    this.phase = 'printing';
    printer.stream(source, true); // Printing
    this.d.bus.emit('job.started', { path: file.path, fromQueue });
    this.settled();
  }

  /**
   * Pausing → Paused. The file stops at once; the line in flight must finish first. A heat-up in flight is cut
   * short with M108 when the firmware has an emergency parser (and redone on resume); without one the pause takes
   * effect when it returns. While the firmware waits for the user (a prompt is open) it ends as a hold.
   */
  private async pauseStep(job: ActiveJob, seq: number): Promise<void> {
    const { printer } = this.d;
    this.enter('pausing');
    job.source.paused = true;
    job.pausedAt ??= Date.now();
    if (printer.heating) this.abortHeatup();
    const done = await settle(printer, {
      heldByPrompt: true,
      repeatM108: () => printer.heating !== undefined,
      replaced: () => this.stale(job, seq),
      onM108: () => (job.abortedHeatup ??= printer.heating),
    });
    if (done === 'replaced') return;
    if (done === 'held') {
      this.d.log.info('job: the printer waits for the user; paused without the pause script');
      job.resumeState = null;
      this.enterPaused(job, seq);
      return;
    }
    // where the head was, and the heater targets, so resume can put everything back
    const position = await queryPosition(this.d.printer, this.d.bus);
    if (this.stale(job, seq)) return;
    // targets as the firmware holds them now: an auto-report sent just before it ran the file's last M104 would
    // otherwise stand for ~1 s, and resume would heat back to the old temperature
    printer.commands(['M105']);
    await printer.drained();
    if (this.stale(job, seq)) return;
    job.resumeState = { position, targets: targetsOf(printer.temperatures) };
    printer.commands(fill(this.d.scripts().pause, this.placeholders(position)));
    await printer.drained(SCRIPT_WAIT_MS);
    this.enterPaused(job, seq);
  }

  /** The firmware holds the print itself (M600, runout, a prompt it waits on): Paused now, nothing to run. */
  private holdStep(job: ActiveJob, seq: number, why: JobCommand | FirmwareEvent): Promise<void> {
    this.d.log.info(`job: paused by the printer (${why})`);
    job.source.paused = true;
    job.pausedAt ??= Date.now();
    job.resumeState = null;
    this.enterPaused(job, seq);
    return Promise.resolve();
  }

  private enterPaused(job: ActiveJob, seq: number): void {
    if (this.stale(job, seq) || job.ending) return;
    this.enter('paused');
    this.d.bus.emit('job.paused', { path: job.file.path });
    this.settled();
  }

  /**
   * Resuming → Printing. `restore`: what a host pause recorded goes back first (an aborted heat-up, temperatures,
   * position, modes), and the file waits until the printer has done it; the lines would otherwise interleave.
   * A release (the firmware resumed by itself) restores nothing.
   */
  private async resumeStep(job: ActiveJob, seq: number, restore: boolean): Promise<void> {
    const { printer } = this.d;
    if (restore) this.enter('resuming'); // a release has nothing to wait for: Printing at once
    const lines = restore ? restoreCommands(job.resumeState, job.abortedHeatup, printer.temperatures, job.source.modes) : [];
    job.abortedHeatup = undefined;
    if (lines.length > 0) {
      printer.commands(lines);
      await printer.drained(LONG_WAIT_MS); // may include heating back up
    }
    if (this.stale(job, seq) || job.ending) return;
    if (job.pausedAt !== null) job.pausedTotal += Date.now() - job.pausedAt;
    job.pausedAt = null;
    job.resumeState = null;
    this.enter('printing');
    job.source.paused = false;
    printer.pump();
    this.d.bus.emit('job.resumed', { path: job.file.path });
    this.settled();
  }

  /**
   * Cancelling → Operational. The file stops; M108 (emergency parser) ends a heat-up, an M0 or a filament-change
   * wait at once; the line in flight finishes; then the cancel script with every heater off, and the job ends
   * only once the printer has acknowledged it, so Operational means the heaters really are off.
   */
  private async cancelStep(job: ActiveJob, seq: number): Promise<void> {
    const { printer } = this.d;
    this.pending = undefined;
    job.ending = true;
    this.enter('cancelling');
    printer.stopStream(false);
    if (printer.emergencyParser) printer.commands(['M108']);
    else if (printer.heating) this.d.log.info(`job: no emergency parser: the cancel takes effect when ${printer.heating} returns`);
    // M108 again while anything still runs: one that arrived before an M0 or a heat-up began its wait was lost
    const done = await settle(printer, { heldByPrompt: false, repeatM108: () => true, replaced: () => this.stale(job, seq) });
    if (done === 'replaced') return;
    const script = fill(this.d.scripts().cancel, this.placeholders(printer.position));
    printer.commands([...script, ...missingHeatersOff(script, heaterLayout(this.d.heaters(), printer))]);
    await printer.drained(SCRIPT_WAIT_MS).catch((err: Error) => this.d.log.warn(`job: the cancel script was not acknowledged: ${err.message}`));
    if (this.stale(job, seq)) return;
    await this.end('cancelled', 'Cancelled');
  }

  private async finishStep(job: ActiveJob, seq: number): Promise<void> {
    job.ending = true;
    this.enter('finishing');
    // as OctoPrint: the moves the firmware still holds run out before the print counts as done (M400's ok), so the
    // print time, the last timelapse frame and a queued next print wait for the nozzle to stop, and Finishing shows
    const { printer } = this.d;
    printer.stopStream(false); // every line went (a no-op), or the firmware said the file is done (its SD print)
    if (printer.operational) {
      printer.commands(['M400']);
      if ((await settle(printer, { heldByPrompt: false, repeatM108: () => false, replaced: () => this.stale(job, seq) })) === 'replaced') return;
    }
    await this.end('success', null);
  }

  /** M108 on the emergency path ends the heat-up the firmware is running; a pause notes it to run again on resume. */
  private abortHeatup(): void {
    const { printer } = this.d;
    const heat = printer.heating;
    if (!heat || !printer.operational) return;
    if (!printer.emergencyParser) {
      this.d.log.info(`job: no emergency parser: ${this.phase === 'pausing' ? 'the pause' : 'this'} takes effect when ${heat} returns`);
      return;
    }
    if (this.phase === 'pausing' && this.job) this.job.abortedHeatup = heat;
    this.d.log.info(`job: ending ${heat} early (M108)`);
    printer.commands(['M108']);
  }

  // ---- internals -----------------------------------------------------------------------------------------

  /**
   * A layer of the running job's file starts: its checkpoint, and `job.layer`. One function for the runner's whole
   * life, not a closure per job: V8 inlines it into the source's line loop (FileLineSource.observe), and a per-job
   * closure died with its job, taking that optimized code with it ("weak objects"): a recompile every print.
   */
  private readonly onLayer: LayerListener = (layer, filepos, modes) => {
    const job = this.job;
    if (!job) return;
    const t = this.d.printer.temperatures;
    const tools: Record<string, number> = {};
    for (const [i, h] of t.tools) if (h.target) tools[String(i)] = h.target;
    const base = { path: job.file.path, hash: job.hash, user: job.user, startedAt: job.startedAt };
    job.checkpoints.save(checkpointFrom({ ...base, targets: { tools, bed: t.bed?.target ?? null } }, layer, filepos, modes));
    this.d.bus.emit('job.layer', { path: job.file.path, layer, z: modes.z });
  };

  private placeholders(pos: Position | undefined): Record<string, number> {
    return parkPlaceholders(this.d.profile(), this.d.printer.firmware?.area, pos?.z ?? this.job?.source.modes.z ?? 0);
  }

  private async end(result: JobResult, reason: string | null): Promise<void> {
    const job = this.job;
    if (!job) {
      if (this.phase !== 'idle') this.enter('idle');
      return;
    }
    // the moment the print ended, as the history keeps it: not after the bookkeeping below (a checkpoint's fsync,
    // the source's close), which takes longer when several printers end at once and says nothing of the print
    const endedAt = Date.now();
    this.newStep(); // whatever step still runs for this job is over
    job.ending = true;
    this.job = undefined;
    // a failure that left the link up (the file could not be read) must not leave the engine taking lines
    this.d.printer.stopStream(false);
    this.pending = undefined;
    this.streamDone = false;
    const printTime = printTimeOf(job, endedAt);
    this.lastEnded = result === 'success' ? { file: job.file, printTime } : undefined;
    this.d.log.info(`${job.file.path}: ${result}${reason ? ` (${reason})` : ''} after ${printTime} s`);
    await job.source.close();
    job.source.onLayer = undefined;
    const keep = result === 'failed' && this.keepCheckpoint;
    this.keepCheckpoint = false;
    if (keep) {
      job.checkpoints.flush(); // the newest layer's, written now; it stays for recovery
      await this.d.checkpoints.settled();
    } else {
      await job.checkpoints.cancel(); // no layer's checkpoint may land after the job's end clears it
      await this.d.checkpoints.update((c) => (c.checkpoint = null)).catch(() => undefined);
    }
    const analysis = this.d.storage.metaFor(job.file.path)?.analysis;
    await this.d.history
      .append({
        id: job.id,
        printerId: this.d.printer.id,
        file: { path: job.file.path, name: job.file.name, display: job.file.display, size: job.file.size },
        hash: job.hash,
        user: job.user,
        start: job.startedAt / 1000,
        end: endedAt / 1000,
        printTime,
        result,
        reason,
        estimatedPrintTime: analysis?.estimatedPrintTime ?? null,
        filament: analysis?.filament ?? null,
      })
      .catch((err: Error) => this.d.log.error(`could not record the job in the history: ${err.message}`));
    await this.d.storage.recordPrint(job.file.path, result === 'success', printTime).catch(() => undefined);
    // Operational once the job is on record: a client that sees it and reads the history finds the job there
    this.enter('idle');
    this.d.bus.emit('job.ended', { path: job.file.path, result, reason, fromQueue: job.fromQueue, printTime, size: job.file.size, user: job.user });
  }
}
