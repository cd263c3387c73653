// Idle memory: a real `gantry serve` process does not load the SockJS module until a SockJS client comes; raw
// push-socket clients do not load it either. What the process loads is read from Node's own module loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { PushClient } from '../helpers/push-client.js';
import { SockJsClient } from '../helpers/sockjs-client.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GANTRY_CLI } from '../helpers/gantry-cli.js';

const TRACE = fileURLToPath(new URL('../helpers/module-trace.js', import.meta.url));

const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test('the SockJS module is loaded on the first /sockjs request, not at idle nor for raw push clients', async (t) => {
  const { dir, cleanup } = await tempDir();
  const traceFile = join(dir, 'modules.txt');
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', TRACE, GANTRY_CLI, 'serve', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--print-api-key'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GANTRY_LOG_LEVEL: 'warn', GANTRY_MODULE_TRACE: traceFile },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.resume();
  const loaded = async () => (await readFile(traceFile, 'utf8').catch(() => '')).split('\n');
  const has = (modules: string[], path: string) => modules.some((m) => m.endsWith(path));
  try {
    const url = await waitFor('server up', () => /running: (http:\S+)/.exec(out)?.[1]);
    const idle = await loaded();
    assert.ok(has(idle, '/src/push/push-server.js'), 'the trace sees Gantry\'s modules');
    assert.ok(!has(idle, '/src/push/sockjs.js'), 'SockJS is not loaded at idle');
    const idleRss = await rssMb(child.pid!);

    const raw = new PushClient(url);
    try {
      await waitFor('a raw client connected', () => raw.of('connected').length === 1);
    } finally {
      raw.close();
    }
    assert.ok(!has(await loaded(), '/src/push/sockjs.js'), 'a raw client does not load it');

    const sockjs = new SockJsClient(url);
    try {
      await sockjs.opened();
      await waitFor('a SockJS client connected', () => sockjs.of('connected').length === 1);
    } finally {
      sockjs.close();
    }
    assert.ok(has(await loaded(), '/src/push/sockjs.js'), 'the first SockJS client loads it');
    t.diagnostic(`RSS idle ${idleRss.toFixed(1)} MB, after a raw and a SockJS client ${(await rssMb(child.pid!)).toFixed(1)} MB`);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await cleanup();
  }
});
