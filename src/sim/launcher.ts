// Runs the virtual printer as a child process (`gantry virtual-printer`), so a simulator fault or busy loop
// never touches the host's event loop, exactly as a real printer would not.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../node-flags.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

export class VirtualPrinterProcess {
  private child: ChildProcess | undefined;
  private starting: Promise<string> | undefined;
  private closed = false;

  constructor(
    readonly link: string,
    private readonly extraArgs: string[] = [],
  ) {}

  /** Starts the simulator if it is not running; resolves with the PTY link path once it is ready. */
  ensure(): Promise<string> {
    // a connect that was on its way when the printer's unit stopped must not start a simulator nobody will stop
    if (this.closed) return Promise.reject(new Error('The virtual printer was closed'));
    if (this.child && this.child.exitCode === null && !this.starting) return Promise.resolve(this.link);
    if (this.starting) return this.starting;
    this.starting = new Promise<string>((resolve, reject) => {
      // stdin is a lifeline, never written: it closes when this process exits, even on kill -9, and the
      // simulator then exits too (--exit-with-parent) instead of living on as an orphan
      const child = spawn(process.execPath, [...NODE_FLAGS, CLI, 'virtual-printer', '--link', this.link, '--exit-with-parent', ...this.extraArgs], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      this.child = child;
      child.stdin!.on('error', () => undefined); // never written; nothing to report if the child went first
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('READY')) resolve(this.link);
      });
      child.once('exit', (code) => reject(new Error(`virtual printer exited with code ${code}`)));
      child.once('error', reject);
    }).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Stops the simulator for good (its printer is gone): a later `ensure` is refused. */
  close(): Promise<void> {
    this.closed = true;
    return this.stop();
  }

  /** Stops the simulator (a power cut: `ensure` starts it again); resolves once it has exited, its PTY link removed. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}
