// The two floors a print host's send path is measured against, on the same PTY and the same lines: a bare Node
// loop on the device's descriptor (libuv tty stream with `onread` in, writeSync out: the real limit of a Node host
// here), and
// the same loop through `serialport`'s stream API (what a host built on the library gets for free).
import { once } from 'node:events';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';
import { ReadStream } from 'node:tty';
import { SerialPort } from 'serialport';
import type { LatencyHistogram } from './latency-histogram.js';

interface NativeBinding {
  open(path: string, options: Record<string, unknown>, cb: (err: Error | null, fd: number) => void): void;
}
const native = (createRequire(import.meta.url)('@serialport/bindings-cpp/dist/serialport-bindings.js') as { binding: NativeBinding }).binding;

export interface LoopResult {
  linesPerSecond: number;
  cpuMsPer1000: number;
}
export interface LoopRun extends LoopResult {
  /** performance.now() at the first write and at the last answer: loops run side by side add up over their span */
  startedAt: number;
  endedAt: number;
}

const OPEN = { baudRate: 250000, dataBits: 8, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true, lock: false, vmin: 1, vtime: 0 };

interface Port {
  write(line: string): void;
  stop(): Promise<void>;
}

/** Write a line, wait for its answer line, repeat: nothing else. `lines` end in "\n". With `latency`, the time from
 * a read arriving to the write it answers with (bench/latency-probe.ts takes Gantry's at the same two points). */
async function loop(open: (onData: (d: Buffer) => void) => Promise<Port>, lines: string[], latency?: LatencyHistogram): Promise<LoopRun> {
  let i = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const port = await open((d) => {
    const readAt = latency ? performance.now() : 0;
    for (let k = d.indexOf(10); k >= 0; k = d.indexOf(10, k + 1)) {
      if (++i >= lines.length) return resolveDone();
      latency?.add((performance.now() - readAt) * 1000);
      port.write(lines[i]!);
    }
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  port.write(lines[0]!);
  await done;
  const t1 = performance.now();
  const seconds = (t1 - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await port.stop();
  return { linesPerSecond: lines.length / seconds, cpuMsPer1000: ((cpu.user + cpu.system) / 1000 / lines.length) * 1000, startedAt: t0, endedAt: t1 };
}

export function rawFdLoop(path: string, lines: string[], latency?: LatencyHistogram): Promise<LoopRun> {
  return loop(async (onData) => {
    const fd = await new Promise<number>((res, rej) => native.open(path, OPEN, (e, f) => (e ? rej(e) : res(f))));
    // the fastest read Node has: libuv reads into one buffer, handed over past the stream machinery
    const inbox = Buffer.allocUnsafe(16 * 1024);
    const options: SocketConstructorOpts & { onread: OnReadOpts } = { onread: { buffer: inbox, callback: (n) => (onData(inbox.subarray(0, n)), true) } };
    const input = new ReadStream(fd, options);
    input.resume();
    return {
      write: (s) => void writeSync(fd, s, null, 'latin1'),
      async stop() {
        const closed = once(input, 'close');
        input.destroy();
        await closed;
      },
    };
  }, lines, latency);
}

export function serialportLoop(path: string, lines: string[]): Promise<LoopRun> {
  return loop(async (onData) => {
    const port = new SerialPort({ path, baudRate: 250000, autoOpen: false, lock: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    port.on('data', onData);
    return { write: (s) => void port.write(s, 'latin1'), stop: () => new Promise<void>((r) => port.close(() => r())) };
  }, lines);
}
