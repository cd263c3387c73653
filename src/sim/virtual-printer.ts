// A Marlin-2-like printer on the other end of a byte stream. It checks line numbers and checksums the way
// Marlin does (including its silence on a repeated line number), models heating and motion time, auto-reports
// temperatures, answers M115 with Cap lines, and injects the faults tests need. Heat-ups block and end early on
// M108 (emergency parser); M0/M1 and M600 show host prompts and wait for M876 (or M108 where Marlin takes it),
// with the lines in the order real Marlin sends them (shared/reference/firmware-transcripts/
// marlin-wire-M0-M600-prompts.txt; the heater-timeout detour of a long M600 is left out).

import { createWriteStream, type WriteStream } from 'node:fs';
import { checksum } from '../printer/gcode.js';
import { type Heater, advanceHeater, heaterPower, makeHeater, reached } from './thermal.js';
import { type SimOptions, DEFAULT_SIM_OPTIONS, seededRandom } from './options.js';

export interface SimIO {
  write(text: string): void;
  /** Pull the cable: the host must see the device vanish. */
  unplug(): void;
}

interface Axes {
  x: number;
  y: number;
  z: number;
  e: number;
}

const BUSY_INTERVAL_MS = 2000;
const KLIPPER_SHUTDOWN_M112 = 'Shutdown due to M112 command\nOnce the underlying issue is corrected, use the\n"FIRMWARE_RESTART" command to reset the firmware, reload the\nconfig, and restart the host software.\nPrinter is shutdown';

export class VirtualPrinter {
  readonly opts: SimOptions;
  private readonly io: SimIO;
  private readonly random: () => number;
  private rx = '';
  private readonly queue: string[] = [];
  private blocked = false;
  private killed = false;
  private lastN = 0;
  /** the line number of the command being answered, null for an unnumbered one */
  private okLine: number | null = null;
  /** commands taken (handshake included): the fault options count in these */
  commandsReceived = 0;
  private readonly pos: Axes = { x: 0, y: 0, z: 0, e: 0 };
  private relative = false;
  private relativeE = false;
  private feedrate = 1500; // mm/min
  private tool = 0;
  private readonly tools: Heater[];
  private readonly bed: Heater = makeHeater(1.2, 0.3);
  private readonly chamber: Heater = makeHeater(0.3, 0.1);
  private thermalAt = Date.now();
  private moveEnds: number[] = [];
  private autoreportTimer: NodeJS.Timeout | undefined;
  private positionTimer: NodeJS.Timeout | undefined;
  private busyTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private abortWait: (() => void) | undefined;
  /** M0/M1 or M600 waiting for the user: `answer` with a prompt choice, or null for M108 (when `m108` takes it) */
  private userWait: { m108: boolean; answer: (choice: number | null) => void } | undefined;
  private record: WriteStream | undefined;
  /** Commands executed, in order, without line numbers (also appended to recordPath). */
  readonly executed: string[] = [];
  keepExecuted = false;
  /** Lines that arrived while the command buffer was already full: a host overran the firmware. */
  overruns = 0;
  /** --klipper: why it is shut down, or undefined while ready */
  private klipperDown: string | undefined;
  private lastActivity = Date.now();
  private waitTimer2: NodeJS.Timeout | undefined;

  constructor(io: SimIO, opts: Partial<SimOptions> = {}) {
    this.opts = { ...DEFAULT_SIM_OPTIONS, ...opts };
    this.io = io;
    this.random = seededRandom(this.opts.seed);
    this.tools = Array.from({ length: this.opts.extruders }, () => makeHeater(3, 1.5));
    if (this.opts.recordPath) this.record = createWriteStream(this.opts.recordPath, { flags: 'a' });
    if (this.opts.klipperShutdown) this.klipperDown = KLIPPER_SHUTDOWN_M112;
    if (this.opts.waitBursts) {
      // Marlin's NO_TIMEOUTS: idle for a second, it says `wait`; after a stall several arrive at once
      this.waitTimer2 = setInterval(() => {
        if (this.killed || this.blocked || this.queue.length > 0 || Date.now() - this.lastActivity < 1000) return;
        for (let i = 0; i < 4; i++) this.out('wait');
      }, 1000);
      this.waitTimer2.unref();
    }
  }

