// The G-code host protocol as a pure state machine. Lines in (`receive`), time in (`tick`), commands in
// (`send`, `stream`, `emergencyStop`); bytes out and events out through the sink. No I/O, no timers, no clock:
// the caller owns all of those, so every behaviour here is tested exactly with scripted transcripts.

import { M, commandKey, isLongRunning, isToolChange, numberedLine, param, stripComment } from './gcode.js';
import { type ErrorReason, classifyError, errorText } from './errors.js';
import { type FirmwareInfo, type FlavorQuirks, detectFlavor, parseArea, parseCapability, parseFirmwareLine, quirksFor } from './firmware.js';
import {
  type HostAction,
  type Position,
  type TemperatureReading,
  looksLikeTemperature,
  parseAction,
  parseAdvancedOk,
  parsePosition,
  parseRepetierTarget,
  parseResend,
  parseTemperatures,
} from './parse.js';

export interface ProtocolOptions {
  /** Line numbers and checksums on every line, not only while streaming a job. */
  alwaysChecksum: boolean;
  /** Sent lines kept for resends (≥ 100). */
  resendHistory: number;
  /** The same line requested this many times in a row is a resend loop → error. */
  maxConsecutiveResends: number;
  /** Opt-in: more than one line in flight, only while ADVANCED_OK reports free buffer slots. */
  windowed: boolean;
  /** Upper bound on lines in flight when windowed. */
  maxWindow: number;
  /** Firmware serial receive buffer in bytes; in-flight bytes never exceed it. */
  rxBufferBytes: number;
  /** ms without an answer before a timeout while waiting for `ok`. */
  communicationTimeout: number;
  /** ms of silence after the firmware last said `busy:` before a timeout. */
  busyTimeout: number;
  /** ms to wait for an answer to the hello. */
  connectionTimeout: number;
  /** Hellos sent before giving up. */
  helloTries: number;
  /** Consecutive timeouts that end the connection, idle and while streaming. */
  maxTimeoutsIdle: number;
  maxTimeoutsPrinting: number;
  /** ms between M105 polls when the firmware cannot auto-report. */
  pollInterval: number;
  /** Seconds for M155 auto-report. */
  autoreportInterval: number;
  /** ms after a `Resend:` line to wait for its `ok` before assuming the firmware sends none. */
  resendOkTimeout: number;
}

export const DEFAULT_PROTOCOL_OPTIONS: ProtocolOptions = {
  alwaysChecksum: false,
  resendHistory: 256,
  maxConsecutiveResends: 10,
  windowed: false,
  maxWindow: 4,
  rxBufferBytes: 127,
  communicationTimeout: 10_000,
  busyTimeout: 5_000,
  connectionTimeout: 5_000,
  helloTries: 3,
  maxTimeoutsIdle: 2,
  maxTimeoutsPrinting: 5,
  pollInterval: 1_000,
  autoreportInterval: 1,
  resendOkTimeout: 500,
};

/** Where streamed job lines come from. Pull-based so a file is read only as fast as the printer takes it. */
export interface LineSource {
  /** The next raw line, or undefined when none is ready now (call `pump()` when it is) or the source is done. */
  next(): string | undefined;
  /** The command line `next()` handed out last has gone to the printer. A source that looks into its lines (modes,
   * layers) may do it here, after the line is on its way, instead of before. */
  sent?(): void;
  /** True once every line has been handed out. */
  readonly done: boolean;
}

export type ProtocolEvent =
  | { type: 'connected' }
  | { type: 'firmware'; info: FirmwareInfo }
  | { type: 'temperature'; reading: TemperatureReading }
  /** a target the firmware reported on its own line (Repetier), or one Gantry sent (`sent`: M104/M109/M140/M190/M141/M191) */
  | { type: 'target'; heater: 'bed' | 'chamber' | number; target: number; sent?: boolean }
  | { type: 'position'; position: Position }
  | { type: 'action'; action: HostAction }
  | { type: 'message'; text: string }
  | { type: 'command-error'; message: string }
  | { type: 'fatal'; reason: ErrorReason; message: string }
  | { type: 'timeout'; consecutive: number }
  | { type: 'stream-done' }
  /** the firmware is up but refuses work (Klipper shut down): the link stays open so FIRMWARE_RESTART can be sent */
  | { type: 'halted'; message: string }
  /** it works again (Klipper `// Klipper state: Ready`) */
  | { type: 'ready' }
  | { type: 'tool'; tool: number }
  /** the firmware restarted while connected (it sent `start`: a reset button, a watchdog, a brown-out): whatever was
   * in flight is gone, a job stream among it (`streaming`); the link goes on, numbering from 0 again */
  | { type: 'reset'; streaming: boolean };

export interface ProtocolSink {
  /** Bytes for the transport. `longRunning`: whether the line is a command the firmware may take long to answer
   * (a heat-up among them), when the engine knows; the adapter then looks into those lines alone. */
  write(data: string, longRunning?: boolean): void;
  /** Optional: writes `numberedLine(n, cmd)` and returns its length, for an adapter that encodes it into bytes
   * without building the string (gcode.ts encodeNumberedLine). Without it the engine builds the line for `write`. */
  writeNumbered?(n: number, cmd: string, longRunning: boolean): number;
  event(e: ProtocolEvent): void;
  /** Terminal log: '>' sent, '<' received. Job lines are not logged (see `logJobLines`). */
  log(direction: '>' | '<', line: string): void;
}

type Phase = 'idle' | 'handshake' | 'operational' | 'dead';

const NO_LINE = -1;
/** the fatal errors after which the printer gets an M112 (and heaters off) before the link closes */
const STOP_ON_FATAL: ReadonlySet<ErrorReason> = new Set<ErrorReason>(['timeout', 'resend', 'resend_loop']);
/** In-flight line kinds (bit flags). */
const KIND_LONG = 1;
const KIND_TICKLE = 2;
const KIND_TEMP_QUERY = 4;
/** carries a line number (its own, in flightLine) */
const KIND_NUMBERED = 8;
/** M110: nothing else goes out until it is acknowledged (a line behind it would race the renumbering) */
const KIND_BARRIER = 16;
/** sent while nothing was in flight, right after a long-running command's ok: firmware that acknowledges before it
 * executes (Repetier's "ok before output", OctoPrint's okBeforeCommandOutput) may still be running that command */
const KIND_AFTER_LONG = 32;
/** KIND_LONG moved onto KIND_AFTER_LONG's bit, without a branch (the send path stays one shape for V8) */
const LONG_TO_AFTER_LONG_SHIFT = 5;
/** M115: its answer tells whether the firmware acknowledges before its output (the ok comes before FIRMWARE_NAME) */
const KIND_IDENTIFY = 64;
const OK_HELLO = 'N0 M110 N0*125\n';
/** `X:… Y:…` after an ok (Smoothieware puts `C: ` before it) */
const OK_POSITION = /(?:^|\s)X:\s*-?[\d.]+\s+Y:/;

