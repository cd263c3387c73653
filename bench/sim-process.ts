// The virtual printer as a child process on a PTY link, for the serial benchmarks: started, waited for, stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export async function simProcess(link: string, args: string[]): Promise<ChildProcess> {
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

export async function stopSim(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const e = once(child, 'exit');
  child.kill('SIGTERM');
  await e;
}
