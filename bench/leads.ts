// Where Gantry leads (start-up, API latency, analysis speed), each next to an anchor measured in the same run on
// this machine: a bare node start, the design card's HTTP stack answering one route, a bare read of the files.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../src/node-flags.js';
import { startFloor } from './floor-process.js';
import { startServe } from './serve-process.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./http-stack-floor.js', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../../shared/gcode/', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** ms from spawn until the process prints `marker` (median of `runs`). */
async function timeToOutput(args: string[], marker: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, GANTRY_LOG_LEVEL: 'warn' } });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.includes(marker)) resolve();
      });
      child.once('exit', (code) => (out.includes(marker) ? resolve() : reject(new Error(`exited ${code} before "${marker}"`))));
    });
    times.push(performance.now() - t0);
    if (child.exitCode === null) {
      const e = once(child, 'exit');
      child.kill('SIGTERM');
      await e;
    }
  }
  return median(times);
}

export interface StartFigures {
  gantryMs: number;
  bareNodeMs: number;
}

/** `gantry serve` on an existing data dir until it listens, against `node -e` printing a line. */
export async function benchColdStart(dir: string): Promise<StartFigures> {
  const data = join(dir, 'cold-start');
  const args = [...NODE_FLAGS, CLI, 'serve', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--camera', 'none', '--print-api-key'];
  await timeToOutput(args, 'running:', 1); // first start: creates the data dir and keys
  return {
    gantryMs: await timeToOutput(args, 'running:', 7),
    bareNodeMs: await timeToOutput([...NODE_FLAGS, '-e', 'console.log("up")'], 'up', 7),
  };
}

export interface ApiFigures {
  p50ms: number;
  p99ms: number;
  floorP50ms: number;
  floorP99ms: number;
}

/** `requests` GETs at 50 per second, one at a time; latency of each. */
async function paced(url: string, headers: Record<string, string>, requests: number): Promise<number[]> {
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) {
    const wait = t0 + i * 20 - performance.now();
    if (wait > 0) await sleep(wait);
    const s = performance.now();
    await (await fetch(url, { headers })).arrayBuffer();
    times.push(performance.now() - s);
  }
  return times;
}

/** GET /api/printer at 50 req/s during a print, against the bare HTTP stack answering one route at the same pace. */
export async function benchApiDuringPrint(dir: string): Promise<ApiFigures> {
  const serve = await startServe(join(dir, 'api-lead'), ['--serial', 'virtual', '--camera', 'none']);
  const headers = { 'X-Api-Key': serve.apiKey };
  let gantry: number[];
  try {
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${serve.url}/api/printer`, { headers })).status !== 200) {
      if (Date.now() > deadline) throw new Error('printer did not connect');
      await sleep(100);
    }
    const form = new FormData();
    form.append('print', 'true');
    form.append('file', new Blob(['G28\n' + 'G1 X100 Y100 F1200\nG1 X0 Y0 F1200\n'.repeat(400)]), 'lead.gcode');
    const r = await fetch(`${serve.url}/api/files/local`, { method: 'POST', headers, body: form });
    if (r.status !== 201) throw new Error(`upload: ${r.status}`);
    await sleep(1000);
    gantry = await paced(`${serve.url}/api/printer`, headers, 500);
  } finally {
    await serve.stop();
  }
  const server = await startFloor(FLOOR);
  try {
    const floor = await paced(`http://127.0.0.1:${server.port}/api/version`, {}, 500);
    return { p50ms: pct(gantry, 0.5), p99ms: pct(gantry, 0.99), floorP50ms: pct(floor, 0.5), floorP99ms: pct(floor, 0.99) };
  } finally {
    await server.stop();
  }
}

/** MB/s of reading the corpus and splitting it into lines, nothing else: the anchor for analysis throughput. */
export async function benchReadFloor(): Promise<number> {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.gcode')).map((f) => CORPUS + f);
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  let lines = 0;
  const t0 = performance.now();
  for (let r = 0; r < 3; r++) {
    for (const f of files) {
      const fh = await open(f, 'r');
      try {
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          const text = buf.toString('latin1', 0, bytesRead);
          for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
          bytes += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
  }
  if (lines === 0 || bytes !== 3 * (await Promise.all(files.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0)) throw new Error('read floor: short read');
  return bytes / 1048576 / ((performance.now() - t0) / 1000);
}
