// Drives a ProtocolEngine by hand: what it writes, what it reports, with a fake clock.
import { encodeNumberedLine } from '../../src/printer/gcode.js';
import { type ProtocolEvent, type ProtocolOptions, ProtocolEngine } from '../../src/printer/protocol.js';

export class Harness {
  written: string[] = [];
  /** every write as it came, with the engine's long-running flag */
  writes: { data: string; longRunning: boolean | undefined }[] = [];
  events: ProtocolEvent[] = [];
  logs: string[] = [];
  now = 1_000;
  engine: ProtocolEngine;

  /** `bytes`: numbered lines come through the sink's byte path (encodeNumberedLine), as the serial transport takes
   * them; without it the engine builds them as text. The two must write the same. */
  constructor(opts: Partial<ProtocolOptions> = {}, bytes = true) {
    const write = (d: string, longRunning: boolean | undefined) => {
      this.writes.push({ data: d, longRunning });
      for (const l of d.split('\n')) if (l) this.written.push(l);
    };
    const buffer = Buffer.alloc(1024);
    this.engine = new ProtocolEngine(
      {
        write,
        writeNumbered: bytes
          ? (n, cmd, longRunning) => {
              const length = encodeNumberedLine(buffer, n, cmd);
              write(buffer.toString('latin1', 0, length), longRunning);
              return length;
            }
          : undefined,
        event: (e) => this.events.push(e),
        log: (dir, line) => this.logs.push(`${dir} ${line}`),
      },
      opts,
    );
  }

  /** Everything written since the last call. */
  take(): string[] {
    const w = this.written;
    this.written = [];
    return w;
  }

  feed(...lines: string[]): void {
    for (const l of lines) this.engine.receive(l, this.now);
  }

  advance(ms: number): void {
    this.now += ms;
    this.engine.tick(this.now);
  }

  eventsOf<T extends ProtocolEvent['type']>(type: T): Extract<ProtocolEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<ProtocolEvent, { type: T }>[];
  }

  /** Starts a job stream and answers its `M110 N0`; job lines then start at N1. */
  stream(lines: string[]): void {
    this.engine.stream(arraySource(lines), this.now);
    const first = this.take();
    if (first[0] !== 'N0 M110 N0*125') throw new Error(`stream did not start with M110 N0: ${first.join(' | ')}`);
    this.written = first.slice(1); // a windowed engine may already have sent job lines behind it
    this.feed('ok');
  }

  /** Handshake and an M115 answer with the given lines (default: a Marlin without autoreport). */
  connect(m115: string[] = ['FIRMWARE_NAME:Marlin 2.1.2 (Github) SOURCE_CODE_URL:x PROTOCOL_VERSION:1.0 EXTRUDER_COUNT:1', 'ok']): void {
    this.engine.begin(this.now);
    this.feed('ok');
    this.feed(...m115);
    this.take();
  }
}

export function arraySource(lines: string[]): { next(): string | undefined; readonly done: boolean } {
  let i = 0;
  return {
    next: () => (i < lines.length ? lines[i++] : undefined),
    get done() {
      return i >= lines.length;
    },
  };
}
