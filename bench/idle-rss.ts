// Idle RSS of `gantry serve` with a connected (virtual) printer, read from /proc after it settles.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServe } from './serve-process.js';


export interface MemoryFigures {
  rssMb: number;
  /** private pages only (USS): what Gantry itself costs, without the node binary's shared text */
  ussMb: number;
  /** a bare `node` process idling, for reference: the floor on this machine */
  bareNodeRssMb: number;
}

async function memoryOf(pid: number): Promise<{ rss: number; uss: number }> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  return { rss: kb('Rss') / 1024, uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}

async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    await sleep(1500);
    return (await memoryOf(child.pid!)).rss;
  } finally {
    const e = once(child, 'exit');
    child.kill('SIGTERM');
    await e;
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
    return { rssMb: mem.rss, ussMb: mem.uss, bareNodeRssMb: await bareNodeRss() };
  } finally {
    await serve.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
