// Idle RSS of `gantry serve` with a connected (virtual) printer, read from /proc, next to the floors it stands on:
// a bare node process, and the design card's HTTP stack (hono + @hono/node-server) with one route.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFloor } from './floor-process.js';
import { startServe } from './serve-process.js';

const FLOOR = fileURLToPath(new URL('./http-stack-floor.js', import.meta.url));


export interface MemoryFigures {
  /** 5 s after the printer connected */
  rssMb: number;
  /** after 30 s of idling: V8's memory reducer has run */
  settledRssMb: number;
  /** private pages only (USS): what Gantry itself costs, without the node binary's shared text */
  ussMb: number;
  /** a bare `node` process idling, for reference: the floor on this machine */
  bareNodeRssMb: number;
  /** hono + @hono/node-server serving one JSON route, with Gantry's flags, after five requests */
  httpStackRssMb: number;
}

async function memoryOf(pid: number): Promise<{ rss: number; uss: number }> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  return { rss: kb('Rss') / 1024, uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const e = once(child, 'exit');
  child.kill('SIGTERM');
  await e;
}

async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    await sleep(1500);
    return (await memoryOf(child.pid!)).rss;
  } finally {
    await stopChild(child);
  }
}

async function httpStackRss(): Promise<number> {
  const floor = await startFloor(FLOOR);
  try {
    for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${floor.port}/api/version`)).text();
    await sleep(5000);
    return (await memoryOf(floor.pid)).rss;
  } finally {
    await floor.stop();
  }
}

export async function benchIdleRss(dir: string): Promise<MemoryFigures> {
  const serve = await startServe(join(dir, 'rss-data'), ['--serial', 'virtual']);
  try {
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${serve.url}/api/printer`, { headers: { 'X-Api-Key': serve.apiKey } })).status !== 200) {
      if (Date.now() > deadline) throw new Error('printer did not connect');
      await sleep(100);
    }
    await sleep(5000); // idle: auto-reported temperatures flowing, nothing else
    const mem = await memoryOf(serve.pid);
    await sleep(25_000);
    const settled = await memoryOf(serve.pid);
    return { rssMb: mem.rss, settledRssMb: settled.rss, ussMb: mem.uss, bareNodeRssMb: await bareNodeRss(), httpStackRssMb: await httpStackRss() };
  } finally {
    await serve.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
