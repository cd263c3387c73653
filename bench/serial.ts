// Host → printer line rate over a real PTY, against the physical limit of this machine's PTY round trip.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { EventBus } from '../src/events.js';
import { createLogger } from '../src/log.js';
import { ProtocolEngine } from '../src/printer/protocol.js';
import { Printer } from '../src/printer/printer.js';
import { openSerial } from '../src/transport/serial.js';
import type { Transport } from '../src/transport/transport.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface SerialBench {
  bareRate: number;
  oneInFlightRate: number;
  windowedRate: number;
  engineOnlyRate: number;
  latencyP50us: number;
  latencyP99us: number;
  cpuMsPer1000: number;
  bareCpuMsPer1000: number;
  wireLimit: number;
}

async function simProcess(link: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'virtual-printer', '--link', link, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`sim exited ${c}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const e = once(child, 'exit');
  child.kill('SIGTERM');
  await e;
}

const LINE = (i: number) => `G1 X${(i % 200) + 0.25} Y${(i * 7) % 200}.5`; // ~20 bytes with the line ending

/** The physical limit: write a line, wait for "ok\n", repeat; nothing else. */
async function bareLoop(link: string, n: number): Promise<{ rate: number; cpuMsPer1000: number }> {
  const port = new SerialPort({ path: link, baudRate: 250000, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let i = 0;
  let buf = '';
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    port.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        buf = buf.slice(nl + 1);
        if (++i >= n) return resolve();
        port.write(LINE(i) + '\n');
        nl = buf.indexOf('\n');
      }
    });
    port.write(LINE(0) + '\n');
  });
  const rate = n / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  await new Promise<void>((r) => port.close(() => r()));
  return { rate, cpuMsPer1000: (cpu.user + cpu.system) / n };
}

/** Gantry's printer model streaming n lines; returns lines/s and CPU ms per 1000 lines. */
async function gantryStream(link: string, n: number, windowed: boolean): Promise<{ rate: number; cpuMsPer1000: number }> {
  const bus = new EventBus();
  const printer = new Printer({ protocol: { windowed, maxWindow: 4 } }, { bus, log: createLogger('silent') });
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

export async function benchSerial(dir: string): Promise<SerialBench> {
  const link = join(dir, 'bench-tty');
  const okOnly = await simProcess(link, ['--ok-only']);
  const n = 20_000;
  let bare: { rate: number; cpuMsPer1000: number };
  let one: { rate: number; cpuMsPer1000: number };
  let lat: { p50: number; p99: number };
  try {
    await bareLoop(link, 2000); // warm-up
    // interleave the two so drift on a shared machine hits both alike
    const bares: { rate: number; cpuMsPer1000: number }[] = [];
    const ones: { rate: number; cpuMsPer1000: number }[] = [];
    for (let r = 0; r < 3; r++) {
      bares.push(await bareLoop(link, n));
      ones.push(await gantryStream(link, n, false));
    }
    bare = bares.sort((a, b) => a.rate - b.rate)[1]!;
    one = ones.sort((a, b) => a.rate - b.rate)[1]!;
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
    bareRate: bare.rate,
    bareCpuMsPer1000: bare.cpuMsPer1000,
    oneInFlightRate: one.rate,
    windowedRate: windowed,
    engineOnlyRate: engineOnly(200_000),
    latencyP50us: lat.p50,
    latencyP99us: lat.p99,
    cpuMsPer1000: one.cpuMsPer1000,
    wireLimit: 250000 / 10 / 23, // 10 bits per byte on the wire; a 20-byte line plus "ok\n"
  };
}