  /** Power on: the boot banner a host sees when it opens the port. */
  boot(): void {
    if (this.opts.okOnly) return;
    this.out('start');
    this.out('echo:Marlin 2.1.2.5 (Gantry virtual printer)');
    this.out('echo: Last Updated: 2024-01-01 | Author: (gantry sim)');
    this.out('echo:Hardcoded Default Settings Loaded');
  }

  close(): Promise<void> {
    this.stopTimers();
    clearInterval(this.waitTimer2);
    const rec = this.record;
    this.record = undefined;
    return new Promise((resolve) => (rec ? rec.end(resolve) : resolve()));
  }

  receive(chunk: string): void {
    this.rx += chunk;
    let nl = this.rx.indexOf('\n');
    while (nl >= 0) {
      const line = this.rx.slice(0, nl).replace(/\r$/, '');
      this.rx = this.rx.slice(nl + 1);
      this.onLine(line);
      nl = this.rx.indexOf('\n');
    }
  }

  // ---- receive side --------------------------------------------------------------------------------------

  private onLine(raw: string): void {
    if (this.opts.okOnly) {
      this.io.write(this.opts.advancedOk ? `ok P15 B${this.opts.bufsize - 1}\n` : 'ok\n');
      return;
    }
    const line = raw.trim();
    if (!line) return;
    this.lastActivity = Date.now();
    if (this.killed) return; // a killed Marlin answers nothing until reset
    // Marlin's emergency parser acts on these as the bytes arrive, before the command queue.
    if (this.opts.emergencyParser) {
      const bare = line.replace(/^N\d+\s+/, '').replace(/\*\d+$/, '');
      if (/^M112\b/i.test(bare)) {
        if (this.opts.klipper) this.klipperShutdown(KLIPPER_SHUTDOWN_M112);
        else this.kill('echo:M112 Shutdown');
        return;
      }
      if (/^M108\b/i.test(bare)) this.m108();
      if (/^M410\b/i.test(bare)) this.moveEnds = [];
      if (/^M876\b/i.test(bare)) this.m876(bare);
    }
    if (this.queue.length >= this.opts.bufsize + 8) this.overruns++;
    this.queue.push(line);
    this.drain();
  }

  private drain(): void {
    while (!this.blocked && !this.killed && this.queue.length > 0) {
      this.handleLine(this.queue.shift()!);
    }
  }

  private handleLine(line: string): void {
    let cmd = line;
    this.okLine = null;
    if (line[0] === 'N' || line[0] === 'n') {
      const star = line.lastIndexOf('*');
      const sp = line.indexOf(' ');
      const n = Number(line.slice(1, sp < 0 ? undefined : sp));
      if (star < 0) return this.lineError('No Checksum with line number');
      const expected = Number(line.slice(star + 1));
      cmd = line.slice(sp + 1, star).trim();
      const isM110 = /^M110\b/i.test(cmd);
      if (checksum(line.slice(0, star)) !== expected) return this.lineError('checksum mismatch');
      if (!isM110) {
        if (n === this.lastN) return; // Marlin: a repeated line number gets no answer at all
        if (n !== this.lastN + 1) return this.lineError('Line Number is not Last Line Number+1');
        if (this.opts.checksumErrorRate > 0 && this.random() < this.opts.checksumErrorRate) return this.lineError('checksum mismatch');
        if (this.opts.lineErrorRate > 0 && this.random() < this.opts.lineErrorRate) return this.lineError('Line Number is not Last Line Number+1');
      }
      this.lastN = isM110 ? numberParam(cmd, 'N', n) : n;
      this.okLine = n;
    }
    this.commandsReceived++;
    if (this.faultAt(this.opts.resetAtLine)) return this.reset();
    if (this.faultAt(this.opts.disconnectAtLine)) return this.unplug();
    if (this.faultAt(this.opts.fatalAtLine)) {
      this.out('Error:Thermal Runaway, system stopped! Heater_ID: 0');
      this.kill('Error:Printer halted. kill() called!');
      return;
    }
    this.execute(cmd);
  }

  private faultAt(n: number): boolean {
    return n > 0 && this.commandsReceived === n;
  }

  private lineError(message: string): void {
    this.out(`Error:${message}, Last Line: ${this.lastN}`);
    this.out(`Resend: ${this.lastN + 1}`);
    this.ok();
  }

  // ---- commands ------------------------------------------------------------------------------------------

