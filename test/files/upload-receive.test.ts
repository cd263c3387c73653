// parseUpload (src/files/upload.ts) on a real node:http server: it takes the request's push() over while it reads
// the body, and these check the edges of that. A body that arrived whole before parseUpload ran (the route awaits
// other things first) is read from the request's buffer; the request ends as a Readable should ('end',
// readableEnded) and its push() is Readable's again. A body refused halfway hands the request back to Readable, so
// the rest is read and dropped the ordinary way and the client hears the answer; an upload cut off by the client
// leaves no temp file. Several uploads in a row on one keep-alive connection (one chunked) each land intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { closeAfterAnswer, parseUpload, uploadsInProgress } from '../../src/files/upload.js';
import { StorageError } from '../../src/files/storage.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const BOUNDARY = 'receive-test-boundary';
const head = (name: string) =>
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="select"\r\n\r\ntrue\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
const gcode = (bytes: number, salt = 0) => {
  const lines: string[] = [];
  for (let n = 0, i = 0; n < bytes; i++) {
    const l = `G1 X${(i + salt) % 250} Y${i % 210} E${i}\n`;
    lines.push(l);
    n += l.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
};
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

interface Seen {
  result?: Awaited<ReturnType<typeof parseUpload>>;
  error?: unknown;
  ownPush: boolean;
  ended: boolean;
}

/** A server whose one route runs parseUpload, first waiting for `before(req)`; answers 201 or the error's status. */
async function server(dir: string, before: (req: IncomingMessage) => Promise<void>, seen: Seen[]): Promise<{ url: URL; close: () => Promise<void> }> {
  let n = 0;
  const srv: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const s: Seen = { ownPush: false, ended: false };
      seen.push(s);
      await before(req);
      try {
        s.result = await parseUpload(req, () => join(dir, `upload-${n++}.tmp`), 1 << 30);
        if (!req.readableEnded) await once(req, 'end');
        s.ended = req.readableEnded;
        s.ownPush = Object.hasOwn(req, 'push');
        res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"done":true}');
      } catch (err) {
        s.error = err;
        s.ownPush = Object.hasOwn(req, 'push');
        closeAfterAnswer(req, res);
        const status = err instanceof StorageError ? err.status : 500;
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
      }
    })();
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const url = new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`);
  return { url, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

/** POSTs `body` (in `pieces`-sized writes) and resolves with the status and the answer's text. */
function post(url: URL, body: Buffer, agent?: Agent, pieces = 64 * 1024, chunked = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` };
    if (!chunked) headers['Content-Length'] = String(body.length);
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/', agent, headers });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += pieces) req.write(body.subarray(at, at + pieces));
    req.end();
  });
}

test('a body that arrived whole before parseUpload ran is read from the request buffer; the request ends as a Readable', async () => {
  const { dir, cleanup } = await tempDir();
  const seen: Seen[] = [];
  // the route awaits until the whole (small) body is in: what a slow check before parseUpload would leave behind
  const srv = await server(dir, (req) => waitFor('the whole body to arrive', () => req.complete).then(() => undefined), seen);
  try {
    const data = gcode(6000);
    const { status } = await post(srv.url, Buffer.concat([head('early.gcode'), data, tail]));
    assert.equal(status, 201);
    const r = seen[0]!.result!;
    assert.equal(r.fields['select'], 'true');
    assert.equal(r.file!.hash, sha1(data));
    assert.equal(r.file!.size, data.length);
    assert.ok((await readFile(r.file!.tempPath)).equals(data));
    assert.equal(seen[0]!.ended, true, "the request emitted 'end'");
    assert.equal(seen[0]!.ownPush, false, "the request's push() is Readable's again");
  } finally {
    await srv.close();
    await cleanup();
  }
});

test('uploads one after another on a keep-alive connection (one chunked) each land intact, and each request ends', async () => {
  const { dir, cleanup } = await tempDir();
  const seen: Seen[] = [];
  const srv = await server(dir, async () => undefined, seen);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const files = [gcode(3 << 20, 1), gcode(1, 2), gcode(700_001, 3), gcode(2 << 20, 4)];
    for (const [i, data] of files.entries()) {
      // the last one chunked (Transfer-Encoding: chunked, no Content-Length), as a client that streams without one
      const { status } = await post(srv.url, Buffer.concat([head(`k${i}.gcode`), data, tail]), agent, 10_007, i === files.length - 1);
      assert.equal(status, 201);
      const r = seen[i]!.result!;
      assert.equal(r.file!.hash, sha1(data));
      assert.ok((await readFile(r.file!.tempPath)).equals(data));
      assert.equal(seen[i]!.ended, true);
      assert.equal(seen[i]!.ownPush, false);
    }
  } finally {
    agent.destroy();
    await srv.close();
    await cleanup();
  }
});

test('a body refused halfway (a NUL byte) is answered 415 while the client still sends; the request is Readable again', async () => {
  const { dir, cleanup } = await tempDir();
  const seen: Seen[] = [];
  const srv = await server(dir, async () => undefined, seen);
  try {
    const data = gcode(8 << 20);
    data[1 << 20] = 0;
    const { status, text } = await post(srv.url, Buffer.concat([head('nul.gcode'), data, tail]));
    assert.equal(status, 415);
    assert.match((JSON.parse(text) as { error: string }).error, /binary data/);
    assert.equal(seen[0]!.ownPush, false, "the rest of the body goes through Readable (closeAfterAnswer reads and drops it)");
    await waitFor('the temp file to be removed', async () => (await readdir(dir)).length === 0);
  } finally {
    await srv.close();
    await cleanup();
  }
});

test('an upload the client cuts off halfway fails with 400 and leaves no temp file', async () => {
  const { dir, cleanup } = await tempDir();
  const seen: Seen[] = [];
  const srv = await server(dir, async () => undefined, seen);
  try {
    const body = Buffer.concat([head('cut.gcode'), gcode(4 << 20)]);
    const req = request({ host: srv.url.hostname, port: srv.url.port, method: 'POST', path: '/', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': String(body.length + 1000) } });
    req.on('error', () => undefined);
    req.write(body);
    await waitFor('the server to start on the file', async () => (await readdir(dir)).length > 0 || seen[0]?.error !== undefined);
    assert.equal(uploadsInProgress(), 1, 'an upload streams in (the idle collector waits for it)');
    req.destroy();
    await waitFor('the upload to fail', () => seen[0]?.error !== undefined);
    assert.equal(uploadsInProgress(), 0, 'a failed upload is no longer counted');
    assert.ok(seen[0]!.error instanceof StorageError);
    assert.equal((seen[0]!.error as StorageError).status, 400);
    await waitFor('the temp file to be removed', async () => (await readdir(dir)).length === 0);
  } finally {
    await srv.close();
    await cleanup();
  }
});