/** The position an ok line carries (`ok X:10 Y:20 Z:0.3 E:5 Count …`), if any. */
function okPosition(line: string): Position | undefined {
  const at = line.search(OK_POSITION);
  return at < 0 ? undefined : parsePosition(line.slice(at).trim());
}
/** Marlin sends `wait` after 1 s idle; a line younger than that may simply not have arrived yet. */
const WAIT_TICKLE_AFTER_MS = 1_000;
const MERGED_ADVANCED_OK = /ok N\d+ P\d+ B\d+$/;

/** The line an ok names: Marlin ADVANCED_OK `ok N12 P15 B3`, Repetier `ok 12`. */
function okLineNumber(line: string): number | undefined {
  const m = /^ok\s+N?(\d+)(?:\s|$)/.exec(line);
  return m ? Number(m[1]) : undefined;
}

export class ProtocolEngine {
  readonly opts: ProtocolOptions;
  private readonly sink: ProtocolSink;
  private phase: Phase = 'idle';

  // hello / handshake
  private helloSentAt = 0;
  private hellosSent = 0;
  /** After more than one hello, oks for the extra hellos may still arrive; swallow them until then. */
  private settleUntil = 0;
  private held: string | undefined; // a line pulled but too long for the firmware's free receive buffer
  private heldFromJob = false;

  // line numbering and resend history: a ring indexed by line number
  private nextLine = 1;
  private readonly history: string[];
  private readonly historyLen: number;
  private resendNext = NO_LINE; // next line to re-send, or NO_LINE
  private resendDuplicates = 0; // further `Resend: n` requests for the same n to swallow
  private resendRequested = NO_LINE;
  private lastResendRequest = NO_LINE;
  private consecutiveResends = 0;
  private awaitingResendOkUntil = 0; // >0 while we wait for the ok that should follow a Resend
  resendCount = 0;
  linesSent = 0;

  // flow control: a FIFO of in-flight lines (kind flags + byte counts) in fixed arrays
  private readonly flightKind: Uint8Array;
  /** the line number a numbered entry carries; for an unnumbered one, the last number sent before it */
  private readonly flightLine: Int32Array;
  private ticklesInFlight = 0;
  private barriersInFlight = 0;
  /** the firmware names the line in its oks (`ok N12 P15 B3`, Repetier `ok 12`): oks can be matched to lines */
  private numberedOks = false;
  private lastNumberSent = 0;
  /** a long-running command got its one quiet-time tickle (no timeout counted for it) */
  private softTickled = false;
  private readonly flightBytes: Uint16Array;
  private flightHead = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  private windowLimit = 1; // raised from ADVANCED_OK `B` when windowed
  private lastProgress = 0; // last ok / busy / send that started a wait
  private busySeen = false; // firmware said busy since the oldest in-flight line went out
  private consecutiveTimeouts = 0;
  /** the firmware refused a line for lacking a checksum (forceChecksum firmware): every line gets one from then on */
  private checksumDemanded = false;
  /** the text of each unnumbered line in flight (beside flightKind): sent again numbered if the firmware refuses it */
  private readonly flightText: string[];
  /** a line the firmware threw away without a word (onLineDiscarded): resend from this line at discardedUntil */
  private discardedFrom = NO_LINE;
  private discardedUntil = 0;
  /** KIND_AFTER_LONG once the firmware showed that it acknowledges before its output (its M115's ok came before
   * FIRMWARE_NAME), else 0: on other firmware the ok of a long command comes when it is done */
  private afterLongMask = 0;
  /** the kind of the line settled last (its KIND_LONG bit is what the next line inherits, see KIND_AFTER_LONG) */
  private lastSettledKind = 0;

  // queues
  private readonly userQueue: string[] = [];
  private userHead = 0;
  private source: LineSource | undefined;
  private streaming = false;
  private userTurn = false; // alternate user commands with job lines
  private pollQueued = false;

  // firmware
  private firmware: FirmwareInfo | undefined;
  private collectingCaps = false;
  private quirks: FlavorQuirks = quirksFor('unknown');
  private emergencyParser = false;
  private autoreport = false;
  private lastPoll = 0;
  private pendingErrorJoin: string | undefined;
  private activeTool = 0;
  /** Klipper reported a shutdown (or not ready): commands are refused until `Klipper state: Ready` */
  private halted = false;
  private haltDetails: string[] = [];

  constructor(sink: ProtocolSink, opts: Partial<ProtocolOptions> = {}) {
    this.opts = { ...DEFAULT_PROTOCOL_OPTIONS, ...opts };
    this.sink = sink;
    this.historyLen = Math.max(100, this.opts.resendHistory);
    this.history = new Array<string>(this.historyLen).fill('');
    const maxFlight = 64;
    this.flightKind = new Uint8Array(maxFlight);
    this.flightLine = new Int32Array(maxFlight);
    this.flightBytes = new Uint16Array(maxFlight);
    this.flightText = new Array<string>(maxFlight).fill('');
  }

  // ---- inputs: lifecycle -------------------------------------------------------------------------------------

  /** The transport is open: say hello (`M110 N0`) and wait for `ok`, `wait` or `start`. */
  begin(now: number): void {
    this.phase = 'handshake';
    this.checksumDemanded = false;
    this.afterLongMask = 0;
    this.hellosSent = 0;
    this.lastProgress = now;
    this.sendHello(now);
  }

  /** The transport closed; forget everything in flight. */
  end(): void {
    this.phase = 'idle';
    this.forgetLink();
    this.settleUntil = 0;
  }

  /** Nothing in flight, queued, streamed or asked for again: the state a link starts from (closed, or the
   * firmware restarted under it). */
  private forgetLink(): void {
    this.inFlight = 0;
    this.inFlightBytes = 0;
    this.ticklesInFlight = 0;
    this.barriersInFlight = 0;
    this.numberedOks = false;
    this.streaming = false;
    this.source = undefined;
    this.userQueue.length = 0;
    this.userHead = 0;
    this.pollQueued = false;
    this.held = undefined;
    this.resendNext = NO_LINE;
    this.resendDuplicates = 0;
    this.lastResendRequest = NO_LINE;
    this.consecutiveResends = 0;
    this.awaitingResendOkUntil = 0;
    this.consecutiveTimeouts = 0;
    this.windowLimit = 1;
    this.lastSettledKind = 0;
    this.discardedUntil = 0;
  }