  private execute(cmd: string): void {
    if (this.opts.klipper && this.klipperCommand(cmd)) return;
    this.executed.length < 1e7 && this.keepExecuted && this.executed.push(cmd);
    this.record?.write(cmd + '\n');
    const word = /^([GMTgmt])(\d+)/.exec(cmd);
    if (!word) {
      this.out(`echo:Unknown command: "${cmd}"`);
      return this.ok();
    }
    const letter = word[1]!.toUpperCase();
    const code = Number(word[2]);
    if (letter === 'T') return this.toolChange(code);
    if (letter === 'G') return this.gcode(code, cmd);
    return this.mcode(code, cmd);
  }

  private gcode(code: number, cmd: string): void {
    switch (code) {
      case 0:
      case 1:
      case 2:
      case 3:
        return this.move(cmd);
      case 4: {
        const ms = numberParam(cmd, 'P', NaN);
        const s = numberParam(cmd, 'S', 0);
        return this.afterMotion(() => this.blockFor((Number.isFinite(ms) ? ms : s * 1000) / this.opts.speedFactor, () => this.ok()));
      }
      case 28:
        return this.afterMotion(() =>
          this.blockFor(3000 / this.opts.speedFactor, () => {
            this.pos.x = this.pos.y = this.pos.z = 0;
            this.out(this.positionLine());
            this.ok();
          }),
        );
      case 29:
        return this.afterMotion(() => this.blockFor(10000 / this.opts.speedFactor, () => this.ok()));
      case 90:
        this.relative = false;
        this.relativeE = false;
        return this.ok();
      case 91:
        this.relative = true;
        this.relativeE = true;
        return this.ok();
      case 92:
        for (const axis of ['x', 'y', 'z', 'e'] as const) {
          const v = numberParam(cmd, axis.toUpperCase(), NaN);
          if (Number.isFinite(v)) this.pos[axis] = v;
        }
        return this.ok();
      default:
        return this.ok();
    }
  }

  private mcode(code: number, cmd: string): void {
    if (this.opts.staleReports && this.autoreportTimer && (code === 104 || code === 109 || code === 140 || code === 190)) this.autoreport();
    switch (code) {
      case 0:
      case 1:
        return this.afterMotion(() => this.userStop(cmd));
      case 600:
        return this.afterMotion(() => this.filamentChange());
      case 82:
        this.relativeE = false;
        return this.ok();
      case 83:
        this.relativeE = true;
        return this.ok();
      case 104:
      case 109: {
        const t = numberParam(cmd, 'T', this.tool);
        const heater = this.tools[t];
        if (!heater) {
          this.out(`echo:Invalid extruder ${t}`);
          return this.ok();
        }
        this.updateThermal();
        const r = numberParam(cmd, 'R', NaN);
        heater.target = Number.isFinite(r) ? r : numberParam(cmd, 'S', heater.target);
        if (this.opts.repetier) this.out(`TargetExtr${t}:${heater.target}`);
        if (code === 104) return this.ok();
        return this.heatWait(heater, Number.isFinite(r));
      }
      case 140:
      case 190: {
        this.updateThermal();
        const r = numberParam(cmd, 'R', NaN);
        this.bed.target = Number.isFinite(r) ? r : numberParam(cmd, 'S', this.bed.target);
        if (this.opts.repetier) this.out(`TargetBed:${this.bed.target}`);
        if (code === 140) return this.ok();
        return this.heatWait(this.bed, Number.isFinite(r));
      }
      case 141:
      case 191: {
        if (!this.opts.heatedChamber) return this.unknown(cmd);
        this.updateThermal();
        this.chamber.target = numberParam(cmd, 'S', this.chamber.target);
        if (code === 141) return this.ok();
        return this.heatWait(this.chamber, false);
      }
      case 105:
        this.updateThermal();
        if (this.opts.okBeforeOutput) {
          this.ok();
          return this.out(this.temperatureLine());
        }
        return this.out(`ok ${this.temperatureLine()}`);
      case 108:
        // with the emergency parser it acted when it arrived; in the queue it is a no-op, as in Marlin
        if (!this.opts.emergencyParser) this.m108();
        return this.ok();
      case 876:
        if (!this.opts.emergencyParser) this.m876(cmd);
        return this.ok();
      case 110:
        return this.ok();
      case 112:
        return this.kill('echo:M112 Shutdown');
      case 114:
        if (this.opts.okBeforeOutput) {
          this.ok();
          return this.out(this.positionLine());
        }
        this.out(this.positionLine());
        return this.ok();
      case 115:
        if (this.opts.klipper) return this.out(`ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.13.0-gantry-sim`);
        this.firmwareReport();
        return this.ok();
      case 118: {
        const text = cmd.replace(/^M118\s*/i, '');
        const m = /^((?:[AEP]\d\s+)*)(.*)$/.exec(text)!;
        const flags = m[1] ?? '';
        const msg = m[2] ?? '';
        this.out(/A1/.test(flags) ? `//${msg}` : /E1/.test(flags) ? `echo:${msg}` : msg);
        return this.ok();
      }
      case 154: {
        const s = numberParam(cmd, 'S', 0);
        clearInterval(this.positionTimer);
        this.positionTimer = s > 0 ? setInterval(() => this.out(this.positionLine()), s * 1000) : undefined;
        this.positionTimer?.unref();
        return this.ok();
      }
      case 155: {
        if (this.opts.klipper) return this.unknown(cmd);
        const s = numberParam(cmd, 'S', 0);
        clearInterval(this.autoreportTimer);
        this.autoreportTimer = s > 0 ? setInterval(() => this.autoreport(), s * 1000) : undefined;
        this.autoreportTimer?.unref();
        return this.ok();
      }
      case 400:
        return this.afterMotion(() => this.ok());
      case 410:
        this.moveEnds = [];
        return this.ok();
      case 999:
        return this.ok();
      case 17: case 18: case 84: case 106: case 107: case 113: case 117: case 220: case 221: case 201: case 203:
      case 204: case 205: case 206: case 92: case 500: case 501: case 502: case 503: case 73: case 75: case 76: case 77:
      case 862: case 900:
        return this.ok();
      default:
        return this.unknown(cmd);
    }
  }

