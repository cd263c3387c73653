// The printer model: the one owner of a printer's state. It runs the pure protocol engine over a transport,
// keeps the connection state machine, temperatures and their history, position, firmware identity and the
// terminal log, and announces every change on the event bus. Surfaces read it and send it commands.

import { existsSync } from 'node:fs';
import type { PrinterBus } from '../events.js';
import type { Logger } from '../log.js';
import { DEFAULT_PORT_GLOBS, listCandidatePorts, withoutClaimed } from '../transport/discovery.js';
import { isNetworkTarget, openTransport } from '../transport/open.js';
import type { Transport } from '../transport/transport.js';
import type { FirmwareInfo } from './firmware.js';
import { NUMBERED_LINE_OVERHEAD, encodeNumberedLine, numberedLine } from './gcode.js';
import { HeatWaitTracker } from './heat-wait.js';
import { type HostPrompt, type PromptChange, PromptTracker } from './host-prompt.js';
import type { Position, TemperatureReading } from './parse.js';
import { type LineSource, type ProtocolEvent, type ProtocolOptions, ProtocolEngine } from './protocol.js';
import { type PrinterStateId, isOperational, isPrinting, stateText } from './state.js';
import { type HeaterState, type TemperatureSample, TemperatureHistory } from './temperature-history.js';
import { TerminalLog } from './terminal-log.js';

export const AUTODETECT_BAUDRATES = [250000, 115200, 230400, 57600, 38400, 19200, 9600];
export const VIRTUAL_PORT = 'VIRTUAL';

export interface PrinterConfig {
  protocol: Partial<ProtocolOptions>;
  portGlobs: string[];
  /** With port AUTO and nothing found, use the virtual printer. */
  virtualFallback: boolean;
  /** Reconnect by itself when the device comes back after an unplug. */
  autoReconnect: boolean;
  /** ms per handshake try while autodetecting. */
  detectTimeout: number;
  /** Serial bytes through serialport's stream layer instead of the device's descriptor (slower; an escape hatch). */
  streamLayer?: boolean;
}

export const DEFAULT_PRINTER_CONFIG: PrinterConfig = {
  protocol: {},
  portGlobs: DEFAULT_PORT_GLOBS,
  virtualFallback: false,
  autoReconnect: false,
  detectTimeout: 2500,
};

export interface PrinterDeps {
  bus: PrinterBus;
  log: Logger;
  /** Starts (or finds) the virtual printer and returns its device path. */
  virtual?: () => Promise<string>;
  /** ports other printers are bound to: autodetection leaves them alone */
  claimedElsewhere?: () => Promise<string[]>;
  now?: () => number;
}

export class NotOperationalError extends Error {
  constructor(message = 'Printer is not operational') {
    super(message);
  }
}

export interface CurrentTemperatures {
  tools: Map<number, HeaterState>;
  bed?: HeaterState;
  chamber?: HeaterState;
}

const TICK_MS = 100;
/** how long the port stays open after a fatal error or M112 */
const FATAL_GRACE_MS = 1_500;
/** fatal reasons after which the protocol engine already sent M112 and heaters off (protocol.ts STOP_ON_FATAL) */
const ENGINE_STOPPED: ReadonlySet<string> = new Set(['emergency', 'timeout', 'resend', 'resend_loop']);

export class Printer {
  readonly config: PrinterConfig;
  state: PrinterStateId = 'OFFLINE';
  error = '';
  port: string | null = null;
  baudrate: number | null = null;
  firmware: FirmwareInfo | undefined;
  position: Position | undefined;
  readonly temperatures: CurrentTemperatures = { tools: new Map() };
  readonly offsets = new Map<string, number>();
  readonly history = new TemperatureHistory();
  readonly terminal = new TerminalLog();
  private readonly heatWait = new HeatWaitTracker();
  /** the numbered lines of the send path are encoded into this one buffer for the transport (it copies what it keeps) */
  private outbox = Buffer.allocUnsafeSlow(256);
  private readonly prompts = new PromptTracker();
  /** When the last connection was asked for, so reconnects reuse it. */
  private lastRequest: { port: string; baudrate: number } | undefined;