  get isOperational(): boolean {
    return this.phase === 'operational';
  }
  get isStreaming(): boolean {
    return this.streaming;
  }
  get firmwareInfo(): FirmwareInfo | undefined {
    return this.firmware;
  }
  get linesInFlight(): number {
    return this.inFlight;
  }
  get queuedCommands(): number {
    return this.userQueue.length - this.userHead;
  }
  get tool(): number {
    return this.activeTool;
  }

  // ---- inputs: commands --------------------------------------------------------------------------------------

  /**
   * Queues a user command (terminal, jog, temperature). M112 is sent at once; M108/M410/M876 jump the queue
   * when the firmware has an emergency parser (M876 answers a host prompt while M0 or M600 waits for it). Returns false when the line is empty after comment stripping.
   */
  send(raw: string, now: number): boolean {
    const cmd = stripComment(raw);
    if (cmd.length === 0) return false;
    const key = commandKey(cmd);
    if (key === M(112)) {
      this.emergencyStop();
      return true;
    }
    if ((key === M(108) || key === M(410) || key === M(876)) && this.emergencyParser && this.phase === 'operational') {
      // The emergency parser acts on it as the bytes arrive (it skips a line number); the line still earns an `ok`
      // later, and firmware that takes numbered lines only needs the number for that
      if (this.checksumsRequired()) {
        const n = this.nextLine++;
        this.history[n % this.historyLen] = cmd;
        const text = numberedLine(n, cmd);
        this.sink.log('>', text.trimEnd());
        this.sink.write(text);
        this.lastNumberSent = n;
        this.pushFlight(KIND_NUMBERED, text.length, n);
      } else {
        this.sink.log('>', cmd);
        this.sink.write(cmd + '\n');
        this.pushFlight(0, cmd.length + 1, this.lastNumberSent);
        this.noteNewestText(cmd);
      }
      return true;
    }
    this.userQueue.push(cmd);
    this.pump(now);
    return true;
  }

  /** Windowed mode on or off, and its window, on a live connection (settings change without a restart). */
  configure(change: Pick<ProtocolOptions, 'windowed' | 'maxWindow' | 'alwaysChecksum'>): void {
    this.opts.alwaysChecksum = change.alwaysChecksum; // from the next line on
    this.opts.windowed = change.windowed;
    this.opts.maxWindow = Math.max(1, Math.min(change.maxWindow, this.flightKind.length));
    if (!change.windowed) this.windowLimit = 1;
    else this.windowLimit = Math.min(this.windowLimit, this.opts.maxWindow);
  }

  /** Starts streaming a job. Lines get numbers and checksums until the stream ends. */
  stream(source: LineSource, now: number): void {
    this.source = source;
    this.streaming = true;
    // Like OctoPrint: restart line numbering for the job, so resend history holds only this job's lines.
    this.userQueue.splice(this.userHead, 0, 'M110 N0');
    this.userTurn = true;
    this.pump(now);
  }

  /** Stops taking lines from the job source (cancel). Lines already sent still get their oks. */
  stopStream(): void {
    if (this.heldFromJob) this.held = undefined;
    this.source = undefined;
    this.streaming = false;
  }

  /** Emergency stop: M112 goes out now, ahead of everything, plain and numbered, then heaters off. */
  emergencyStop(): void {
    this.sendEmergencyLines();
    this.userQueue.length = 0;
    this.userHead = 0;
    this.fatal('emergency', 'Emergency stop (M112) sent');
  }

  /** M112 plain and numbered (whichever the firmware reads), then every heater off behind it, for firmware without an
   * emergency parser that may still read them. */
  private sendEmergencyLines(): void {
    this.sink.log('>', 'M112');
    this.sink.write('M112\n');
    if (this.phase !== 'operational') return;
    this.sink.write(numberedLine(this.nextLine++, 'M112'));
    const numbered = this.checksumsRequired();
    for (const line of [...this.toolIndexes().map((t) => `M104 T${t} S0`), 'M140 S0']) {
      const text = numbered ? numberedLine(this.nextLine++, line) : line + '\n';
      this.sink.log('>', text.trimEnd());
      this.sink.write(text);
    }
  }

  /** Simulates one `ok` (OctoPrint's fake_ack, for a firmware that swallowed one). */
  fakeAck(now: number): void {
    this.onOk(now, false);
  }

  // ---- inputs: time ------------------------------------------------------------------------------------------

  /** Call a few times a second. Handles hello retries, timeouts, missing oks after resends and M105 polling. */
  tick(now: number): void {
    if (this.settleUntil > 0 && now >= this.settleUntil) {
      this.settleUntil = 0;
      this.pump(now);
    }
    if (this.phase === 'handshake') {
      if (now - this.helloSentAt >= this.opts.connectionTimeout) {
        if (this.hellosSent >= this.opts.helloTries) {
          this.fatal('connection', `No answer from the printer after ${this.hellosSent} tries`);
        } else this.sendHello(now);
      }
      return;
    }
    if (this.phase !== 'operational') return;

    if (this.discardedUntil > 0 && now >= this.discardedUntil) this.resendDiscarded(now);
    if (this.awaitingResendOkUntil > 0 && now >= this.awaitingResendOkUntil) {
      this.awaitingResendOkUntil = 0;
      if (!this.numberedOks) this.onOk(now, false); // numbered oks: the rejected lines already left the window
    }

    if (this.inFlight > 0) {
      const longRunning = (this.flightKind[this.flightHead]! & KIND_LONG) !== 0;
      if (longRunning && !this.busySeen) {
        // A heat-up or an M400 may rightly take minutes without a word, so no timeout is counted; but its ok may
        // also have been lost (a job then sat at 100 % with nothing on the wire). One tickle per quiet spell finds
        // out: a busy firmware answers it after the command, a free one at once.
        if (!this.softTickled && this.ticklesInFlight === 0 && now - this.lastProgress >= this.opts.communicationTimeout) {
          this.softTickled = true;
          this.tickle(now);
        }
      } else {
        const limit = longRunning ? this.opts.busyTimeout : this.busySeen ? Math.max(this.opts.busyTimeout, this.opts.communicationTimeout) : this.opts.communicationTimeout;
        if (now - this.lastProgress >= limit) this.onTimeout(now);
      }
    }

    if (!this.autoreport && !this.pollQueued && now - this.lastPoll >= this.opts.pollInterval && this.firmware) {
      this.lastPoll = now;
      this.pollQueued = true;
      this.userQueue.push('M105');
    }
    this.pump(now);
  }

  // ---- inputs: lines from the firmware -----------------------------------------------------------------------

