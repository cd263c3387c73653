// Flow control against a misbehaving firmware, as a property: thousands of job lines through the real protocol
// engine and a model of Marlin's serial front end that sends `wait` bursts, loses oks, duplicates and mangles
// numbered ones, answers before the command's output, says busy during long commands and ignores a repeated line
// number. Random interleavings from fixed seeds; at every step the invariant holds, and at the end the firmware
// executed the job exactly: every line once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksum } from '../../src/printer/gcode.js';
import { type ProtocolEvent, ProtocolEngine } from '../../src/printer/protocol.js';
import { arraySource } from '../helpers/engine-harness.js';
import { seededRandom } from '../../src/sim/options.js';
import { encodeNumberedLine } from '../../src/printer/gcode.js';


type OkStyle = 'plain' | 'advanced' | 'repetier';

interface Faults {
  okStyle: OkStyle;
  lostOk: number;
  duplicateOk: number;
  mangledOk: number;
  waitBurst: number;
  okBeforeOutput: boolean;
  /** Repetier's way: a long command (heat-up, M400, dwell) is acknowledged when it starts, and reports its
   * temperatures every second while it runs; its M115 ok comes before FIRMWARE_NAME */
  okBeforeLong?: boolean;
}

interface Queued {
  n: number | null;
  cmd: string;
  /** acknowledged already (okBeforeLong) */
  acked?: boolean;
}

const BUFSIZE = 4; // Marlin's command queue
const RX_BYTES = 128; // and its serial receive buffer

/** Marlin's serial front end and command queue, with the faults switched on. */
class Firmware {
  transit: string[] = []; // host → firmware, not yet parsed
  queue: Queued[] = [];
  out: string[] = []; // firmware → host, not yet read
  executed: string[] = [];
  lastN = 0;
  overflow: string | undefined;
  busyUntil = 0; // a long command runs until then
  private lastBusy = 0;
  private lastReport = 0;

  constructor(
    private readonly f: Faults,
    private readonly rnd: () => number,
  ) {}

  write(data: string): void {
    for (const l of data.split('\n')) if (l) this.transit.push(l);
    const bytes = this.transit.reduce((a, l) => a + l.length + 1, 0);
    if (bytes > RX_BYTES) this.overflow ??= `receive buffer overflow: ${bytes} bytes in transit`;
  }

  /** One line off the wire into the parser. */
  parseOne(): void {
    const raw = this.transit.shift()!;
    const m = /^N(\d+) (.*)\*(\d+)$/.exec(raw);
    if (!m) return this.accept({ n: null, cmd: raw });
    const n = Number(m[1]);
    const cmd = m[2]!;
    assert.equal(checksum(`N${n} ${cmd}`), Number(m[3]), `checksum of ${raw}`);
    if (/^M110\b/.test(cmd)) {
      this.lastN = n;
      return this.accept({ n, cmd });
    }
    if (n === this.lastN) return; // Marlin answers a repeated line number with nothing at all
    if (n !== this.lastN + 1) {
      this.out.push(`Error:Line Number is not Last Line Number+1, Last Line: ${this.lastN}`, `Resend: ${this.lastN + 1}`, 'ok');
      return;
    }
    this.lastN = n;
    this.accept({ n, cmd });
  }

  private accept(q: Queued): void {
    this.queue.push(q);
  }

  /** A full queue leaves lines in the receive buffer, as Marlin does. */
  get canParse(): boolean {
    return this.transit.length > 0 && this.queue.length < BUFSIZE;
  }

  /** The head of the queue is a long command still running. */
  blocked(now: number): boolean {
    return this.busyUntil > 0 && now < this.busyUntil;
  }

  /** Runs the command at the head of the queue (a long one takes a while), then answers. */
  executeOne(now: number): void {
    const q = this.queue[0]!;
    if (/^(M400|G4|M109)\b/.test(q.cmd)) {
      if (this.busyUntil === 0) {
        this.busyUntil = now + 500 + this.rnd() * 15_000;
        this.lastBusy = now;
        this.lastReport = now;
        if (this.f.okBeforeLong) {
          q.acked = true;
          if (this.rnd() >= this.f.lostOk) this.out.push(this.okFor(q));
        }
      }
      if (now < this.busyUntil) {
        if (this.f.okBeforeLong && now - this.lastReport >= 1_000) {
          this.out.push('T:150.0 /200.0 B:60.0 /60.0'); // the heat-up's reports: alive, still working
          this.lastReport = now;
        }
        // Marlin's HOST_KEEPALIVE: busy every 2 s while a command blocks
        if (!this.f.okBeforeLong && now - this.lastBusy >= 2_000) {
          this.out.push('echo:busy: processing');
          this.lastBusy = now;
        }
        return;
      }
      this.busyUntil = 0;
    }
    this.queue.shift();
    if (q.n !== null && !/^M110\b/.test(q.cmd)) this.executed.push(`${q.n} ${q.cmd}`);
    const temps = 'T:20.0 /0.0 B:20.0 /0.0 @:0 B@:0';
    if (q.cmd === 'M105' && this.rnd() < this.f.lostOk) return; // the tickle's answer can be lost as well
    if (q.cmd === 'M105') {
      if (this.f.okBeforeOutput) this.out.push('ok', temps);
      else this.out.push(`ok ${temps}`);
      return;
    }
    if (q.acked) return;
    const ok = this.okFor(q);
    const r = this.rnd();
    if (r < this.f.lostOk) return;
    if (r < this.f.lostOk + this.f.mangledOk && this.f.okStyle === 'advanced') {
      this.out.push(` ${temps}${ok}`); // a temperature report merged with the ok
      return;
    }
    this.out.push(ok);
    if (r < this.f.lostOk + this.f.mangledOk + this.f.duplicateOk && this.f.okStyle !== 'plain' && q.n !== null) this.out.push(ok);
  }

