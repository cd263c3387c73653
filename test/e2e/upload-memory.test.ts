// A 500 MB upload into a real `gantry serve` process: it streams to disk, so the server's memory barely moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { streamPost } from '../helpers/stream-post.js';
import { GANTRY_CLI } from '../helpers/gantry-cli.js';

const KEY = 'memtest-key-0123456789abcdefghijklmnopqr';

const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test('a 500 MB upload streams to disk (server RSS grows by far less than the file) and lands intact', async () => {
  const { dir, cleanup } = await tempDir();
  const child = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--api-key', KEY, '--print-api-key'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GANTRY_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.resume();
  try {
    const url = new URL(await waitFor('server up', () => /running: (http:\S+)/.exec(out)?.[1]));
    const before = await rssMb(child.pid!);
    let peak = before;
    const sampler = setInterval(() => void rssMb(child.pid!).then((r) => (peak = Math.max(peak, r))).catch(() => undefined), 25);
    const line = Buffer.from('G1 X12.345 Y67.890 E0.01234 F1800\n');
    const chunk = Buffer.concat(Array.from({ length: Math.floor((1 << 20) / line.length) }, () => line));
    const chunks = Math.ceil((500 * (1 << 20)) / chunk.length);
    const head = Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="big.gcode"\r\nContent-Type: application/octet-stream\r\n\r\n');
    const tail = Buffer.from('\r\n--b--\r\n');
    const size = chunk.length * chunks;
    function* body(): Iterator<Buffer> {
      yield head;
      for (let i = 0; i < chunks; i++) yield chunk;
      yield tail;
    }
    const status = await streamPost(url.href, '/api/files/local', { 'X-Api-Key': KEY, 'Content-Type': 'multipart/form-data; boundary=b' }, head.length + size + tail.length, body());
    clearInterval(sampler);
    assert.equal(status, 201);
    assert.equal((await stat(join(dir, 'data', 'files', 'big.gcode'))).size, size);
    const growth = peak - before;
    process.stdout.write(`# 500 MB upload: server RSS ${before.toFixed(1)} MB before, peak ${peak.toFixed(1)} MB (+${growth.toFixed(1)} MB)\n`);
    // what this guards: the upload streams to disk. Buffered, 500 MB would show as hundreds of MB; the exact figure
    // (≈ 20-30 MB of stream buffers and GC slack, more on a loaded machine) is make bench's, not a test's
    assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MB: is the upload buffered in memory?`);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await cleanup();
  }
});
