// A real Mosquitto broker per test, on a free loopback port; ready when its port accepts connections.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly dir: string,
    /** keeps retained messages over its own restart (saved when stopped with SIGTERM), as a real broker does */
    private readonly persistent = false,
  ) {}

  static async start(dir: string, port?: number, opts: { persistent?: boolean } = {}): Promise<Mosquitto> {
    const m = new Mosquitto(port ?? (await freePort()), dir, opts.persistent);
    await m.start();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, `mosquitto-${this.port}.conf`);
    // as root, mosquitto drops to its own user, who may not write the test's folder: it stays who it is
    const user = process.getuid?.() === 0 ? 'user root\n' : '';
    const persistence = this.persistent ? `persistence true\npersistence_location ${this.dir}/\npersistence_file mosquitto-${this.port}.db\n${user}` : 'persistence false\n';
    await writeFile(conf, `listener ${this.port} 127.0.0.1\nallow_anonymous true\n${persistence}`);
    // Debian puts it in /usr/sbin, which is not on a normal user's PATH
    const bin = process.env['MOSQUITTO'] ?? (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto');
    this.child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    this.child.once('error', () => undefined);
    await waitFor(`mosquitto on port ${this.port}`, () =>
      new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    10_000, 50);
  }

  /** SIGKILL by default; SIGTERM lets a persistent broker save its retained messages first. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const e = once(c, 'exit');
    c.kill(signal);
    await e;
  }
}
