// Reboot, shutdown and restart: system commands run without a shell (argv from the settings), and a restart that
// works both under systemd (the appliance) and by hand.
import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';

/** Runs `argv` (no shell); resolves with its exit code, 127 when it cannot be started. Ended by SIGTERM counts as
 * done (0): systemd stopping Gantry for the shutdown, reboot or restart the command asked for signals Gantry's whole
 * control group, the command too if it has not exited yet; any other signal is a failure (1). */
export function runSystemCommand(argv: string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 0 : 1)));
  });
}

/** Restarts Gantry: under systemd through `restartCommand` (a failing exit if that fails, which Restart=on-failure
 * answers); elsewhere a clean exit. */
export async function restartService(restartCommand: () => string[], log: Logger): Promise<void> {
  // INVOCATION_ID: systemd started us. A clean exit would not be restarted (Restart=on-failure), so ask systemd
  if (!process.env['INVOCATION_ID']) {
    process.kill(process.pid, 'SIGTERM');
    return;
  }
  const argv = restartCommand();
  const code = argv.length > 0 ? await runSystemCommand(argv) : 1;
  if (code === 0) return; // systemd stops us now and starts us again
  log.warn(`restart: ${argv.join(' ')} failed (${code}); exiting with a failure so systemd starts Gantry again`);
  process.exitCode = 1;
  process.kill(process.pid, 'SIGTERM');
}