  private readonly bus: PrinterBus;
  private readonly log: Logger;
  private readonly deps: PrinterDeps;
  private readonly now: () => number;
  private engine: ProtocolEngine | undefined;
  private transport: Transport | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectSeq = 0;
  private closingOnPurpose = false;
  /** the port of a board that was halted (M112, kill()): it answers nothing until someone resets it */
  private haltedPort: { port: string; why: string } | undefined;
  /** times the firmware restarted under a live link (what `drained` waits through must not span one) */
  private resets = 0;
  /** after a fatal error the link stays open a moment to read the firmware's last words */
  private dying = false;

  constructor(config: Partial<PrinterConfig>, deps: PrinterDeps) {
    this.config = { ...DEFAULT_PRINTER_CONFIG, ...config };
    this.deps = deps;
    this.bus = deps.bus;
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
  }

  /** the unit this printer belongs to: its bus names it */
  get id(): string {
    return this.bus.printerId;
  }
  get stateText(): string {
    return stateText(this.state);
  }
  get operational(): boolean {
    return isOperational(this.state);
  }
  get printing(): boolean {
    return isPrinting(this.state);
  }
  get protocol(): ProtocolEngine | undefined {
    return this.engine;
  }
  /** The blocking heat-up (M109/M190/M191/M116) the firmware is running now, as sent; undefined when none. */
  get heating(): string | undefined {
    return this.heatWait.command;
  }
  /** The host prompt the firmware shows (M0/M1, M600, runout) while it waits for the user; undefined when none. */
  get prompt(): HostPrompt | undefined {
    return this.prompts.shown;
  }
  /** The firmware acts on M108, M410 and M876 as they arrive (Cap:EMERGENCY_PARSER), even while it waits. */
  get emergencyParser(): boolean {
    return this.firmware?.capabilities['EMERGENCY_PARSER'] === true;
  }
  /** Nothing queued and nothing in flight: every command sent so far was acknowledged. */
  get idle(): boolean {
    const e = this.engine;
    return !e || (e.linesInFlight === 0 && e.queuedCommands === 0);
  }

  // ---- connection --------------------------------------------------------------------------------------------

  /**
   * Connects to `port` (a device, a network URL, VIRTUAL, or AUTO to detect) at `baudrate` (0 = detect).
   * Resolves once the printer answered; rejects with a message a user can act on.
   */
  async connect(port: string, baudrate: number): Promise<void> {
    clearTimeout(this.reconnectTimer);
    await this.closeLink();
    const seq = ++this.connectSeq;
    this.lastRequest = { port, baudrate };
    this.error = '';
    const candidates = await this.candidates(port);
    if (seq !== this.connectSeq) return;
    if (candidates.length === 0) {
      const msg = `No printer port found (looked for ${this.config.portGlobs.join(', ')}); is the printer plugged in and on?`;
      this.fail(msg, 'autodetect');
      if (this.config.autoReconnect) this.watchForDevice();
      throw new Error(msg);
    }
    const fixedBaud = baudrate > 0 || candidates.every((c) => isNetworkTarget(c) || c === this.virtualLinkHint);
    const bauds = fixedBaud ? [baudrate > 0 ? baudrate : 250000] : AUTODETECT_BAUDRATES;
    const detecting = candidates.length * bauds.length > 1;
    this.setState(detecting ? 'DETECT_SERIAL' : 'OPEN_SERIAL');
    let lastError: Error | undefined;
    for (const candidate of candidates) {
      for (const baud of bauds) {
        if (seq !== this.connectSeq) return;
        try {
          await this.attempt(candidate, baud, detecting);
          this.lastRequest = { port, baudrate };
          return;
        } catch (err) {
          lastError = err as Error;
          if ((err as { code?: string }).code === 'EACCES' || (err as { code?: string }).code === 'ENOENT') break;
        }
      }
    }
    if (seq !== this.connectSeq) return;
    const halted = this.haltedPort && candidates.includes(this.haltedPort.port) ? this.haltedPort : undefined;
    if (halted && /No answer/.test(lastError?.message ?? '')) {
      // a halted Marlin ignores everything until it is reset: retrying would only knock on a locked door for ever
      const msg = `${halted.port} does not answer: the printer was halted (${halted.why}) and needs a reset. Press its reset button or switch it off and on, then connect again.`;
      this.fail(msg, 'halted');
      throw new Error(msg);
    }
    const msg = detecting
      ? `No printer answered on ${candidates.join(', ')} at ${bauds.join(', ')} baud${lastError ? ` (last error: ${lastError.message})` : ''}`
      : (lastError?.message ?? 'Connection failed');
    this.fail(msg, detecting ? 'autodetect' : 'connection');
    if (this.config.autoReconnect) this.watchForDevice();
    throw new Error(msg);
  }

