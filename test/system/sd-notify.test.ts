// systemd's side of Type=notify + WatchdogSec, played by a real unix datagram socket (python3: Node has none):
// `gantry serve` says READY=1 once it listens, pings WATCHDOG=1 from its event loop, stops pinging while the process
// is frozen (SIGSTOP: a stuck loop looks the same to systemd), starts again when it runs, and says STOPPING=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { watchdogInterval } from '../../src/system/sd-notify.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GANTRY_CLI } from '../helpers/gantry-cli.js';

// binds the socket, prints "bound", then one line per datagram (systemd-notify's BARRIER=1 messages carry a pipe
// that recv() closes, which is what lets systemd-notify exit)
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", " "), flush=True)
`;

function receiver(path: string): { child: ChildProcess; messages: string[] } {
  const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l !== 'BARRIER=1') messages.push(l);
  });
  return { child, messages };
}

test('watchdogInterval: half of WATCHDOG_USEC, only for the watched process', () => {
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000' }), 15_000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 43), undefined);
  assert.equal(watchdogInterval({}), undefined);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: 'x' }), undefined);
});

test('gantry serve under a notify socket: READY=1, WATCHDOG=1 pings that stop while the process is frozen, STOPPING=1', async () => {
  const { dir, cleanup } = await tempDir();
  const sock = join(dir, 'notify');
  const recv = receiver(sock);
  let gantry: ChildProcess | undefined;
  try {
    await waitFor('receiver bound', () => recv.messages.includes('bound'));
    gantry = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--camera', 'none'], {
      // a ping every 150 ms
      env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '300000', GANTRY_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const g = gantry;
    const pings = () => recv.messages.filter((m) => m === 'WATCHDOG=1').length;
    await waitFor('READY=1', () => recv.messages.includes('READY=1'), 20_000);
    assert.equal(recv.messages.filter((m) => m !== 'bound')[0], 'READY=1', 'READY=1 comes first');
    await waitFor('three watchdog pings', () => pings() >= 3, 10_000);

    // frozen: no ping for 1.5 s (ten intervals), besides one that may have been on its way when it stopped
    g.kill('SIGSTOP');
    await waitFor('SIGSTOP took effect', async () => {
      const { readFile } = await import('node:fs/promises');
      return /^State:\s+T/m.test(await readFile(`/proc/${g.pid}/status`, 'utf8'));
    });
    const frozenAt = pings();
    await new Promise((r) => setTimeout(r, 1500)); // the window in which pings must not come (not a sync)
    assert.ok(pings() <= frozenAt + 1, `pings while frozen: ${pings() - frozenAt}`);

    g.kill('SIGCONT');
    const resumedFrom = pings();
    await waitFor('pings again after SIGCONT', () => pings() >= resumedFrom + 2, 10_000);

    g.kill('SIGTERM');
    const [code] = await once(g, 'exit');
    assert.equal(code, 0);
    await waitFor('STOPPING=1', () => recv.messages.includes('STOPPING=1'), 5_000);
  } finally {
    if (gantry && gantry.exitCode === null) {
      gantry.kill('SIGCONT');
      gantry.kill('SIGKILL');
    }
    recv.child.kill('SIGKILL');
    await cleanup();
  }
});

test('without NOTIFY_SOCKET nothing is sent and nothing is spawned', async () => {
  const { systemdNotifier } = await import('../../src/system/sd-notify.js');
  const n = systemdNotifier({ env: {}, command: '/nonexistent/systemd-notify' });
  assert.equal(n.active, false);
  n.ready();
  await n.stopping();
});
