// Restart from the page under systemd: Gantry asks systemd (settings.system.restartCommand, an argv without a shell)
// instead of exiting cleanly, which Restart=on-failure would not answer; if asking fails it exits with a failure,
// which it does answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { TEST_KEY } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GANTRY_CLI } from '../helpers/gantry-cli.js';


async function serveWith(dir: string, restartCommand: string[], shutdownCommand?: string[]) {
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ system: { restartCommand, ...(shutdownCommand ? { shutdownCommand } : {}) } }));
  const child = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--camera', 'none', '--api-key', TEST_KEY], {
    env: { ...process.env, INVOCATION_ID: '0123456789abcdef0123456789abcdef', GANTRY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const url = await waitFor('listening', () => /listening on (http:\S+)/.exec(err)?.[1], 20_000);
  const restart = () => fetch(`${url}/api/system/commands/core/restart`, { method: 'POST', headers: { 'X-Api-Key': TEST_KEY } });
  const shutdown = () => fetch(`${url}/api/system/commands/core/shutdown`, { method: 'POST', headers: { 'X-Api-Key': TEST_KEY } });
  return { child, restart, shutdown, log: () => err };
}

test('restart under systemd runs the restart command and keeps serving until systemd stops it', async () => {
  const { dir, cleanup } = await tempDir();
  const marker = join(dir, 'restarted');
  const g = await serveWith(dir, ['touch', marker]);
  try {
    assert.equal((await g.restart()).status, 204);
    await waitFor('the restart command ran', () => access(marker).then(() => true, () => false));
    assert.equal(g.child.exitCode, null);
  } finally {
    g.child.kill('SIGKILL');
    await cleanup();
  }
});

test('restart under systemd whose command fails exits with status 1 (Restart=on-failure starts it again)', async () => {
  const { dir, cleanup } = await tempDir();
  const g = await serveWith(dir, ['false']);
  try {
    assert.equal((await g.restart()).status, 204);
    const [code] = await once(g.child, 'exit');
    assert.equal(code, 1);
    assert.match(g.log(), /restart: false failed \(1\)/);
  } finally {
    if (g.child.exitCode === null) g.child.kill('SIGKILL');
    await cleanup();
  }
});

test('shutdown: systemd stops Gantry while the command is still running, and the page still gets its answer', async () => {
  const { dir, cleanup } = await tempDir();
  // what `systemctl poweroff` does to Gantry: SIGTERM to the service (here: to the process that ran the command)
  // before the command has even returned (returning 2 s later: Gantry's stop is done long before, but within its
  // 3 s grace for such answers)
  const g = await serveWith(dir, ['true'], ['/bin/sh', '-c', 'kill -TERM "$PPID"; sleep 2']);
  try {
    const res = await g.shutdown();
    assert.equal(res.status, 204, 'answered, not cut off by the stop');
    const [code] = g.child.exitCode === null ? await once(g.child, 'exit') : [g.child.exitCode];
    assert.equal(code, 0, 'then stopped cleanly');
  } finally {
    if (g.child.exitCode === null) g.child.kill('SIGKILL');
    await cleanup();
  }
});

test('shutdown: systemd’s stop ends the command too (the whole control group), and that is not a failed shutdown', async () => {
  const { dir, cleanup } = await tempDir();
  const g = await serveWith(dir, ['true'], ['/bin/sh', '-c', 'kill -TERM "$PPID" $$; sleep 5']);
  try {
    assert.equal((await g.shutdown()).status, 204);
    const [code] = g.child.exitCode === null ? await once(g.child, 'exit') : [g.child.exitCode];
    assert.equal(code, 0);
  } finally {
    if (g.child.exitCode === null) g.child.kill('SIGKILL');
    await cleanup();
  }
});
