// Host → printer line rate over a real PTY, against the real limit of a Node host on this machine's PTY.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { EventBus } from '../src/events.js';
import { createLogger } from '../src/log.js';
import { ProtocolEngine } from '../src/printer/protocol.js';
import { Printer } from '../src/printer/printer.js';
import { openSerial } from '../src/transport/serial.js';
import type { Transport } from '../src/transport/transport.js';
import { type LoopResult, rawFdLoop, serialportLoop } from './serial-floors.js';
import { type PrintResult, ServePrintRig } from './serial-print.js';
import { simProcess, stopSim as stop } from './sim-process.js';

export const LINE = (i: number) => `G1 X${(i % 200) + 0.25} Y${(i * 7) % 200}.5`; // ~20 bytes with the line ending

/** Gantry's printer model streaming n lines; returns lines/s and CPU ms per 1000 lines. */
async function gantryStream(link: string, n: number, windowed: boolean): Promise<{ rate: number; cpuMsPer1000: number }> {
  const bus = new EventBus();
  const printer = new Printer({ protocol: { windowed, maxWindow: 4 } }, { bus: bus.scope('printer'), log: createLogger('silent') });
  await printer.connect(link, 250000);
  const lines = Array.from({ length: n }, (_, i) => LINE(i));
  let i = 0;
  const done = new Promise<void>((resolve) => bus.on('printer.stream-done', () => resolve()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  printer.stream({ next: () => (i < n ? lines[i++] : undefined), get done() { return i >= n; } });
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await printer.close();
  return { rate: n / seconds, cpuMsPer1000: ((cpu.user + cpu.system) / 1000 / n) * 1000 };
}

/** ok → next write latency inside the host: from the received line entering the engine to the write call. */
async function latency(link: string, n: number): Promise<{ p50: number; p99: number }> {
  const samples = new Float64Array(n);
  let count = 0;
  let rxAt = 0n;
  let transport: Transport | undefined;
  let resolveConnected: () => void = () => undefined;
  let resolveDone: () => void = () => undefined;
  const connected = new Promise<void>((r) => (resolveConnected = r));
  const done = new Promise<void>((r) => (resolveDone = r));
  const engine = new ProtocolEngine(
    {
      write: (d) => {
        if (rxAt !== 0n && count < n) samples[count++] = Number(process.hrtime.bigint() - rxAt) / 1000;
        rxAt = 0n;
        transport!.write(d);
      },
      log: () => undefined,
      event: (e) => {
        if (e.type === 'connected') resolveConnected();
        if (e.type === 'stream-done') resolveDone();
      },
    },
    { pollInterval: 1e9 },
  );
  transport = await openSerial(link, 250000, {
    line: (l) => {
      rxAt = process.hrtime.bigint();
      engine.receive(l, Date.now());
    },
    closed: () => undefined,
  });
  engine.begin(Date.now());
  await connected;
  const lines = Array.from({ length: n + 10 }, (_, i) => LINE(i));
  let i = 0;
  engine.stream({ next: () => (i < lines.length ? lines[i++] : undefined), get done() { return i >= lines.length; } }, Date.now());
  await done;
  await transport.close();
  const sorted = Array.from(samples.subarray(0, count)).sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
}

/** The pure engine with instant oks: its own ceiling, no I/O. */
function engineOnly(n: number): number {
  let engine: ProtocolEngine;
  let pendingOk = 0;
  engine = new ProtocolEngine({ write: () => pendingOk++, log: () => undefined, event: () => undefined }, { pollInterval: 1e9 });
  engine.begin(0);
  engine.receive('ok', 0);
  engine.receive('FIRMWARE_NAME:Marlin', 0);
  engine.receive('ok', 0);
  pendingOk = 0;
  const lines = Array.from({ length: n }, (_, i) => LINE(i));
  let i = 0;
  const t0 = performance.now();
  engine.stream({ next: () => (i < n ? lines[i++] : undefined), get done() { return i >= n; } }, 0);
  while (pendingOk > 0) {
    pendingOk--;
    engine.receive('ok', 0);
  }
  return n / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export interface Spread {
  min: number;
  median: number;
  max: number;
}
export const spread = (xs: number[]): Spread => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });

export interface PathFigures {
  linesPerSecond: Spread;
  cpuMsPer1000: Spread;
}
export interface WorkloadFigures {
  name: string;
  lines: number;
  rawFd: PathFigures;
  serialport: PathFigures;
  /** a real print on `gantry serve`, bytes on the descriptor */
  gantry: PathFigures;
  /** the same print with serialport's stream layer (Gantry's transport before issue #14) */
  gantryStreamLayer: PathFigures;
  /** per round, Gantry's rate and CPU as ratios to the floors measured next to it */
  rateVsRawFd: Spread;
  rateVsSerialport: Spread;
  cpuVsRawFd: Spread;
  cpuVsStreamLayer: Spread;
}

/** The lines a host sends for a file: comments and blank lines dropped. */
export function commandLines(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const semi = raw.indexOf(';');
    const cmd = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
    if (cmd) out.push(cmd + '\n');
  }
  return out;
}

