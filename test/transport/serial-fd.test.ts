// The descriptor-level serial transport on a real PTY: exclusive use, back-pressure, unplug, lines both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { openPtyLink } from '../../src/sim/pty.js';
import { openSerial } from '../../src/transport/serial.js';
import type { Transport } from '../../src/transport/transport.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const quiet = { line: () => undefined, closed: () => undefined };

test('a port is held exclusively while Gantry has it open, and free again once closed', async () => {
  const { dir, cleanup } = await tempDir();
  const pty = await openPtyLink(join(dir, 'tty'));
  let first: Transport | undefined;
  let again: Transport | undefined;
  try {
    first = await openSerial(pty.link, 250000, quiet);
    await assert.rejects(openSerial(pty.link, 250000, quiet), /in use by another program/);
    await first.close();
    first = undefined;
    again = await openSerial(pty.link, 250000, quiet);
  } finally {
    await first?.close();
    await again?.close();
    await pty.close();
    await cleanup();
  }
});

test('lines the device cannot take yet, as text or bytes, are kept in order and delivered once it reads again', async () => {
  const { dir, cleanup } = await tempDir();
  const pty = await openPtyLink(join(dir, 'tty'));
  let port: Transport | undefined;
  try {
    let received = '';
    pty.onData((d) => (received += d));
    const lines: string[] = [];
    port = await openSerial(pty.link, 250000, { line: (l) => lines.push(l), closed: () => undefined });
    pty.suspend(); // far more than a PTY buffers (a few KB): most of this waits in Gantry's queue
    const sent = Array.from({ length: 20_000 }, (_, i) => `N${i} G1 X${i % 200}.5 Y${(i * 7) % 200}.25 E${i}.0125*${i % 256}\n`);
    // every other line as bytes from one buffer that is overwritten right after: what waits must be a copy
    const reused = Buffer.alloc(128);
    sent.forEach((l, i) => {
      if (i % 2 === 0 || !port!.writeBytes) return port!.write(l);
      const length = reused.write(l, 'latin1');
      port!.writeBytes(reused, length);
      reused.fill(0x21);
    });
    assert.ok(port.writeBytes, 'the descriptor transport takes bytes');
    pty.resume();
    const expected = sent.join('');
    await waitFor('every byte at the device', () => received.length >= expected.length, 30_000);
    assert.equal(received.length, expected.length);
    assert.ok(received === expected, 'the bytes arrive complete and in order');
    // and the other way: lines split on their endings, CRs dropped
    pty.write('ok T:20.0 /0.0\r\nok\nec');
    pty.write('ho:busy\n');
    await waitFor('three lines', () => lines.length >= 3 || undefined);
    assert.deepEqual(lines, ['ok T:20.0 /0.0', 'ok', 'echo:busy']);
  } finally {
    pty.resume();
    await port?.close();
    await pty.close();
    await cleanup();
  }
});

test('an unplugged device is reported once as disconnected, and writes after it are dropped quietly', async () => {
  const { dir, cleanup } = await tempDir();
  const pty = await openPtyLink(join(dir, 'tty'));
  let port: Transport | undefined;
  try {
    const closes: (Error | undefined)[] = [];
    port = await openSerial(pty.link, 250000, { line: () => undefined, closed: (e) => closes.push(e) });
    await pty.close();
    await waitFor('the disconnect', () => closes.length > 0 || undefined);
    port.write('M105\n');
    assert.equal(closes.length, 1);
    assert.match(closes[0]?.message ?? '', /disconnected/);
    assert.equal((closes[0] as Error & { code?: string }).code, 'DISCONNECTED');
  } finally {
    await port?.close();
    await pty.close();
    await cleanup();
  }
});

test('closing the port closes every descriptor Gantry opened on the device (none left over after reconnects)', async () => {
  const { dir, cleanup } = await tempDir();
  const pty = await openPtyLink(join(dir, 'tty'));
  const device = await realpath(pty.link);
  // this process's descriptors on the device, as the kernel lists them
  const onDevice = async () => {
    let n = 0;
    for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === device) n++;
    return n;
  };
  try {
    assert.equal(await onDevice(), 0);
    for (let i = 0; i < 3; i++) {
      const t = await openSerial(pty.link, 250000, quiet);
      assert.ok((await onDevice()) > 0, 'open while connected');
      await t.close();
      assert.equal(await onDevice(), 0, `after connection ${i + 1} closed`);
    }
  } finally {
    await pty.close();
    await cleanup();
  }
});