  receive(line: string, now: number): void {
    // A bare `ok` is most of the traffic while streaming. This function stays this small on purpose: V8 throws away
    // a function's optimized code when a branch it never saw runs (a job's first M110 or tickle does), and a small
    // function is optimized again within a few thousand calls, a large one only after tens of thousands (seconds of
    // a print in slower code, measured).
    if (line.length === 2 && line === 'ok') this.onOkLine(line, now);
    else this.receiveText(line, now);
  }

  private receiveText(line: string, now: number): void {
    line = line.trim();
    if (line.length === 0) return;
    this.sink.log('<', line);

    if (this.pendingErrorJoin !== undefined) {
      const first = this.pendingErrorJoin;
      this.pendingErrorJoin = undefined;
      const more = errorText(line)?.text ?? line;
      this.handleError(`${first} ${more}`.trim(), false, false, now);
      return;
    }

    if (line.startsWith('ok')) {
      this.onOkLine(line, now);
      return;
    }
    // Marlin sometimes merges a temperature report with the next line: ` T:19.37 /0.00 B:19.37 /0.00ok N71 P0 B2`.
    // The ok at the end is real; lose it and windowed mode stays a line behind.
    const merged = MERGED_ADVANCED_OK.exec(line);
    if (merged && this.phase === 'operational') {
      this.receive(line.slice(0, merged.index), now);
      this.onOkLine(merged[0], now);
      return;
    }

    if (this.inFlight > 0 && (this.flightKind[this.flightHead]! & KIND_AFTER_LONG) !== 0) {
      // the firmware talks (a heat-up's temperature lines, its auto-report) while the line sent after a long command
      // waits for its ok: alive, working on that command, as OctoPrint counts it. Timeouts still tickle, but do not
      // add up to a dead printer while it speaks.
      this.consecutiveTimeouts = 0;
    }
    if (this.phase === 'handshake') {
      if (line === 'wait') this.onHelloAnswered(now);
      else if (line === 'start') this.sendHello(now);
      return;
    }

    const c0 = line.charCodeAt(0);
    if (line.startsWith('echo:busy') || line.startsWith('busy:')) {
      // working on it: alive, so earlier timeouts do not add up to a dead printer
      this.busySeen = true;
      this.lastProgress = now;
      this.consecutiveTimeouts = 0;
      if (this.awaitingResendOkUntil > 0) this.awaitingResendOkUntil = now + this.opts.resendOkTimeout;
      return;
    }
    if (line === 'wait') {
      // `wait` says the firmware's queue ran empty. It acknowledges nothing: counting it as an ok let a burst of
      // them release a line each, flooding the firmware, and the real oks that followed released more. A line
      // still in flight then has lost its ok (or is still on the wire): the same M105 tickle a timeout would
      // send settles which, at once instead of after the timeout.
      if (this.inFlight > 0 && now - this.lastProgress >= WAIT_TICKLE_AFTER_MS) {
        if (this.ticklesInFlight === 0) this.tickle(now);
        else {
          // A tickle went out a second ago and the firmware says it has nothing left to do: it owes no answer. The
          // tickle's was taken for a lost ok (firmware that answers M105 with a bare ok and the temperatures on a line
          // of their own), or the tickle was lost too: waiting for it costs a whole timeout. Everything up to the
          // tickle is done (a line sent after it, windowed, may have crossed this wait on the wire: it stays); a line
          // that never arrived is asked for again when the next numbered line does.
          while (this.ticklesInFlight > 0) this.popFlight();
          this.progress(now);
        }
      }
      return;
    }
    const resend = parseResend(line);
    if (resend !== undefined) {
      this.onResend(resend, now);
      return;
    }
    const err = errorText(line);
    if (err) {
      this.handleError(err.text, err.bang, err.fatalPrefix, now);
      return;
    }
    if (line === 'start') {
      this.onExternalReset(now);
      return;
    }
    if (c0 === 47 /* / */) {
      const action = parseAction(line);
      if (action) {
        this.sink.event({ type: 'action', action });
        return;
      }
      if (line.startsWith('// Klipper state: ')) {
        this.onKlipperState(line.slice(18).trim());
        return;
      }
      if (this.halted) this.haltDetails.push(line.slice(2).trim()); // STATUS: the reason, line by line

      this.sink.event({ type: 'message', text: line.slice(2).trim() });
      return;
    }
    if (line.startsWith('FIRMWARE_NAME:') || line.includes(' FIRMWARE_NAME:')) {
      this.onFirmwareLine(line);
      return;
    }
    if (c0 === 67 /* C */ && line.startsWith('Cap:')) {
      const cap = parseCapability(line);
      if (cap && this.firmware) this.firmware.capabilities[cap[0]] = cap[1];
      return;
    }
    if (c0 === 97 /* a */ && line.startsWith('area:{') && this.firmware) {
      const area = parseArea(line);
      if (area) this.firmware.area = area;
      return;
    }
    if (c0 === 88 /* X */) {
      const position = parsePosition(line);
      if (position) {
        this.sink.event({ type: 'position', position });
        return;
      }
    }
    if (this.quirks.repetierTargets && line.startsWith('Target')) {
      const t = parseRepetierTarget(line);
      if (t) this.sink.event({ type: 'target', heater: t.heater, target: t.target });
      return;
    }
    if (line.startsWith('echo:')) {
      this.sink.event({ type: 'message', text: line.slice(5).trim() });
      return;
    }
    if (looksLikeTemperature(line)) {
      const reading = parseTemperatures(line, this.activeTool);
      if (reading) this.sink.event({ type: 'temperature', reading });
    }
  }

  // ---- internals: sending ------------------------------------------------------------------------------------

  /** Sends as many lines as flow control allows. Cheap to call; the model calls it when a source has data. */
  pump(now: number): void {
    if (this.phase !== 'operational' || this.settleUntil > 0) return;
    while (this.canSend()) {
      if (this.resendNext !== NO_LINE) {
        const n = this.resendNext;
        const cmd = this.history[n % this.historyLen]!;
        this.resendNext = n + 1 >= this.nextLine ? NO_LINE : n + 1;
        this.resendCount++;
        const key = commandKey(cmd);
        const long = isLongRunning(key);
        this.wrote(this.emitNumbered(n, cmd, long), now, (long ? KIND_LONG : 0) | KIND_NUMBERED | (key === M(110) ? KIND_BARRIER : 0), n);
        continue;
      }
      const hasUser = this.userHead < this.userQueue.length;
      let cmd: string | undefined;
      let fromJob = false;
      if (this.held !== undefined) {
        cmd = this.held;
        fromJob = this.heldFromJob;
        this.held = undefined;
      } else if (hasUser && (!this.streaming || this.userTurn || !this.source)) {
        cmd = this.shiftUser();
        this.userTurn = false;
      } else if (this.streaming && this.source) {
        cmd = this.nextJobLine();
        if (cmd === undefined) {
          if (hasUser) {
            cmd = this.shiftUser();
          } else break;
        } else {
          fromJob = true;
          this.userTurn = true;
        }
      } else break;
      if (this.inFlight > 0 && this.inFlightBytes + cmd.length + 14 > this.opts.rxBufferBytes) {
        this.held = cmd;
        this.heldFromJob = fromJob;
        break;
      }
      this.sendCommand(cmd, now, fromJob);
      if (fromJob) this.source?.sent?.();
    }
    if (this.streaming && this.source?.done && this.inFlight === 0 && this.resendNext === NO_LINE) this.finishStream();
  }