const SLICER_FILE = fileURLToPath(new URL('../../../shared/gcode/ps_sphere50.gcode', import.meta.url));

/**
 * One-line-in-flight print rate and CPU per 1,000 lines for a slicer file and 100k short segments: the raw-fd loop
 * and the serialport loop as floors, Gantry printing the same file for real, with today's transport and the old
 * one, in alternating rounds so drift on a shared machine hits all alike.
 */
export async function benchPrintPaths(dir: string, rounds = Number(process.env['BENCH_ROUNDS'] ?? 3)): Promise<WorkloadFigures[]> {
  const link = join(dir, 'print-tty');
  const sim = await simProcess(link, ['--ok-only']);
  let rig: ServePrintRig | undefined;
  try {
    rig = await ServePrintRig.start(join(dir, 'print-serve'), link);
    const segments = Array.from({ length: 100_000 }, (_, i) => LINE(i)).join('\n') + '\n';
    const workloads = [
      { name: 'slicer file (ps_sphere50)', file: 'sphere.gcode', text: await readFile(SLICER_FILE, 'latin1') },
      { name: '100k short segments', file: 'segments.gcode', text: segments },
    ];
    const out: WorkloadFigures[] = [];
    for (const w of workloads) {
      await rig.upload(w.file, w.text);
      const lines = commandLines(w.text);
      const raw: LoopResult[] = [];
      const sp: LoopResult[] = [];
      const fd: LoopResult[] = [];
      const old: LoopResult[] = [];
      const asLoop = (p: PrintResult): LoopResult => ({ linesPerSecond: lines.length / p.seconds, cpuMsPer1000: (p.cpuSeconds * 1000 * 1000) / lines.length });
      await rig.disconnect();
      // both sides warm, as in a long print: the floor loop and Gantry each run the whole file once first (a
      // server's first pass over a file runs partly in V8's interpreter and baseline code: ~20 % more CPU per line)
      await rawFdLoop(link, lines);
      await rig.connect(false);
      await rig.print(w.file);
      await rig.disconnect();
      for (let r = 0; r < rounds; r++) {
        raw.push(await rawFdLoop(link, lines));
        sp.push(await serialportLoop(link, lines));
        await rig.connect(false);
        fd.push(asLoop(await rig.print(w.file)));
        await rig.disconnect();
        await rig.connect(true);
        old.push(asLoop(await rig.print(w.file)));
        await rig.disconnect();
      }
      const fig = (xs: LoopResult[]): PathFigures => ({ linesPerSecond: spread(xs.map((x) => x.linesPerSecond)), cpuMsPer1000: spread(xs.map((x) => x.cpuMsPer1000)) });
      const ratio = (a: LoopResult[], b: LoopResult[], k: keyof LoopResult) => spread(a.map((x, i) => x[k] / b[i]![k]));
      out.push({
        name: w.name,
        lines: lines.length,
        rawFd: fig(raw),
        serialport: fig(sp),
        gantry: fig(fd),
        gantryStreamLayer: fig(old),
        rateVsRawFd: ratio(fd, raw, 'linesPerSecond'),
        rateVsSerialport: ratio(fd, sp, 'linesPerSecond'),
        cpuVsRawFd: ratio(fd, raw, 'cpuMsPer1000'),
        cpuVsStreamLayer: ratio(fd, old, 'cpuMsPer1000'),
      });
    }
    return out;
  } finally {
    await rig?.stop();
    await stop(sim);
  }
}

export interface HostFigures {
  windowedRate: number;
  engineOnlyRate: number;
  latencyP50us: number;
  latencyP99us: number;
  wireLimit: number;
}

/** Inside the host: the engine's own ceiling, ok → next write latency, and windowed mode. */
export async function benchSerialHost(dir: string): Promise<HostFigures> {
  const link = join(dir, 'bench-tty');
  const n = 20_000;
  const okOnly = await simProcess(link, ['--ok-only']);
  let lat: { p50: number; p99: number };
  try {
    lat = await latency(link, 10_000);
  } finally {
    await stop(okOnly);
  }
  const advanced = await simProcess(link, ['--ok-only', '--advanced-ok']);
  let windowed: number;
  try {
    windowed = (await gantryStream(link, n, true)).rate;
  } finally {
    await stop(advanced);
  }
  return {
    windowedRate: windowed,
    engineOnlyRate: engineOnly(200_000),
    latencyP50us: lat.p50,
    latencyP99us: lat.p99,
    wireLimit: 250000 / 10 / 23, // 10 bits per byte on the wire; a 20-byte line plus "ok\n"
  };
}