  private unknown(cmd: string): void {
    this.out(this.opts.klipper ? `// Unknown command:"${cmd.split(/\s/)[0]!.toUpperCase()}"` : `echo:Unknown command: "${cmd}"`);
    this.ok();
  }

  // ---- Klipper -------------------------------------------------------------------------------------------

  /** Klipper's own commands, and its answers while shut down. True when the command was handled here. */
  private klipperCommand(cmd: string): boolean {
    const name = cmd.split(/\s/)[0]!.toUpperCase();
    if (name === 'STATUS') {
      if (this.klipperDown === undefined) this.out('// Klipper state: Ready');
      else this.klipperError(`${this.klipperDown}\nKlipper state: Not ready`);
      this.ok();
      return true;
    }
    if (name === 'FIRMWARE_RESTART' || name === 'RESTART') {
      this.ok();
      this.out('// Klipper state: Disconnect');
      const t = setTimeout(() => {
        this.klipperDown = undefined;
        for (const h of this.tools) h.target = 0;
        this.bed.target = 0;
        this.out('// Klipper state: Ready');
      }, 300);
      t.unref();
      return true;
    }
    if (name === 'M112') {
      this.klipperShutdown(KLIPPER_SHUTDOWN_M112);
      this.ok();
      return true;
    }
    if (this.klipperDown === undefined) return false;
    // not ready: what klippy answers from its base handlers, an error for everything else
    if (name === 'M105') this.out('ok T:0');
    else if (name === 'M110' || name === 'M115') return false;
    else {
      this.klipperError(this.klipperDown);
      this.ok();
    }
    return true;
  }

  /** klippy's error form: every line as `// …`, then `!! <first line>`. */
  private klipperError(message: string): void {
    const lines = message.split('\n');
    if (lines.length > 1) for (const l of lines) this.out(`// ${l}`);
    this.out(`!! ${lines[0]}`);
  }

  private klipperShutdown(reason: string): void {
    if (this.klipperDown !== undefined) return;
    this.klipperDown = reason;
    this.queue.length = 0;
    this.unblock();
    this.moveEnds = [];
    for (const h of this.tools) h.target = 0;
    this.bed.target = 0;
    this.out('// Klipper state: Shutdown');
  }

  private toolChange(t: number): void {
    if (t >= this.tools.length) this.out(`echo:T${t} Invalid extruder`);
    else this.tool = t;
    this.ok();
  }

  // ---- motion --------------------------------------------------------------------------------------------