  private okFor(q: Queued): string {
    if (this.f.okStyle === 'advanced') return `ok${q.n !== null ? ` N${q.n}` : ''} P0 B${BUFSIZE - this.queue.length}`;
    if (this.f.okStyle === 'repetier' && q.n !== null) return `ok ${q.n}`;
    return 'ok';
  }

  /** Idle with nothing to do: Marlin says `wait`, now and then several in a row. */
  idle(): void {
    const n = 1 + Math.floor(this.rnd() * 4);
    for (let i = 0; i < n; i++) this.out.push('wait');
  }
}

function job(lines: number): string[] {
  const out: string[] = ['G28', 'M109 S200'];
  for (let i = 0; i < lines; i++) {
    if (i % 97 === 50) out.push('M400');
    else if (i % 211 === 100) out.push('G4 P200');
    else out.push(`G1 X${(i % 200) + 0.5} Y${((i * 7) % 200) + 0.25} E${(i * 0.01).toFixed(2)}`);
  }
  return out;
}

function run(seed: number, windowed: boolean, faults: Faults, lines: number): void {
  const rnd = seededRandom(seed);
  const fw = new Firmware(faults, rnd);
  const events: ProtocolEvent[] = [];
  let now = 1_000;
  // odd seeds send through the byte path (numbered lines encoded, as the serial transport takes them), even ones as text
  const bytes = Buffer.alloc(512);
  const writeNumbered = (n: number, cmd: string): number => {
    const length = encodeNumberedLine(bytes, n, cmd);
    fw.write(bytes.toString('latin1', 0, length));
    return length;
  };
  const engine = new ProtocolEngine(
    { write: (d) => fw.write(d), writeNumbered: seed % 2 === 1 ? writeNumbered : undefined, event: (e) => events.push(e), log: () => undefined },
    { windowed, maxWindow: BUFSIZE, communicationTimeout: 5_000, busyTimeout: 3_000, maxTimeoutsPrinting: 8 },
  );
  let lastB = BUFSIZE;
  let streamed = false;
  let step = 0;
  const where = (step: number): string => `seed ${seed}, ${windowed ? 'windowed' : 'one in flight'}, ${faults.okStyle} oks, step ${step}\n${trace.join('\n')}\n`;
  // messages are built only on failure: the trace is long and the checks run at every step
  const check = (ok: boolean, what: () => string): void => {
    if (!ok) assert.fail(`${where(step)}: ${what()}`);
  };
  // the last exchanges, shown when an assertion fails
  const trace: string[] = [];
  const note = (t: string) => {
    trace.push(`${now} ${t}`);
    if (trace.length > 120) trace.shift();
  };
  const write = fw.write.bind(fw);
  fw.write = (d: string) => {
    note(`> ${d.trim().replace(/\n/g, ' | ')}`);
    // windowed: a line goes out only into room the last ADVANCED_OK proved (at least one line always may);
    // the M105 a timeout sends is the one exception, as in the default mode
    if (windowed && streamed && d !== 'M105\n') {
      check(engine.commandsInFlight + 1 <= Math.max(1, lastB), () => `a line sent with ${engine.commandsInFlight} in flight, B was ${lastB}`);
    }
    write(d);
  };
  const deliver = () => {
    const l = fw.out.shift()!;
    note(`< ${l}`);
    const b = / B(\d+)$/.exec(l);
    if (b) lastB = Number(b[1]);
    engine.receive(l, now);
  };
  // connect: hello, M115 with capabilities
  engine.begin(now);
  fw.transit.length = 0;
  engine.receive('ok', now);
  fw.transit.length = 0;
  const okHello = faults.okStyle === 'advanced' ? `ok P0 B${BUFSIZE}` : 'ok';
  const m115 = ['FIRMWARE_NAME:Marlin 2.1 EXTRUDER_COUNT:1', 'Cap:AUTOREPORT_TEMP:1'];
  for (const l of faults.okBeforeLong ? [okHello, ...m115] : [...m115, okHello]) engine.receive(l, now);
  // M155 S1 went out: let the model take it like any other line
  const commands = job(lines);
  streamed = true;
  engine.stream(arraySource(commands), now);

  while (!events.some((e) => e.type === 'stream-done')) {
    check(step++ < lines * 60, () => `the job never finished (${fw.executed.length} of ${commands.length} executed)`);
    const fatal = events.find((e) => e.type === 'fatal');
    check(fatal === undefined, () => JSON.stringify(fatal));
    // Wire and firmware are fast next to the timeouts: while anything is on the move, steps are a few ms and
    // their order is random; time leaps only while the firmware idles or runs a long command.
    const canRun = fw.queue.length > 0 && !fw.blocked(now);
    const moves = [fw.canParse, canRun, fw.out.length > 0];
    if (moves.some(Boolean)) {
      let pick = Math.floor(rnd() * 3);
      while (!moves[pick]) pick = (pick + 1) % 3;
      if (pick === 0) {
        note(`fw parses ${fw.transit[0]}`);
        fw.parseOne();
      } else if (pick === 1) {
        note(`fw runs ${fw.queue[0]!.cmd}`);
        fw.executeOne(now);
      } else deliver();
      now += Math.floor(rnd() * 5);
    } else if (fw.queue.length === 0 && fw.transit.length === 0 && rnd() < faults.waitBurst) {
      fw.idle();
    } else {
      now += Math.floor(rnd() * (fw.blocked(now) ? 500 : 1_500));
      if (fw.queue.length > 0) fw.executeOne(now); // a long command: busy now and then, or done
      engine.tick(now);
    }

    // the invariant, at every step
    check(fw.overflow === undefined, () => fw.overflow!);
    if (windowed) {
      check(engine.commandsInFlight <= BUFSIZE, () => `${engine.commandsInFlight} in flight`);
    } else {
      check(engine.commandsInFlight <= 1, () => `${engine.commandsInFlight} lines in flight`);
      // on the firmware's side: at most one job line waiting, plus at most the one M105 a timeout sends
      // (a firmware that acknowledges a long command as it starts holds it and the next line: one more)
      const held = faults.okBeforeLong ? 1 : 0;
      const numbered = fw.transit.filter((l) => l.startsWith('N')).length + fw.queue.filter((q) => q.n !== null).length;
      check(numbered <= 1 + held, () => `${numbered} job lines unacknowledged at the firmware`);
      check(fw.transit.length + fw.queue.length <= 2 + held, () => `${fw.transit.length + fw.queue.length} lines at the firmware`);
    }
  }
  // a firmware that acknowledges as it starts may still be running the last command when the stream is done
  while (fw.transit.length > 0) fw.parseOne();
  for (let guard = 0; fw.queue.length > 0 && guard < 10_000; guard++) fw.executeOne((now += 500));
  // exactly the job, each line once, in order (the host's M155, sent once the capabilities are in: with the
  // M115 ok first that is after the job's first line, numbered among its lines)
  const executed = fw.executed.filter((e) => !/^\d+ M155\b/.test(e));
  assert.deepEqual(
    faults.okBeforeLong ? executed.map((e) => e.replace(/^\d+ /, '')) : executed,
    commands.map((c, i) => (faults.okBeforeLong ? c : `${i + 1} ${c}`)),
    `seed ${seed}: the executed stream`,
  );
}