  private nextJobLine(): string | undefined {
    const src = this.source!;
    for (;;) {
      const raw = src.next();
      if (raw === undefined) return undefined;
      const cmd = stripComment(raw);
      if (cmd.length > 0) return cmd;
    }
  }

  private shiftUser(): string {
    const cmd = this.userQueue[this.userHead]!;
    this.userQueue[this.userHead++] = '';
    if (this.userHead === this.userQueue.length) {
      this.userQueue.length = 0;
      this.userHead = 0;
    }
    if (this.pollQueued && cmd === 'M105') this.pollQueued = false;
    return cmd;
  }

  /** Sends one command, numbered or not. What the next line does not depend on (tool and target events, the log)
   * comes after the write: the printer is working on the line meanwhile. */
  private sendCommand(cmd: string, now: number, fromJob: boolean): void {
    const key = commandKey(cmd);
    const acked = key >= 0 || !this.quirks.onlyGcodeIsAcked;
    // only G, M and T commands carry a line number, as OctoPrint sends them: firmware that does not know a line
    // (`!!DEBUG:…`, a host-side macro) may ask for its number again and again, and a resend of it loops
    const numbered = acked && key >= 0 && (this.streaming || this.checksumsRequired() || !this.firmware || key === M(110));
    const long = isLongRunning(key);
    let kind = (long ? KIND_LONG : 0) | (key === M(105) ? KIND_TEMP_QUERY : 0) | (key === M(115) ? KIND_IDENTIFY : 0);
    if (numbered) {
      let n = this.nextLine;
      if (key === M(110)) {
        // `M110 Nx` resets the counter: the line carries the number it sets, then counting restarts there.
        const target = param(cmd, 'N');
        if (Number.isFinite(target)) n = target;
      }
      this.history[n % this.historyLen] = cmd;
      this.nextLine = n + 1;
      kind |= KIND_NUMBERED | (key === M(110) ? KIND_BARRIER : 0);
      this.wrote(this.emitNumbered(n, cmd, long), now, kind, n);
    } else if (acked) {
      const text = cmd + '\n';
      this.sink.write(text, long);
      this.wrote(text.length, now, kind, this.lastNumberSent);
      this.noteNewestText(cmd);
    } else this.sink.write(cmd + '\n', long);
    // the terminal shows a line as it went out (`N12 M114*35`), as OctoPrint's does: a resend request then names a
    // line the user can find
    if (!fromJob) this.sink.log('>', numbered ? numberedLine(this.nextLine - 1, cmd).trimEnd() : cmd);
    if (isToolChange(key)) {
      this.activeTool = key % 100000;
      this.sink.event({ type: 'tool', tool: this.activeTool });
    }
    this.noteSentTarget(key, cmd);
  }

  /**
   * The targets Gantry itself sets, from any command (the terminal, a job's start G-code). Firmware that reports
   * no targets (`T:24.8` alone) then still shows them, as OctoPrint does; firmware that reports them overrides.
   */
  private noteSentTarget(key: number, cmd: string): void {
    const heater = key === M(104) || key === M(109) ? 'tool' : key === M(140) || key === M(190) ? 'bed' : key === M(141) || key === M(191) ? 'chamber' : undefined;
    if (!heater) return;
    let target = param(cmd, 'S');
    if (!Number.isFinite(target)) target = param(cmd, 'R');
    if (!Number.isFinite(target)) return;
    const t = param(cmd, 'T');
    this.sink.event({ type: 'target', heater: heater === 'tool' ? (Number.isFinite(t) ? t : this.activeTool) : heater, target, sent: true });
  }

  /** `numberedLine(n, cmd)` to the printer; returns its length. */
  private emitNumbered(n: number, cmd: string, longRunning: boolean): number {
    if (this.sink.writeNumbered) return this.sink.writeNumbered(n, cmd, longRunning);
    const text = numberedLine(n, cmd);
    this.sink.write(text, longRunning);
    return text.length;
  }

  /** A line of `bytes` went out: it is in flight until its ok. */
  private wrote(bytes: number, now: number, kind: number, line: number): void {
    this.linesSent++;
    if (this.inFlight === 0) {
      this.lastProgress = now;
      this.busySeen = false;
      this.softTickled = false;
      kind |= ((this.lastSettledKind & KIND_LONG) << LONG_TO_AFTER_LONG_SHIFT) & this.afterLongMask;
    }
    if (kind & KIND_NUMBERED) this.lastNumberSent = line;
    this.pushFlight(kind, bytes, line);
  }

  /** The newest line in flight went out unnumbered as `cmd` (kept for onChecksumMissing). */
  private noteNewestText(cmd: string): void {
    if (this.inFlight > 0) this.flightText[(this.flightHead + this.inFlight - 1) % this.flightKind.length] = cmd;
  }

  private pushFlight(kind: number, bytes: number, line: number): void {
    const cap = this.flightKind.length;
    if (this.inFlight >= cap) return; // never: the window is far smaller than the ring
    const idx = (this.flightHead + this.inFlight) % cap;
    this.flightKind[idx] = kind;
    this.flightLine[idx] = line;
    this.flightBytes[idx] = bytes;
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.ticklesInFlight += kind & KIND_TICKLE ? 1 : 0; // as in popFlight: no operation only a rare line reaches
    this.barriersInFlight += kind & KIND_BARRIER ? 1 : 0;
  }

  /**
   * One line in flight by default. Windowed: more, but never more than the firmware's last ADVANCED_OK `B` proved
   * free, and nothing behind an unacknowledged M110.
   */
  private canSend(): boolean {
    if (this.inFlight === 0) return true;
    return this.opts.windowed && this.barriersInFlight === 0 && this.inFlight < this.windowLimit;
  }

  /** Lines in flight that are not the one M105 a timeout may add to find a lost ok (the invariant tests check). */
  get commandsInFlight(): number {
    return this.inFlight - this.ticklesInFlight;
  }

  private sendHello(now: number): void {
    this.hellosSent++;
    this.helloSentAt = now;
    this.sink.log('>', 'N0 M110 N0*125');
    this.sink.write(OK_HELLO);
  }