  private move(cmd: string): void {
    const f = numberParam(cmd, 'F', NaN);
    if (Number.isFinite(f) && f > 0) this.feedrate = f;
    let dist2 = 0;
    for (const axis of ['x', 'y', 'z'] as const) {
      const v = numberParam(cmd, axis.toUpperCase(), NaN);
      if (!Number.isFinite(v)) continue;
      const next = this.relative ? this.pos[axis] + v : v;
      dist2 += (next - this.pos[axis]) ** 2;
      this.pos[axis] = next;
    }
    const e = numberParam(cmd, 'E', NaN);
    if (Number.isFinite(e)) this.pos.e = this.relativeE ? this.pos.e + e : e;
    const ms = (Math.sqrt(dist2) / (this.feedrate / 60)) * 1000 / this.opts.speedFactor;
    const now = Date.now();
    this.moveEnds = this.moveEnds.filter((t) => t > now);
    const start = this.moveEnds.length ? this.moveEnds[this.moveEnds.length - 1]! : now;
    if (ms < 0.5 && this.moveEnds.length === 0) return this.ok(); // effectively instant
    const end = start + ms;
    if (this.moveEnds.length >= this.opts.plannerSize) {
      // planner full: the ok waits until the oldest move finishes, as on a real board
      const wait = this.moveEnds[0]! - now;
      this.moveEnds.push(end);
      return this.blockFor(wait, () => this.ok());
    }
    this.moveEnds.push(end);
    this.ok();
  }

  private afterMotion(then: () => void): void {
    const now = Date.now();
    const last = this.moveEnds.length ? this.moveEnds[this.moveEnds.length - 1]! : 0;
    if (last <= now) {
      this.moveEnds = [];
      then();
      return;
    }
    this.blockFor(last - now, () => {
      this.moveEnds = [];
      then();
    });
  }

  // ---- blocking and heating ------------------------------------------------------------------------------

  /** Holds the command queue for `ms`, saying `busy: processing` every 2 s like HOST_KEEPALIVE. */
  private blockFor(ms: number, then: () => void): void {
    if (ms < 1) {
      then();
      return;
    }
    this.block();
    this.waitTimer = setTimeout(() => {
      this.unblock();
      then();
      this.drain();
    }, ms);
  }

  private block(busy = 'echo:busy: processing'): void {
    this.blocked = true;
    clearInterval(this.busyTimer);
    this.busyTimer = setInterval(() => this.out(busy), BUSY_INTERVAL_MS);
  }

  private unblock(): void {
    this.blocked = false;
    clearInterval(this.busyTimer);
    clearTimeout(this.waitTimer);
    this.busyTimer = undefined;
    this.abortWait = undefined;
    this.userWait = undefined;
  }

  // ---- waiting for the user: M0/M1, M600, host prompts ---------------------------------------------------

  /** M108: ends a heat-up, and a wait for the user that takes it (M0, "Nozzle Parked"). */
  private m108(): void {
    this.abortWait?.();
    if (this.userWait?.m108) this.userWait.answer(null);
  }

  /** M876 S<n>: the answer to the prompt shown. */
  private m876(cmd: string): void {
    const choice = numberParam(cmd, 'S', NaN);
    if (this.opts.hostPrompts && Number.isInteger(choice)) this.userWait?.answer(choice);
  }

  /** A host prompt as Marlin shows one: the old one closed first, then the text, the buttons, show. */
  private prompt(text: string, buttons: string[]): void {
    if (!this.opts.hostPrompts) return;
    this.out('//action:prompt_end');
    this.out(`//action:prompt_begin ${text}`);
    for (const b of buttons) this.out(`//action:prompt_button ${b}`);
    this.out('//action:prompt_show');
  }

  /** Holds the queue until the user answers, saying `busy: paused for user` like Marlin's keepalive. */
  private waitForUser(m108: boolean, then: (choice: number | null) => void): void {
    this.block('echo:busy: paused for user');
    this.userWait = {
      m108,
      answer: (choice) => {
        this.unblock();
        then(choice);
        queueMicrotask(() => this.drain());
      },
    };
  }

  /** M0/M1 [text]: the text echoed, a Continue prompt, and a wait for M108 or M876 (no prompt_end, as Marlin). */
  private userStop(cmd: string): void {
    const text = cmd.replace(/^M[01]\b\s*/i, '').trim();
    if (text) this.out(`echo:${text}`);
    this.prompt(text || `${cmd.slice(0, 2).toUpperCase()} Stop`, ['Continue']);
    this.waitForUser(true, () => this.ok());
  }

