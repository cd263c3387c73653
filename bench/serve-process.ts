// `gantry serve` as its own process, the way systemd runs it, for the benchmarks that measure the server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '../src/node-flags.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface ServeProcess {
  url: string;
  apiKey: string;
  pid: number;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** node flags besides Gantry's (a bench's --import probe) */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

/** Starts `gantry serve` on a free loopback port with the given extra arguments; resolves once it listens. */
export async function startServe(dataDir: string, args: string[], opts: ServeOptions = {}): Promise<ServeProcess> {
  // BENCH_SERVE_NODE_FLAGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it
  const extra = (process.env['BENCH_SERVE_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...NODE_FLAGS, ...extra, ...(opts.nodeFlags ?? []), CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--print-api-key', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...NODE_ENV, GANTRY_LOG_LEVEL: 'warn', ...opts.env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const e = once(child, 'exit');
    child.kill('SIGTERM');
    await e;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = /running: (http:\S+)\s+API key: (\S+)/.exec(out);
    if (m) return { url: m[1]!, apiKey: m[2]!, pid: child.pid!, stop };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error('gantry serve did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