  private onHelloAnswered(now: number): void {
    this.phase = 'operational';
    if (this.hellosSent > 1) this.settleUntil = now + 250;
    this.nextLine = 1;
    this.inFlight = 0;
    this.inFlightBytes = 0;
    this.ticklesInFlight = 0;
    this.lastProgress = now;
    this.lastPoll = now;
    this.sink.event({ type: 'connected' });
    this.userQueue.splice(this.userHead, 0, 'M115');
    this.pump(now);
  }

  // ---- internals: acknowledgements ---------------------------------------------------------------------------

  private onOkLine(line: string, now: number): void {
    if (this.phase === 'handshake') {
      this.onHelloAnswered(now);
      return;
    }
    if (this.settleUntil > 0) return; // the answer to a repeated hello
    if (this.awaitingResendOkUntil > 0) this.awaitingResendOkUntil = 0;
    let carriesTemperatures = false;
    let ackedLine: number | undefined;
    if (line.length > 2) {
      ackedLine = okLineNumber(line);
      if (this.opts.windowed) {
        const adv = parseAdvancedOk(line);
        if (adv && adv.buffer !== undefined) this.windowLimit = Math.max(1, Math.min(this.opts.maxWindow, adv.buffer));
      }
      // Klipper, Smoothieware and Marlin's M105 answer carry data on the ok line; so does an M114 answer on firmware
      // that puts command output after the ok (`ok X:1 Y:2 Z:0.3 E:5 Count: A:… B:…`: a position, not a bed at 12,950°)
      const position = okPosition(line);
      if (position) this.sink.event({ type: 'position', position });
      else if (line.includes('FIRMWARE_NAME:')) this.onFirmwareLine(line);
      else if (looksLikeTemperature(line)) {
        const reading = parseTemperatures(line.slice(2), this.activeTool);
        if (reading) {
          carriesTemperatures = true;
          this.sink.event({ type: 'temperature', reading });
        }
      }
    }
    if (this.collectingCaps) this.finishCapabilities(now);
    if (ackedLine !== undefined) {
      this.numberedOks = true;
      this.onNumberedOk(ackedLine, now);
      return;
    }
    if (this.numberedOks) this.onUnnumberedOk(now);
    else this.onOk(now, carriesTemperatures);
  }

  /**
   * Firmware that names lines in its oks answers a numbered line with a numbered ok, so a plain ok belongs to the
   * first unnumbered line in flight (a tickle, a poll, a command outside a job), and every numbered line before it
   * was done too (in order; their oks were lost). With no unnumbered line in flight it is the ok that follows a
   * `Resend:` (the rejected line's), or a stray one: it settles nothing.
   */
  private onUnnumberedOk(now: number): void {
    for (let i = 0; i < this.inFlight; i++) {
      const idx = (this.flightHead + i) % this.flightKind.length;
      if ((this.flightKind[idx]! & KIND_NUMBERED) !== 0) continue;
      for (let k = 0; k <= i; k++) this.popFlight();
      this.progress(now);
      return;
    }
  }

  /**
   * An ok that names its line: that line is done, and so is everything sent before it (their oks were lost or
   * mangled). An ok for a line already settled (a duplicate, or one from before a resend) settles nothing and
   * releases nothing. This is what keeps windowed mode in step after one garbled ok.
   */
  private onNumberedOk(n: number, now: number): void {
    let through = -1;
    for (let i = 0; i < this.inFlight; i++) {
      const idx = (this.flightHead + i) % this.flightKind.length;
      if ((this.flightKind[idx]! & KIND_NUMBERED) !== 0 && this.flightLine[idx] === n) {
        through = i;
        break;
      }
    }
    if (through < 0) {
      // Firmware that echoes its last line number on every ok (not only a numbered command's own) answers an
      // unnumbered command with the number sent before it. Otherwise: stale, a duplicate or a rejected line's.
      if (this.inFlight > 0 && (this.flightKind[this.flightHead]! & KIND_NUMBERED) === 0 && this.flightLine[this.flightHead] === n) {
        this.popFlight();
        this.progress(now);
      }
      return;
    }
    for (let i = 0; i <= through; i++) this.popFlight();
    this.progress(now);
  }

  private popFlight(): number {
    if (this.inFlight === 0) return 0;
    const kind = this.flightKind[this.flightHead]!;
    // no operation that only a rare line reaches: the first tickle popped would otherwise throw the optimized code away
    this.ticklesInFlight -= kind & KIND_TICKLE ? 1 : 0;
    this.barriersInFlight -= kind & KIND_BARRIER ? 1 : 0;
    this.inFlightBytes -= this.flightBytes[this.flightHead]!;
    this.flightHead = (this.flightHead + 1) % this.flightKind.length;
    this.inFlight--;
    this.lastSettledKind = kind;
    return kind;
  }

  /**
   * One `ok`. Plain oks carry no line number, so after a timeout we cannot tell a lost ok from a late one; the
   * tickle settles it: firmware answers M105 with `ok T:…`, so an ok with temperatures while a tickle is in flight
   * is the tickle's, and every line before it was acknowledged (their oks were lost). A late plain ok settles only
   * its own line. Either way the count stays exact and one line in flight stays one.
   */
  private onOk(now: number, carriesTemperatures: boolean): void {
    if (carriesTemperatures && this.ticklesInFlight > 0 && (this.flightKind[this.flightHead]! & KIND_TEMP_QUERY) === 0) {
      while (this.inFlight > 0 && (this.popFlight() & KIND_TICKLE) === 0);
    } else this.popFlight();
    this.progress(now);
  }

  private progress(now: number): void {
    this.consecutiveTimeouts = 0;
    this.lastProgress = now;
    this.busySeen = false;
    this.softTickled = false;
    this.pump(now);
  }

  private onResend(n: number, now: number): void {
    this.discardedUntil = 0; // a Resend after a discarded line (Prusa): the usual way from here
    this.awaitingResendOkUntil = now + this.opts.resendOkTimeout;
    const lastSent = this.nextLine - 1;
    if (n === this.resendRequested && this.resendDuplicates > 0) {
      // The firmware rejects every line that followed the bad one with the same request; one resend is enough.
      this.resendDuplicates--;
      return;
    }
    if (n > lastSent) return; // asks for a line we have not sent yet: nothing to do
    if (n <= lastSent - this.historyLen) {
      this.fatal('resend', `The printer asked for line ${n}, which is no longer in the resend history`);
      return;
    }
    if (n === this.lastResendRequest) {
      if (++this.consecutiveResends >= this.opts.maxConsecutiveResends) {
        this.fatal('resend_loop', `The printer asked for line ${n} ${this.consecutiveResends} times in a row`);
        return;
      }
    } else {
      this.lastResendRequest = n;
      this.consecutiveResends = 1;
    }
    this.resendRequested = n;
    this.resendDuplicates = lastSent - n;
    this.resendNext = n;
    // a numbered tickle sent after the line asked for was rejected with it (its number came too early): it will never
    // be answered, and it would hold the resend up until a timeout gives it up
    while (!this.numberedOks && this.inFlight > 1) {
      const newest = (this.flightHead + this.inFlight - 1) % this.flightKind.length;
      if ((this.flightKind[newest]! & (KIND_TICKLE | KIND_NUMBERED)) !== (KIND_TICKLE | KIND_NUMBERED) || this.flightLine[newest]! < n) break;
      this.dropNewestFlight();
    }
    // Firmware with numbered oks acknowledges a rejected line with a plain ok (ignored in onOkLine), so the rejected
    // lines leave the window now: they are not in its buffer, and they go out again from `n`.
    if (this.numberedOks) {
      this.dropFlightFrom(n);
      this.pump(now);
    }
  }