  /**
   * M600 as Marlin's ADVANCED_PAUSE_FEATURE runs it with host prompts: `//action:paused`, park, "Nozzle Parked"
   * (Continue: M876 or M108), load, then "Paused" (PurgeMore / Continue: M876 only) until Continue, back to
   * where it was, `//action:resumed`, ok.
   */
  private filamentChange(): void {
    const saved = { ...this.pos };
    if (this.opts.hostActions) this.out('//action:paused');
    this.prompt('Pause', ['Dismiss']);
    this.pos.e -= 2;
    this.pos.z = Math.min(200, this.pos.z + 20);
    this.pos.x = 10;
    this.pos.y = 190;
    this.blockFor(2000 / this.opts.speedFactor, () => {
      this.out(this.positionLine());
      this.out('echo:Insert filament and send M108');
      this.prompt('Nozzle Parked', ['Continue']);
      this.waitForUser(true, () => this.blockFor(3000 / this.opts.speedFactor, () => this.purgeMenu(saved)));
    });
  }

  private purgeMenu(saved: Axes): void {
    if (!this.opts.hostPrompts) return this.filamentChangeDone(saved);
    this.prompt('Paused', ['PurgeMore', 'Continue']);
    this.waitForUser(false, (choice) => {
      if (choice === 0) this.blockFor(1000 / this.opts.speedFactor, () => this.purgeMenu(saved));
      else this.filamentChangeDone(saved);
    });
  }

  private filamentChangeDone(saved: Axes): void {
    if (this.opts.hostPrompts) this.out('//action:prompt_end');
    Object.assign(this.pos, saved);
    if (this.opts.hostActions) this.out('//action:resumed');
    this.ok();
  }

