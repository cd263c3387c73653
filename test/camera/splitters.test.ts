// Frame splitting for the camera relay: ffmpeg's mpjpeg parts by Content-length, bare JPEG streams by structure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JpegSplitter } from '../../src/camera/jpeg-splitter.js';
import { MpjpegSplitter } from '../../src/camera/mpjpeg-splitter.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

const seg = (marker: number, body: Buffer) => {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
};

/** A structurally real JPEG with the traps: an EXIF thumbnail (a JPEG inside APP1), FF D9 in a comment, byte stuffing and restart markers in the scan. */
function trickyJpeg(r: () => number, size: number): Buffer {
  const thumb = Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x04, 0x01, 0x02, 0xff, 0xd9]);
  const entropy: number[] = [];
  for (let i = 0; i < size; i++) {
    const v = Math.floor(r() * 256);
    entropy.push(v);
    if (v === 0xff) entropy.push(0x00); // stuffing
    if (i % 500 === 499) entropy.push(0xff, 0xd0 + ((i / 500) % 8)); // restart marker
  }
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xe1, Buffer.concat([Buffer.from('Exif\0\0'), thumb, Buffer.from('more exif')])),
    seg(0xfe, Buffer.from('a comment \xff\xd9 with an end marker in it', 'latin1')),
    seg(0xdb, Buffer.alloc(65, 1)),
    seg(0xc0, Buffer.alloc(15, 2)),
    seg(0xda, Buffer.alloc(10, 3)),
    Buffer.from(entropy),
    Buffer.from([0xff, 0xd9]),
  ]);
}

function chunked(data: Buffer, r: () => number, max: number, push: (b: Buffer) => void): void {
  for (let i = 0; i < data.length; ) {
    const n = 1 + Math.floor(r() * max);
    push(data.subarray(i, i + n));
    i += n;
  }
}

test('bare JPEG stream: frames come out whole and exact at any chunking, despite EXIF thumbnails and comments', () => {
  const r = rng(7);
  const frames = Array.from({ length: 25 }, (_, i) => trickyJpeg(r, 200 + i * 337));
  const stream = Buffer.concat(frames);
  // a naive FFD8…FFD9 split would see far more "frames"
  let naive = 0;
  for (let i = stream.indexOf(Buffer.from([0xff, 0xd9])); i >= 0; i = stream.indexOf(Buffer.from([0xff, 0xd9]), i + 2)) naive++;
  assert.ok(naive > frames.length);
  for (const max of [1, 7, 64, 1500, 100_000]) {
    const out: Buffer[] = [];
    const errors: string[] = [];
    const s = new JpegSplitter((f) => out.push(f), (e) => errors.push(e));
    chunked(stream, rng(max), max, (b) => s.push(b));
    assert.deepEqual(errors, [], `chunks up to ${max}`);
    assert.equal(out.length, frames.length, `chunks up to ${max}`);
    out.forEach((f, i) => assert.ok(f.equals(frames[i]!), `frame ${i}, chunks up to ${max}`));
  }
});

test('bare JPEG stream: garbage before and between frames is skipped', () => {
  const r = rng(3);
  const a = trickyJpeg(r, 300);
  const b = trickyJpeg(r, 400);
  const out: Buffer[] = [];
  const s = new JpegSplitter((f) => out.push(f));
  s.push(Buffer.concat([Buffer.from('junk\xff\x00', 'latin1'), a, Buffer.from([0x00, 0x11]), b]));
  assert.equal(out.length, 2);
  assert.ok(out[0]!.equals(a) && out[1]!.equals(b));
});

test('ffmpeg mpjpeg: parts cut by their Content-length at any chunking', () => {
  const r = rng(11);
  const frames = Array.from({ length: 20 }, (_, i) => trickyJpeg(r, 100 + i * 211));
  const stream = Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from(`--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: ${f.length}\r\n\r\n`), f, Buffer.from('\r\n')])));
  for (const max of [1, 13, 512, 100_000]) {
    const out: Buffer[] = [];
    const s = new MpjpegSplitter((f) => out.push(f));
    chunked(stream, rng(max), max, (b) => s.push(b));
    assert.equal(out.length, frames.length, `chunks up to ${max}`);
    out.forEach((f, i) => assert.ok(f.equals(frames[i]!), `frame ${i}`));
  }
});

test('mpjpeg: a part without a length is reported and skipped, the stream goes on', () => {
  const errors: string[] = [];
  const out: Buffer[] = [];
  const s = new MpjpegSplitter((f) => out.push(f), (e) => errors.push(e));
  const f = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
  s.push(Buffer.from('--ffmpeg\r\nContent-type: image/jpeg\r\n\r\n'));
  s.push(Buffer.concat([Buffer.from(`--ffmpeg\r\nContent-length: ${f.length}\r\n\r\n`), f, Buffer.from('\r\n')]));
  assert.equal(out.length, 1);
  assert.ok(out[0]!.equals(f));
  assert.match(errors[0]!, /without Content-length/);
});
