// The `gantry` command as a child process, run to its end: what it printed and how it exited.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '../../src/node-flags.js';

export const GANTRY_CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export async function runGantry(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, ...args], { env: { ...process.env, ...NODE_ENV } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}