  private dropFlightFrom(n: number): void {
    const kept: [number, number, number][] = [];
    while (this.inFlight > 0) {
      const kind = this.flightKind[this.flightHead]!;
      const line = this.flightLine[this.flightHead]!;
      const bytes = this.flightBytes[this.flightHead]!;
      this.popFlight();
      if ((kind & KIND_NUMBERED) === 0 || line < n) kept.push([kind, bytes, line]);
    }
    for (const [kind, bytes, line] of kept) this.pushFlight(kind, bytes, line);
  }

  private onTimeout(now: number): void {
    this.consecutiveTimeouts++;
    const limit = this.streaming ? this.opts.maxTimeoutsPrinting : this.opts.maxTimeoutsIdle;
    this.sink.event({ type: 'timeout', consecutive: this.consecutiveTimeouts });
    if (this.consecutiveTimeouts >= limit) {
      this.fatal('timeout', 'Too many consecutive timeouts, printer still connected and alive?');
      return;
    }
    // Tickle the firmware with M105. Its answer tells a lost ok from a late one (see onOk). If the line itself
    // never arrived, the next numbered line makes the firmware ask for it again. One tickle at a time:
    if (this.ticklesInFlight > 0) {
      const head = this.flightKind[this.flightHead]!;
      if ((head & KIND_TICKLE) !== 0) {
        // all that is left is the tickle (firmware that answers M105 with a bare ok, or a lost tickle): give it up
        while (this.inFlight > 0) this.popFlight();
        this.pump(now);
      } else if ((head & (KIND_LONG | KIND_AFTER_LONG)) === 0) {
        // a whole timeout without its answer while the firmware is not busy: that answer was lost too (a free
        // firmware answers M105 at once). Replace it. Behind a long command it is only waiting its turn, and a
        // second one would leave a late answer nobody can place, releasing a line that is still running.
        while (this.inFlight > 0 && (this.flightKind[(this.flightHead + this.inFlight - 1) % this.flightKind.length]! & KIND_TICKLE) !== 0) this.dropNewestFlight();
        this.tickle(now);
      }
      this.lastProgress = now;
      return;
    }
    if ((this.flightKind[this.flightHead]! & KIND_TEMP_QUERY) !== 0 && this.inFlight === 1) this.popFlight(); // it was a poll: its answer is the tickle's
    this.tickle(now);
  }

  private dropNewestFlight(): void {
    if (this.inFlight === 0) return;
    const idx = (this.flightHead + this.inFlight - 1) % this.flightKind.length;
    if (this.flightKind[idx]! & KIND_TICKLE) this.ticklesInFlight--;
    if (this.flightKind[idx]! & KIND_BARRIER) this.barriersInFlight--;
    this.inFlightBytes -= this.flightBytes[idx]!;
    this.inFlight--;
  }

  private tickle(now: number): void {
    if (this.checksumsRequired()) {
      // firmware that rejects lines without a checksum would answer a bare M105 with an error, never an ok
      const n = this.nextLine++;
      this.history[n % this.historyLen] = 'M105';
      const bytes = this.emitNumbered(n, 'M105', false);
      this.sink.log('>', numberedLine(n, 'M105').trimEnd());
      this.wrote(bytes, now, KIND_TICKLE | KIND_TEMP_QUERY | KIND_NUMBERED, n);
    } else {
      this.sink.log('>', 'M105');
      this.sink.write('M105\n', false);
      this.wrote(5, now, KIND_TICKLE | KIND_TEMP_QUERY, this.lastNumberSent);
      this.noteNewestText('M105');
    }
    this.lastProgress = now;
  }

  /** The user's setting, the firmware's kind (Repetier) or the firmware itself (it refused a line without one) asks
   * for a checksum on every line, not only a job's. */
  private checksumsRequired(): boolean {
    return this.opts.alwaysChecksum || this.quirks.alwaysChecksum || this.checksumDemanded;
  }

  /**
   * `start` while connected: the board rebooted (its reset button, a watchdog, a brown-out, a host that toggled
   * DTR). It has forgotten every line number, every line in flight, its temperatures' auto-report, and where the head
   * is, so a job cannot go on (OctoPrint aborts it too). The link itself is fine: the line numbers start again at 0
   * and the firmware is asked who it is again (its capabilities, and the M155 that follows them).
   */
  private onExternalReset(now: number): void {
    const streaming = this.streaming;
    this.forgetLink();
    this.autoreport = false;
    this.halted = false;
    this.haltDetails = [];
    this.pendingErrorJoin = undefined;
    this.activeTool = 0;
    this.sink.event({ type: 'reset', streaming });
    this.userQueue.push('M110 N0', 'M115');
    this.lastProgress = now;
    this.pump(now);
  }

  // ---- internals: firmware identity --------------------------------------------------------------------------

  private onFirmwareLine(line: string): void {
    const fields = parseFirmwareLine(line);
    if (!fields) return;
    let identifyInFlight = false;
    for (let i = 0; i < this.inFlight; i++) identifyInFlight ||= (this.flightKind[(this.flightHead + i) % this.flightKind.length]! & KIND_IDENTIFY) !== 0;
    // the M115 was acknowledged before its answer came: this firmware says ok first, then does the work (Repetier's
    // way, OctoPrint's okBeforeCommandOutput), so a long command may still run after its ok
    this.afterLongMask = identifyInFlight ? 0 : KIND_AFTER_LONG;
    const name = fields['FIRMWARE_NAME'] ?? 'unknown';
    const flavor = detectFlavor(name);
    this.firmware = { name, flavor, fields, capabilities: {} };
    this.quirks = quirksFor(flavor);
    this.collectingCaps = true;
  }