const FAULTS: Faults[] = [
  { okStyle: 'plain', lostOk: 0.02, duplicateOk: 0, mangledOk: 0, waitBurst: 0.3, okBeforeOutput: false },
  { okStyle: 'plain', lostOk: 0.01, duplicateOk: 0, mangledOk: 0, waitBurst: 0.5, okBeforeOutput: true },
  { okStyle: 'advanced', lostOk: 0.02, duplicateOk: 0.02, mangledOk: 0.02, waitBurst: 0.3, okBeforeOutput: false },
  { okStyle: 'repetier', lostOk: 0.02, duplicateOk: 0.03, mangledOk: 0, waitBurst: 0.3, okBeforeOutput: true },
  { okStyle: 'plain', lostOk: 0.02, duplicateOk: 0, mangledOk: 0, waitBurst: 0.3, okBeforeOutput: true, okBeforeLong: true },
  { okStyle: 'repetier', lostOk: 0.02, duplicateOk: 0.02, mangledOk: 0, waitBurst: 0.3, okBeforeOutput: true, okBeforeLong: true },
];

for (const faults of FAULTS) {
  test(`one line in flight, ${faults.okStyle} oks${faults.okBeforeOutput ? ', ok before output' : ''}${faults.okBeforeLong ? ', long commands acknowledged as they start' : ''}: never more than one line unacknowledged, the job executed exactly`, () => {
    for (const seed of [1, 2, 3, 4, 5]) run(seed, false, faults, 2_000);
  });
}

for (const faults of FAULTS.filter((f) => f.okStyle === 'advanced')) {
  test('windowed (ADVANCED_OK) with lost, duplicate and mangled oks and wait bursts: the queue never overflows, the job executed exactly', () => {
    for (const seed of [11, 12, 13, 14, 15, 16]) run(seed, true, faults, 2_000);
  });
}