  /** Closes the link on request. The state becomes Offline (no error). */
  async disconnect(): Promise<void> {
    this.connectSeq++;
    clearTimeout(this.reconnectTimer);
    this.lastRequest = undefined;
    await this.closeLink();
    this.error = '';
    this.setState('OFFLINE');
  }

  private virtualLinkHint: string | undefined;

  private async candidates(port: string): Promise<string[]> {
    const upper = port.toUpperCase();
    if (upper === VIRTUAL_PORT) return [await this.startVirtual()];
    if (upper !== 'AUTO') return [port];
    const found = await withoutClaimed(await listCandidatePorts(this.config.portGlobs), (await this.deps.claimedElsewhere?.()) ?? []);
    if (found.length === 0 && this.config.virtualFallback && this.deps.virtual) {
      this.log.info('no printer found: using the virtual printer');
      return [await this.startVirtual()];
    }
    return found;
  }

  private async startVirtual(): Promise<string> {
    if (!this.deps.virtual) throw new Error('The virtual printer is not available');
    const link = await this.deps.virtual();
    this.virtualLinkHint = link;
    return link;
  }

  /** One handshake on one port at one baud rate. */
  private attempt(path: string, baud: number, detecting: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let garbage = 0;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (err) {
          const t = this.transport;
          this.stopTicker();
          this.engine = undefined;
          this.transport = undefined;
          this.closingOnPurpose = true;
          void (t?.close() ?? Promise.resolve()).finally(() => {
            this.closingOnPurpose = false;
            reject(err);
          });
        } else resolve();
      };
      const protocol: Partial<ProtocolOptions> = { ...this.config.protocol };
      if (detecting) {
        protocol.connectionTimeout = this.config.detectTimeout;
        protocol.helloTries = 2;
      }
      const engine = new ProtocolEngine(
        {
          write: (data, longRunning) => this.writeOut(engine, data, longRunning),
          // the send path: a transport that takes bytes gets the line encoded into them, no string built; a
          // long-running line (a heat-up among them) is built as text, to be looked into
          writeNumbered: (n, cmd, longRunning) => {
            const t = this.transport;
            if (longRunning || !t?.writeBytes) {
              const text = numberedLine(n, cmd);
              this.writeOut(engine, text, longRunning);
              return text.length;
            }
            if (this.outbox.length < cmd.length + NUMBERED_LINE_OVERHEAD) this.outbox = Buffer.allocUnsafeSlow(2 * (cmd.length + NUMBERED_LINE_OVERHEAD));
            const length = encodeNumberedLine(this.outbox, n, cmd);
            t.writeBytes(this.outbox, length);
            return length;
          },
          log: (dir, line) => this.logLine(dir, line),
          event: (e) => {
            if (!settled) {
              if (e.type === 'connected') {
                this.onConnected(path, baud);
                settle();
              } else if (e.type === 'fatal') settle(new Error(e.message));
              return;
            }
            this.onEngineEvent(e);
          },
        },
        protocol,
      );
      openTransport(path, baud, {
        line: (line) => {
          if (!settled && detecting && isGarbage(line) && ++garbage >= 3) {
            settle(new Error(`Unreadable answer on ${path} at ${baud} baud`));
            return;
          }
          // the ok first: what the engine sends in answer to it (the next line) is not what it acknowledges
          if (settled && this.engine === engine && isOk(line)) this.onOk();
          engine.receive(line, this.now());
          // nothing in flight, nothing waits: whatever oks were merged or named past the count, the heat-up is over
          if (this.engine === engine && this.heatWait.command !== undefined && engine.linesInFlight === 0 && this.heatWait.reset()) this.announceHeating();
        },
        closed: (err) => {
          if (!settled) settle(err ?? new Error(`${path} closed during the handshake`));
          else if (this.engine === engine && !this.closingOnPurpose) void this.onLinkLost(err);
        },
      }, { streamLayer: this.config.streamLayer }).then(
        (transport) => {
          if (settled) {
            void transport.close();
            return;
          }
          this.transport = transport;
          this.engine = engine;
          this.port = path;
          this.baudrate = baud;
          if (!detecting) this.setState('CONNECTING');
          this.startTicker();
          engine.begin(this.now());
        },
        (err: Error) => settle(err),
      );
    });
  }

  /** A line for the printer, from `engine`. A heat-up is counted before the engine adds the line to its in-flight
   * count, and announced once the engine has finished sending it, so an M108 in answer goes out after the heat-up,
   * never ahead of it. Every heat-up is a long-running command: the lines the engine says are not (moves) are not
   * looked into. */
  private writeOut(engine: ProtocolEngine, data: string, longRunning: boolean | undefined): void {
    const heating = this.engine === engine && longRunning !== false && this.heatWait.sent(data, engine.linesInFlight);
    this.transport?.write(data);
    if (heating) queueMicrotask(() => this.announceHeating());
  }

  private onConnected(path: string, baud: number): void {
    this.haltedPort = undefined;
    this.forgetWaits();
    this.port = path;
    this.baudrate = baud;
    this.log.info(`connected to ${path} at ${baud} baud`);
    this.setState('OPERATIONAL');
    this.bus.emit('printer.connected', { printerId: this.id, port: path, baudrate: baud });
  }

  private async onLinkLost(err: Error | undefined): Promise<void> {
    if (this.dying) return; // a fatal error is closing it already
    const message = err?.message ?? 'The connection to the printer was lost';
    this.log.warn(message);
    this.forgetWaits();
    this.stopTicker();
    this.engine?.end();
    this.engine = undefined;
    this.transport = undefined;
    this.fail(message, 'disconnect');
    this.bus.emit('printer.disconnected', { printerId: this.id });
    if (this.config.autoReconnect && this.lastRequest) this.watchForDevice();
  }

  /** Polls for the device to come back, then reconnects with the same request. */
  private watchForDevice(): void {
    const request = this.lastRequest;
    if (!request) return;
    clearTimeout(this.reconnectTimer);
    const check = async () => {
      if (this.lastRequest !== request || this.operational) return;
      let present: boolean;
      if (request.port.toUpperCase() === 'AUTO') present = (await listCandidatePorts(this.config.portGlobs)).length > 0;
      else if (isNetworkTarget(request.port) || request.port.toUpperCase() === VIRTUAL_PORT) present = true;
      else present = existsSync(request.port);
      if (present) {
        this.log.info(`${request.port} is back: reconnecting`);
        try {
          await this.connect(request.port, request.baudrate);
          return;
        } catch {
          // connect() scheduled the next check itself
          return;
        }
      }
      this.reconnectTimer = setTimeout(() => void check(), 1000);
      this.reconnectTimer.unref();
    };
    this.reconnectTimer = setTimeout(() => void check(), 1000);
    this.reconnectTimer.unref();
  }

  private async closeLink(): Promise<void> {
    const t = this.transport;
    this.forgetWaits();
    this.stopTicker();
    this.engine?.end();
    this.engine = undefined;
    this.transport = undefined;
    this.port = null;
    this.baudrate = null;
    // what a closed link last reported is not a current temperature
    this.temperatures.tools.clear();
    this.temperatures.bed = undefined;
    this.temperatures.chamber = undefined;
    if (t) {
      this.closingOnPurpose = true;
      try {
        await t.close();
      } finally {
        this.closingOnPurpose = false;
      }
    }
  }

  private fail(message: string, reason: string): void {
    this.error = message;
    this.port = null;
    this.baudrate = null;
    this.setState('CLOSED_WITH_ERROR');
    this.bus.emit('printer.error', { printerId: this.id, reason, message });
  }

  // ---- commands ----------------------------------------------------------------------------------------------

  /** Settings that may change on a live connection (windowed mode); the next connection starts with them too. */
  configureProtocol(change: Pick<ProtocolOptions, 'windowed' | 'maxWindow' | 'alwaysChecksum'>): void {
    this.config.protocol = { ...this.config.protocol, ...change };
    this.engine?.configure(change);
  }

  /** How the next connection moves its bytes (the running one keeps its transport). */
  configureLink(change: Pick<PrinterConfig, 'streamLayer'>): void {
    this.config.streamLayer = change.streamLayer;
  }

  /** A reconnect is scheduled (the device is watched for). For tests and the API. */
  get reconnectScheduled(): boolean {
    return this.reconnectTimer !== undefined && !this.operational;
  }

  /** Queues commands in order. Throws NotOperationalError when not connected. */
  commands(lines: string[]): void {
    const engine = this.requireEngine();
    const now = this.now();
    for (const line of lines) engine.send(line, now);
  }

  /**
   * Answers the shown host prompt with choice `index` (M876 S<index>; the engine sends it on the emergency path
   * when the firmware has an emergency parser, so it reaches the firmware while M0 or M600 waits). Returns false
   * when no prompt is shown or it has no such choice.
   */
  answerPrompt(index: number): boolean {
    const p = this.prompts.shown;
    if (!p || !Number.isInteger(index) || index < 0 || index >= p.choices.length) return false;
    this.commands([`M876 S${index}`]);
    this.log.info(`host prompt "${p.text}": answered "${p.choices[index]}"`);
    if (this.prompts.close()) this.announcePrompt(null);
    return true;
  }

  emergencyStop(): void {
    this.requireEngine().emergencyStop();
  }

  fakeAck(): void {
    this.requireEngine().fakeAck(this.now());
  }

  private managedStream = false;

  /** Streams lines. `managed`: a job runner owns the job states and the end of the stream. */
  stream(source: LineSource, managed = false): void {
    const engine = this.requireEngine();
    // STARTING is the job runner opening the file for this very stream
    if ((this.printing && this.state !== 'STARTING') || this.state === 'PAUSED') throw new Error('Already printing');
    this.managedStream = managed;
    this.setState('PRINTING');
    engine.stream(source, this.now());
  }

  /** Wakes the engine when an async source has lines again. */
  pump(): void {
    this.engine?.pump(this.now());
  }

  /** Stops taking job lines; lines already sent still get their oks. */
  stopStream(setOperational = true): void {
    this.engine?.stopStream();
    if (setOperational && (this.printing || this.state === 'PAUSED')) this.setState('OPERATIONAL');
  }

  /** The job runner moves between the job states (Starting, Printing, Pausing, Paused, Resuming, Cancelling, Finishing). */
  setJobState(state: 'STARTING' | 'PRINTING' | 'PAUSING' | 'PAUSED' | 'RESUMING' | 'CANCELLING' | 'FINISHING' | 'OPERATIONAL'): void {
    if (!this.operational) return;
    this.setState(state);
  }

  /** Resolves once nothing is queued or in flight (every command sent so far was acknowledged). */
  async drained(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const resets = this.resets;
    for (;;) {
      // a firmware that restarted meanwhile dropped whatever it had not run (a recovery's heat-up and homing, a
      // bed-clear script): never "done"
      if (this.resets !== resets) throw new Error('The printer reset before it ran the commands sent to it');
      const e = this.engine;
      if (!e || (e.linesInFlight === 0 && e.queuedCommands === 0)) return;
      if (Date.now() > deadline) throw new Error('The printer did not acknowledge its queued commands in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Connected and taking commands; in Error with the link open (a shut-down Klipper) the terminal still works. */
  get acceptsCommands(): boolean {
    return this.engine !== undefined && this.engine.isOperational && !this.dying && (this.operational || this.state === 'ERROR');
  }

  private requireEngine(): ProtocolEngine {
    if (!this.acceptsCommands) throw new NotOperationalError();
    return this.engine!;
  }

  // ---- engine events -----------------------------------------------------------------------------------------

  private onEngineEvent(e: ProtocolEvent): void {
    switch (e.type) {
      case 'firmware':
        this.firmware = e.info;
        this.log.info(`firmware: ${e.info.name} (${e.info.flavor})`);
        this.bus.emit('printer.firmware', { printerId: this.id, firmware: e.info });
        return;
      case 'temperature':
        this.onTemperature(e.reading);
        return;
      case 'target': {
        const t = this.temperatures;
        if (e.heater === 'bed') t.bed = { actual: t.bed?.actual ?? 0, target: e.target };
        else if (e.heater === 'chamber') t.chamber = { actual: t.chamber?.actual ?? 0, target: e.target };
        else t.tools.set(e.heater, { actual: t.tools.get(e.heater)?.actual ?? 0, target: e.target });
        return;
      }
      case 'position':
        this.position = e.position;
        this.bus.emit('printer.position', { printerId: this.id, position: e.position });
        return;
      case 'action':
        if (e.action.name.startsWith('prompt_')) {
          this.announcePrompt(this.prompts.action(e.action.name, e.action.params, this.engine?.linesInFlight ?? 0));
          return;
        }
        this.log.info(`host action from firmware: ${e.action.name} ${e.action.params}`.trim());
        this.bus.emit('printer.action', { printerId: this.id, name: e.action.name, params: e.action.params });
        if (e.action.name === 'disconnect') void this.disconnect();
        return;
      case 'message':
        this.bus.emit('printer.message', { printerId: this.id, text: e.text });
        return;
      case 'command-error':
        this.log.warn(`the printer rejected a command: ${e.message}`);
        this.bus.emit('printer.message', { printerId: this.id, text: `Error: ${e.message}` });
        return;
      case 'timeout':
        // the M105 tickle, when one goes, shows as its own Send line: behind a command the firmware may still be running
        // (ok-before-output firmware during a heat-up) none is added
        this.terminal.push(`Communication timeout (${e.consecutive}) while waiting for an ok`);
        this.log.warn(`communication timeout #${e.consecutive}`);
        return;
      case 'stream-done':
        // a managed stream (a print job) has its runner decide what comes next (Finishing → Operational)
        if (!this.managedStream && this.printing) this.setState('OPERATIONAL');
        this.bus.emit('printer.stream-done', { printerId: this.id });
        return;
      case 'fatal':
        void this.onFatal(e.reason, e.message);
        return;
      case 'halted':
        if (this.dying) return;
        this.error = e.message;
        if (this.state !== 'ERROR') {
          this.log.error(`printer halted: ${e.message}`);
          this.setState('ERROR');
          this.bus.emit('printer.error', { printerId: this.id, reason: 'firmware', message: e.message });
        } else this.bus.emit('printer.state', { printerId: this.id, state: this.state, text: this.stateText, error: this.error });
        return;
      case 'reset':
        this.onExternalReset();
        return;
      case 'ready':
        if (this.dying || this.state !== 'ERROR') return;
        this.log.info('the firmware is ready again');
        this.error = '';
        this.setState('OPERATIONAL');
        return;
      case 'connected':
      case 'tool':
        return;
    }
  }

  private async onFatal(reason: string, message: string): Promise<void> {
    this.log.error(`printer error (${reason}): ${message}`);
    const t = this.transport;
    // the engine stopped the printer itself after an emergency stop, timeouts or a resend loop (M112 and heaters
    // off); for anything else (a firmware error, a failed handshake, the link lost) heaters off, best effort
    if (t && !ENGINE_STOPPED.has(reason)) {
      const tools = Math.max(1, this.temperatures.tools.size);
      const off = [...Array.from({ length: tools }, (_, i) => `M104 T${i} S0`), 'M140 S0'];
      for (const line of off) {
        t.write(line + '\n');
        this.logLine('>', line);
      }
    }
    // a board that stopped itself (M112, kill()) answers nothing until it is reset: say so on the next connect
    if (this.port && (ENGINE_STOPPED.has(reason) || /halted|kill\(\) called/i.test(message))) {
      this.haltedPort = { port: this.port, why: reason === 'emergency' ? 'emergency stop' : /halted|kill\(\) called/i.test(message) ? message : `M112 after: ${message}` };
    }
    this.error = message;
    this.dying = true;
    this.setState('ERROR');
    this.bus.emit('printer.error', { printerId: this.id, reason, message });
    // keep the port open a moment: the heaters-off lines must leave, and the firmware's last words (its halt
    // message) are worth reading; closing at once lost both
    if (t) await new Promise((r) => setTimeout(r, FATAL_GRACE_MS));
    await this.closeLink();
    this.dying = false;
    this.error = message;
    this.setState('CLOSED_WITH_ERROR');
    this.bus.emit('printer.disconnected', { printerId: this.id });
  }

  /** The board rebooted under a live link (the engine starts it over): no wait, prompt or position survives it, and
   * a job cannot go on (the job runner ends it on the event). */
  private onExternalReset(): void {
    if (this.dying) return;
    this.resets++;
    const idle = !this.printing && this.state !== 'PAUSED' && this.state !== 'PAUSING';
    const message = idle
      ? "Printer sent 'start' while already operational. External reset? Line numbers start over"
      : "Printer sent 'start' during a print. External reset? The print is aborted: the printer lost its state";
    this.log.warn(message);
    this.terminal.push(message);
    this.forgetWaits();
    this.position = undefined;
    // a restarted board heats nothing: a firmware that reports no targets would otherwise go on showing the old ones
    const t = this.temperatures;
    for (const [i, h] of t.tools) t.tools.set(i, { actual: h.actual, target: h.target === null ? null : 0 });
    if (t.bed) t.bed = { actual: t.bed.actual, target: t.bed.target === null ? null : 0 };
    if (t.chamber) t.chamber = { actual: t.chamber.actual, target: t.chamber.target === null ? null : 0 };
    if (!this.managedStream && this.printing) this.setState('OPERATIONAL'); // a job's runner ends its own print
    if (this.state === 'ERROR') {
      // a halted firmware (Klipper shut down) that restarted works again
      this.error = '';
      this.setState('OPERATIONAL');
    }
    this.bus.emit('printer.reset', { printerId: this.id, idle });
  }

  private onOk(): void {
    if (this.heatWait.ok()) this.announceHeating();
    if (this.prompts.ok()) this.announcePrompt(null);
  }

  /** The link is gone or new: no heat-up runs and no prompt waits. */
  private forgetWaits(): void {
    if (this.heatWait.reset()) this.announceHeating();
    if (this.prompts.reset()) this.announcePrompt(null);
  }

  private announceHeating(): void {
    this.bus.emit('printer.heating', { printerId: this.id, command: this.heatWait.command ?? null });
  }

  private announcePrompt(change: PromptChange): void {
    if (change === undefined) return;
    if (change) this.log.info(`host prompt: "${change.text}" [${change.choices.join(' | ')}]`);
    this.bus.emit('printer.prompt', { printerId: this.id, prompt: change });
  }

  private onTemperature(r: TemperatureReading): void {
    const t = this.temperatures;
    for (const [i, h] of r.tools) t.tools.set(i, { actual: h.actual, target: h.target ?? t.tools.get(i)?.target ?? null });
    if (r.bed) t.bed = { actual: r.bed.actual, target: r.bed.target ?? t.bed?.target ?? null };
    if (r.chamber) t.chamber = { actual: r.chamber.actual, target: r.chamber.target ?? t.chamber?.target ?? null };
    const sample: TemperatureSample = { time: Math.floor(this.now() / 1000), tools: [] };
    const count = t.tools.size === 0 ? 0 : Math.max(...t.tools.keys()) + 1;
    for (let i = 0; i < count; i++) sample.tools.push({ ...(t.tools.get(i) ?? { actual: 0, target: null }) });
    if (t.bed) sample.bed = { ...t.bed };
    if (t.chamber) sample.chamber = { ...t.chamber };
    this.history.add(sample);
    this.bus.emit('printer.temperature', { printerId: this.id, sample });
  }

  private logLine(dir: '>' | '<', line: string): void {
    const text = (dir === '>' ? 'Send: ' : 'Recv: ') + line;
    this.terminal.push(text);
    if (this.bus.listeners('printer.log') > 0) this.bus.emit('printer.log', { printerId: this.id, line: text });
  }

  // ---- state -------------------------------------------------------------------------------------------------

  private setState(state: PrinterStateId): void {
    if (state === this.state) return;
    this.state = state;
    if (state === 'OFFLINE' || state === 'CLOSED_WITH_ERROR') {
      this.firmware = undefined;
    }
    this.bus.emit('printer.state', { printerId: this.id, state, text: stateText(state), error: this.error });
  }

  private startTicker(): void {
    this.stopTicker();
    this.ticker = setInterval(() => this.engine?.tick(this.now()), TICK_MS);
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Stops everything: for shutdown. */
  async close(): Promise<void> {
    this.connectSeq++;
    clearTimeout(this.reconnectTimer);
    this.lastRequest = undefined;
    await this.closeLink();
  }
}

/** An acknowledgement: `ok…`, or a temperature report with an ok merged onto its end (the engine splits those). */
function isOk(line: string): boolean {
  if (line.charCodeAt(0) === 111 /* o */ && line.charCodeAt(1) === 107 /* k */) return true; // most of the traffic
  return line.includes('ok') && (/^\s*ok/.test(line) || /ok N\d+ P\d+ B\d+\s*$/.test(line));
}

/** More than a third of the characters outside printable ASCII: a wrong baud rate. */
function isGarbage(line: string): boolean {
  if (line.length === 0) return false;
  let bad = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 32 && c !== 9) || c > 126) bad++;
  }
  return bad * 3 > line.length;
}