  private finishCapabilities(now: number): void {
    this.collectingCaps = false;
    const fw = this.firmware!;
    const caps = fw.capabilities;
    this.emergencyParser = caps['EMERGENCY_PARSER'] === true;
    if (caps['AUTOREPORT_TEMP'] === true || this.quirks.m155WithoutCap) {
      this.autoreport = true;
      this.userQueue.push(`M155 S${this.opts.autoreportInterval}`);
    }
    // Klipper may already be shut down when we connect: STATUS says so (and why); it answers in any state
    if (fw.flavor === 'klipper') this.userQueue.push('STATUS');
    this.lastPoll = now - this.opts.pollInterval; // first poll right away
    this.sink.event({ type: 'firmware', info: fw });
  }

  // ---- internals: Klipper's state ---------------------------------------------------------------------------

  /**
   * `// Klipper state: Shutdown` (after M112, a thermal error, a lost MCU) or `Not ready` (STATUS on a Klipper that
   * is down): it still answers, and FIRMWARE_RESTART from the terminal brings it back, so the link stays open and
   * the printer shows Error with Klipper's own reason. STATUS is asked for that reason (`!! <reason>`).
   */
  private onKlipperState(state: string): void {
    if (state === 'Ready') {
      const was = this.halted;
      this.halted = false;
      this.haltDetails = [];
      if (was) this.sink.event({ type: 'ready' });
      return;
    }
    if (state === 'Shutdown' || state === 'Not ready') {
      const first = !this.halted;
      this.halted = true;
      if (first) {
        this.streaming = false;
        this.source = undefined;
        const reason = this.haltDetails.find((l) => l !== '') ?? `Klipper state: ${state}`;
        this.sink.event({ type: 'halted', message: `Klipper: ${reason}` });
        if (state === 'Shutdown') this.userQueue.push('STATUS'); // the reason, to show it
      }
      this.haltDetails = [];
    }
    // Disconnect (during a restart) and others: informational
  }

  // ---- internals: errors -------------------------------------------------------------------------------------

  /**
   * The firmware threw the line in flight away (it had a checksum but no line number, as the firmware read it).
   * Marlin 1.x and OctoPrint's virtual printer say no more: no `Resend:`, no `ok`. Prusa's firmware does send a
   * Resend and an ok, so a Resend is awaited a moment first (resendOkTimeout); without one, the lines from the one after
   * `Last Line: n` go out again (tick). Without a Last Line number: the ok that will not come is assumed, as OctoPrint
   * does, and the next numbered line brings the firmware's own resend request.
   */
  private onLineDiscarded(text: string, now: number): void {
    const last = /last line:?\s*(\d+)/i.exec(text);
    this.discardedFrom = last ? Number(last[1]) + 1 : NO_LINE;
    this.discardedUntil = now + this.opts.resendOkTimeout;
  }

  /** No Resend followed a discarded line: it goes again now (see onLineDiscarded). */
  private resendDiscarded(now: number): void {
    const from = this.discardedFrom;
    this.discardedUntil = 0;
    if (from === NO_LINE || from >= this.nextLine) {
      this.onOk(now, false);
      return;
    }
    this.onResend(from, now);
    this.awaitingResendOkUntil = 0; // no ok follows this one
    if (this.phase !== 'operational') return;
    // the discarded line's ok, which never comes (numbered oks: onResend took the rejected lines out already)
    if (!this.numberedOks && this.inFlight > 0 && (this.flightKind[this.flightHead]! & KIND_NUMBERED) !== 0 && this.flightLine[this.flightHead] === from) this.popFlight();
    this.progress(now);
  }

  /**
   * `Missing checksum` for a line that went out without one: firmware that takes numbered lines only (OctoPrint's
   * virtual printer with forceChecksum) threw it away, with no Resend and no ok. Every G/M/T line is numbered from
   * now on, and that one goes again, numbered. (For a numbered line the same text means a bad checksum: a Resend
   * follows.) A line that is no G/M/T command is never numbered: the firmware cannot take it at all.
   */
  private onChecksumMissing(now: number): void {
    if (this.inFlight === 0 || (this.flightKind[this.flightHead]! & KIND_NUMBERED) !== 0) return;
    this.checksumDemanded = true;
    const text = this.flightText[this.flightHead] ?? '';
    const kind = this.popFlight();
    if ((kind & KIND_TICKLE) === 0 && text !== '') {
      if (commandKey(text) >= 0) {
        this.userQueue.splice(this.userHead, 0, text);
        if ((kind & KIND_TEMP_QUERY) !== 0) this.pollQueued = true;
      } else this.sink.event({ type: 'command-error', message: `The printer takes only numbered G, M and T commands; "${text}" cannot be sent to it` });
    }
    this.progress(now);
  }

  private handleError(text: string, bang: boolean, fatalPrefix: boolean, now: number): void {
    if (this.halted && bang) {
      // a halted Klipper explains itself with `!! <reason>` (STATUS, or any refused command)
      this.sink.event({ type: 'halted', message: `Klipper: ${text}` });
      return;
    }
    const cls = classifyError(text, { bang, fatalPrefix });
    switch (cls) {
      case 'join-next':
        this.pendingErrorJoin = `Error:${text}`;
        return;
      case 'discarded':
        if (this.phase === 'operational') this.onLineDiscarded(text, now);
        return;
      case 'resend':
        if (/missing checksum/i.test(text) && this.phase === 'operational') this.onChecksumMissing(now);
        return;
      case 'ignore':
        return;
      case 'unknown-command':
      case 'command':
        this.sink.event({ type: 'command-error', message: text });
        return;
      case 'fatal':
        this.fatal('firmware', text || 'The firmware halted');
        return;
    }
  }

  private fatal(reason: ErrorReason, message: string): void {
    if (this.phase === 'dead') return;
    // The connection ends on a link that stopped working (timeouts, a resend loop): the printer may still be moving
    // and heating with nobody watching, so it is stopped hard first, as OctoPrint does (sendM112OnError). A firmware
    // error is not stopped this way: one that halts the board has halted it, and one that does not leaves a board
    // that a reconnect can use without a reset (boards that do not reset on DTR would need a power cycle)
    if (this.phase === 'operational' && STOP_ON_FATAL.has(reason)) this.sendEmergencyLines();
    this.phase = 'dead';
    this.streaming = false;
    this.source = undefined;
    this.sink.event({ type: 'fatal', reason, message });
  }

  private finishStream(): void {
    this.streaming = false;
    this.source = undefined;
    this.sink.event({ type: 'stream-done' });
  }

  private toolIndexes(): number[] {
    const n = Number(this.firmware?.fields['EXTRUDER_COUNT'] ?? '1');
    return Array.from({ length: Number.isFinite(n) && n > 0 ? n : 1 }, (_, i) => i);
  }
}

