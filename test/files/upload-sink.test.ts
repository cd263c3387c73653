// The upload temp file (src/files/upload-sink.ts) on a real disk: chunks of every size come out in order, batched,
// with the right hash, and the writer is paused and resumed; a chunk over the limit or with a NUL byte is refused
// before any of it reaches the file; the file is closed before anyone unlinks it. And the minor GC it runs every
// few MB frees spent buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GC_EVERY, SYNC_EVERY, UploadSink, WRITE_BATCH } from '../../src/files/upload-sink.js';
import { collectYoungGarbage } from '../../src/system/gc.js';
import { StorageError } from '../../src/files/storage.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** G-code text, `bytes` long, different on every line (so a reordered or repeated chunk shows). */
function gcode(bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const line = `G1 X${(i % 250) + 0.125} Y${i % 210} E${i}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** `data` cut into chunks whose sizes cycle through `sizes`, as a socket and a multipart parser deliver them. */
function* chunked(data: Buffer, sizes: number[]): Generator<Buffer> {
  let i = 0;
  for (let at = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield data.subarray(at, at + size);
    at += size;
  }
}

/** Writes the chunks as the upload does: when the sink says stop, wait for its drain callback, then go on. */
async function feed(sink: UploadSink, chunks: Iterable<Buffer>): Promise<void> {
  for (const c of chunks) {
    if (!sink.write(c)) await new Promise<void>((resolve) => sink.onDrain(resolve));
  }
}

/** A sink whose disk failures reject `failed` (and are kept for the test to see). */
function sinkAt(path: string, maxBytes: number): { sink: UploadSink; failed: Promise<never> } {
  let report: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (report = reject));
  failed.catch(() => undefined);
  return { sink: new UploadSink(path, maxBytes, (err) => report(err)), failed };
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

test('chunks of any size land in order, in batches, hashed and synced, and the file is closed after', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // past several syncs and GCs; 1-byte chunks, odd sizes and chunks larger than a batch
    const data = gcode(2 * SYNC_EVERY + 3 * GC_EVERY + 12_345);
    const path = join(dir, 'upload.tmp');
    const { sink } = sinkAt(path, data.length);
    await feed(sink, chunked(data, [65_536, 1, 7_919, 3 * WRITE_BATCH + 17, 64, 1_000_003]));
    await sink.end();
    assert.equal(sink.size, data.length);
    assert.equal(sink.hash.digest('hex'), sha1(data));
    assert.ok((await readFile(path)).equals(data), 'the file holds exactly the bytes sent, in order');
    assert.equal((await stat(path)).mode & 0o777, 0o644);
  } finally {
    await cleanup();
  }
});

test('a chunk that would take the file over the limit is refused (413) and none of it is written', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const limit = 3 * WRITE_BATCH + 1000;
    const data = gcode(limit + 64 * 1024);
    const path = join(dir, 'upload.tmp');
    const { sink } = sinkAt(path, limit);
    await assert.rejects(feed(sink, chunked(data, [64 * 1024])), (err: unknown) => err instanceof StorageError && err.status === 413);
    await sink.discard();
    const written = await readFile(path);
    assert.ok(written.length <= limit, `${written.length} bytes written, limit ${limit}`);
    assert.ok(written.equals(data.subarray(0, written.length)), 'what was written is the start of the file');
  } finally {
    await cleanup();
  }
});

test('a chunk with a NUL byte is refused (415) before any of it is written, even mid-file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const data = gcode(4 * WRITE_BATCH);
    const at = 2 * WRITE_BATCH + 100;
    data[at] = 0;
    const path = join(dir, 'upload.tmp');
    const { sink } = sinkAt(path, data.length);
    await assert.rejects(feed(sink, chunked(data, [64 * 1024])), (err: unknown) => err instanceof StorageError && err.status === 415);
    await sink.discard();
    const written = await readFile(path);
    assert.ok(written.length <= at - (at % (64 * 1024)), `${written.length} bytes written; the chunk with the NUL starts at ${at - (at % (64 * 1024))}`);
    assert.ok(!written.includes(0));
  } finally {
    await cleanup();
  }
});

test('a sink discarded mid-upload closes its file first, so it can be unlinked for good', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'upload.tmp');
    const { sink } = sinkAt(path, 1 << 30);
    // a client that sends 3 batches, then goes away while they are on their way to disk
    await feed(sink, chunked(gcode(3 * WRITE_BATCH), [64 * 1024]));
    await sink.discard();
    await unlink(path);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await cleanup();
  }
});

test('the temp file is always a new file: an existing file or a planted symlink at its name is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const existing = join(dir, 'existing.tmp');
    await writeFile(existing, 'keep me');
    const first = sinkAt(existing, 100);
    await assert.rejects(first.failed, { code: 'EEXIST' });
    await assert.rejects(first.sink.end(), { code: 'EEXIST' });
    assert.equal(await readFile(existing, 'utf8'), 'keep me');
    const target = join(dir, 'elsewhere');
    await symlink(target, join(dir, 'link.tmp'));
    const second = sinkAt(join(dir, 'link.tmp'), 100);
    second.sink.write(Buffer.from('G28\n'));
    await assert.rejects(second.failed, { code: 'EEXIST' });
    assert.throws(() => second.sink.write(Buffer.from('G28\n')), { code: 'EEXIST' });
    await assert.rejects(stat(target), { code: 'ENOENT' });
  } finally {
    await cleanup();
  }
});

test('collectYoungGarbage frees dropped buffers and leaves no gc() in the global scope', async () => {
  const hadGc = 'gc' in globalThis;
  const before = process.memoryUsage().arrayBuffers;
  (() => {
    // 4 MB in 64 KB buffers, each its own allocation as a request body chunk is, dropped at once
    let keep = 0;
    for (let i = 0; i < 64; i++) keep += Buffer.allocUnsafeSlow(64 * 1024).fill(i).length;
    assert.equal(keep, 4 << 20);
  })();
  await waitFor('the dropped buffers freed', () => {
    collectYoungGarbage();
    return process.memoryUsage().arrayBuffers < before + (1 << 20);
  });
  assert.equal('gc' in globalThis, hadGc);
});
