// A floor server (bench/*-floor.ts) as its own process, with Gantry's Node flags: started, waited for, stopped.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { NODE_FLAGS } from '../src/node-flags.js';

export interface FloorProcess {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Runs `script` (which prints `PORT <n>` once it listens) and resolves with its port; `env` is added to ours
 * (e.g. Gantry's NODE_ENV, where the floor must read requests the way Gantry does). */
export async function startFloor(script: string, args: string[] = [], env: Readonly<Record<string, string>> = {}): Promise<FloorProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const deadline = Date.now() + 10_000;
  let m: RegExpExecArray | null;
  while (!(m = /PORT (\d+)/.exec(out))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`${script} did not start`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port: Number(m[1]), pid: child.pid!, stop };
}