  private heatWait(heater: Heater, bothWays: boolean): void {
    this.block();
    let lastReport = 0;
    const check = () => {
      this.updateThermal();
      const now = Date.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        this.out(` ${this.temperatureLine()} W:?`);
      }
      if (heater.target <= 0 || reached(heater, bothWays)) {
        this.unblock();
        this.ok();
        this.drain();
        return;
      }
      this.waitTimer = setTimeout(check, 20);
    };
    this.abortWait = () => {
      this.unblock();
      this.ok();
      queueMicrotask(() => this.drain());
    };
    check();
  }

  private updateThermal(): void {
    const now = Date.now();
    const seconds = ((now - this.thermalAt) / 1000) * this.opts.speedFactor;
    this.thermalAt = now;
    for (const h of this.tools) advanceHeater(h, seconds);
    advanceHeater(this.bed, seconds);
    if (this.opts.heatedChamber) advanceHeater(this.chamber, seconds);
  }

  private autoreport(): void {
    if (this.killed) return;
    this.updateThermal();
    this.out(` ${this.temperatureLine()}`);
  }

  temperatureLine(): string {
    const f = (n: number) => n.toFixed(2);
    // some boards (and Repetier, which sends targets on their own lines) report no targets at all
    const t = (n: number) => (this.opts.noTargetReports || this.opts.repetier ? '' : ` /${f(n)}`);
    const active = this.tools[this.tool]!;
    if (this.opts.klipper) return `B:${f(this.bed.actual)}${t(this.bed.target)} ${this.tools.map((h, i) => `T${i}:${f(h.actual)}${t(h.target)}`).join(' ')}`;
    let s = `T:${f(active.actual)}${t(active.target)} B:${f(this.bed.actual)}${t(this.bed.target)}`;
    if (this.tools.length > 1) this.tools.forEach((h, i) => (s += ` T${i}:${f(h.actual)}${t(h.target)}`));
    if (this.opts.heatedChamber) s += ` C:${f(this.chamber.actual)}${t(this.chamber.target)}`;
    s += ` @:${heaterPower(active)} B@:${heaterPower(this.bed)}`;
    return s;
  }

  private positionLine(): string {
    const p = this.pos;
    return `X:${p.x.toFixed(2)} Y:${p.y.toFixed(2)} Z:${p.z.toFixed(2)} E:${p.e.toFixed(2)} Count X:${Math.round(p.x * 80)} Y:${Math.round(p.y * 80)} Z:${Math.round(p.z * 400)}`;
  }

  private firmwareReport(): void {
    this.out(
      `FIRMWARE_NAME:${this.opts.repetier ? 'Repetier_1.0.4' : 'Marlin 2.1.2.5'} (Gantry virtual printer) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:Virtual Printer EXTRUDER_COUNT:${this.tools.length} UUID:00000000-0000-4000-8000-000000000001`,
    );
    const caps: [string, boolean][] = [
      ['SERIAL_XON_XOFF', false], ['BINARY_FILE_TRANSFER', false], ['EEPROM', false], ['VOLUMETRIC', true],
      ['AUTOREPORT_POS', true], ['AUTOREPORT_TEMP', true], ['PROGRESS', false], ['PRINT_JOB', true], ['AUTOLEVEL', false],
      ['RUNOUT', false], ['Z_PROBE', false], ['LEVELING_DATA', false], ['BUILD_PERCENT', false], ['SOFTWARE_POWER', false],
      ['TOGGLE_LIGHTS', false], ['CASE_LIGHT_BRIGHTNESS', false], ['EMERGENCY_PARSER', this.opts.emergencyParser],
      ['HOST_ACTION_COMMANDS', this.opts.hostActions], ['PROMPT_SUPPORT', this.opts.hostActions && this.opts.hostPrompts], ['SDCARD', false],
      ['REPEAT', false], ['SD_WRITE', false], ['AUTOREPORT_SD_STATUS', false], ['LONG_FILENAME', false],
      ['THERMAL_PROTECTION', true], ['MOTION_MODES', false], ['ARCS', true], ['BABYSTEPPING', false],
      ['CHAMBER_TEMPERATURE', this.opts.heatedChamber], ['COOLER_TEMPERATURE', false], ['MEATPACK', false],
    ];
    for (const [name, on] of caps) this.out(`Cap:${name}:${on ? 1 : 0}`);
    const v = this.opts.volume;
    if (v) {
      const box = `{min:{x:0.00,y:0.00,z:0.00},max:{x:${v.x.toFixed(2)},y:${v.y.toFixed(2)},z:${v.z.toFixed(2)}}}`;
      this.out(`area:{full:${box},work:${box}}`); // Marlin's EXTENDED_M115 machine volume
    }
  }

  // ---- faults and output ---------------------------------------------------------------------------------

  private ok(): void {
    if (this.opts.busyRate > 0 && this.random() < this.opts.busyRate) this.out('echo:busy: processing');
    if (this.opts.lostOkRate > 0 && this.random() < this.opts.lostOkRate) return;
    if (this.opts.advancedOk) {
      const plannerFree = this.opts.plannerSize - this.moveEnds.length;
      const bufferFree = Math.max(0, this.opts.bufsize - this.queue.length);
      // as Marlin: the N is the command's own line number, and only a numbered command has one
      const ok = `ok${this.okLine !== null ? ` N${this.okLine}` : ''} P${Math.max(0, plannerFree)} B${bufferFree}`;
      // now and then Marlin's serial merges the ok into the temperature report before it
      if (this.opts.garbledOkRate > 0 && this.random() < this.opts.garbledOkRate) this.out(` ${this.temperatureLine()}${ok}`);
      else this.out(ok);
    } else if (this.opts.repetier && this.okLine !== null) this.out(`ok ${this.okLine}`);
    else this.out('ok');
  }

  private kill(first: string): void {
    this.out(first);
    if (first !== 'Error:Printer halted. kill() called!') this.out('Error:Printer halted. kill() called!');
    this.killed = true;
    this.queue.length = 0;
    this.stopTimers();
    for (const h of this.tools) h.target = 0;
    this.bed.target = 0;
  }

  private reset(): void {
    this.stopTimers();
    this.queue.length = 0;
    this.killed = false;
    this.lastN = 0;
    this.moveEnds = [];
    for (const h of this.tools) h.target = 0;
    this.bed.target = 0;
    this.boot();
  }

  private unplug(): void {
    this.stopTimers();
    this.queue.length = 0;
    this.io.unplug();
  }

  /** Back on the cable after an unplug: a fresh boot. */
  replugged(): void {
    this.reset();
  }

  private stopTimers(): void {
    clearInterval(this.autoreportTimer);
    clearInterval(this.positionTimer);
    this.unblock();
    this.autoreportTimer = this.positionTimer = undefined;
  }

  private out(line: string): void {
    this.io.write(line + '\n');
  }
}

const PARAM_RES = new Map<string, RegExp>();

function numberParam(cmd: string, letter: string, fallback: number): number {
  let re = PARAM_RES.get(letter);
  if (!re) PARAM_RES.set(letter, (re = new RegExp(`\\s${letter}(-?\\d*\\.?\\d+)`, 'i')));
  const m = re.exec(cmd);
  return m ? Number(m[1]) : fallback;
}
