// Uploads against a running server over real HTTP (issue #11 A, B; #13): a refused upload is answered at once and
// the rest of its body is never read; a full disk is a quick 507; file names arrive as typed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GantryRig, TEST_KEY, gantryRig, uploadGcode } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1 << 20;
const BOUNDARY = 'gantry-test-boundary';
const LINE = Buffer.from('G1 X12.345 Y67.890 E0.01234 F1800\n');
/** 64 KB of G-code text */
const CHUNK = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / LINE.length) }, () => LINE)).subarray(0, 64 * 1024);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** bytes of file content the client had handed to its socket when the answer came */
  sent: number;
  ms: number;
  /** true once the connection has closed: the client never ends a body it stopped sending, so only the server can */
  closed: () => boolean;
}

/**
 * Streams an upload of `total` bytes in 64 KB chunks, as a slicer on a slow link would, chunked unless
 * `contentLength` is given, and stops sending as soon as the server answers. `first` replaces the first chunk.
 */
function streamUpload(rig: GantryRig, total: number, opts: { name?: string; contentLength?: number; first?: Buffer } = {}): Promise<Answer> {
  const url = new URL(rig.gantry.url);
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${opts.name ?? 'big.gcode'}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { 'X-Api-Key': TEST_KEY, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` };
    if (opts.contentLength !== undefined) headers['Content-Length'] = String(opts.contentLength);
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/api/files/local', headers });
    let isClosed = false;
    req.once('socket', (s) => s.once('close', () => (isClosed = true)));
    const deadline = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer after ${sent} bytes`));
    }, 120_000);
    req.on('response', (res) => {
      answered = true;
      const status = res.statusCode!;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        clearTimeout(deadline);
        resolve({ status, headers: res.headers, body: Buffer.concat(parts).toString(), sent, ms: performance.now() - t0, closed: () => isClosed });
      });
    });
    req.on('error', (err) => {
      // the server closing the socket under a client still sending is expected once it has answered
      if (answered) return;
      clearTimeout(deadline);
      reject(new Error(`the upload failed after ${sent} bytes without an answer: ${err.message}`));
    });
    req.write(head);
    const pump = () => {
      while (!answered && !req.destroyed && sent < total) {
        const chunk = sent === 0 && opts.first ? opts.first : CHUNK;
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered && !req.destroyed) req.end(tail);
    };
    pump();
  });
}

/** Sends a hand-written multipart body (as a slicer's HTTP library writes it) with a Content-Length. */
function rawUpload(rig: GantryRig, body: Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(rig.gantry.url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/api/files/local',
      headers: { 'X-Api-Key': TEST_KEY, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': String(body.length) },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const part = (disposition: Buffer | string, content: Buffer | string, type?: string) =>
  Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: `),
    Buffer.from(disposition),
    Buffer.from(type ? `\r\nContent-Type: ${type}\r\n\r\n` : '\r\n\r\n'),
    Buffer.from(content),
    Buffer.from('\r\n'),
  ]);
const closing = Buffer.from(`--${BOUNDARY}--\r\n`);

async function listed(rig: GantryRig): Promise<{ name: string; display: string; path: string }[]> {
  const out: { name: string; display: string; path: string }[] = [];
  const walk = (entries: { name: string; display: string; path: string; children?: unknown[] }[]) => {
    for (const e of entries) {
      out.push(e);
      if (e.children) walk(e.children as typeof entries);
    }
  };
  walk(((await (await rig.api('/api/files?recursive=true')).json()) as { files: { name: string; display: string; path: string }[] }).files);
  return out;
}

const tempFiles = (rig: GantryRig, dataDir = join(rig.dir, 'data')) => readdir(join(dataDir, 'files', '.tmp'));

describe('uploads refused at once', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
    await rig.gantry.settings.update((s) => void (s.files.maxUploadBytes = MB));
  });
  after(() => rig.close());

  test('a chunked upload over the limit is answered 413 while the client is still sending, and nothing is kept', async () => {
    const total = 200 * MB;
    const a = await streamUpload(rig, total);
    assert.equal(a.status, 413, a.body);
    assert.match((JSON.parse(a.body) as { error: string }).error, /limit of 1048576 bytes/);
    assert.equal(a.headers['connection'], 'close');
    // the server stopped reading: the client got its answer long before it could push 200 MB
    assert.ok(a.sent < 32 * MB, `the client sent ${a.sent} of ${total} bytes before the answer`);
    await waitFor('the server to close the connection', a.closed, 5000);
    process.stdout.write(`# 413 after ${a.sent} of ${total} bytes, ${Math.round(a.ms)} ms\n`);
    assert.deepEqual(await tempFiles(rig), []);
    assert.ok(!(await listed(rig)).some((e) => e.name === 'big.gcode'));
    // the server is fine afterwards: a small upload on a new connection works
    assert.equal((await uploadGcode(rig, 'small.gcode', 'G28\n')).status, 201);
  });

  test('an upload with a Content-Length over the limit is answered 413 before its body, on a closed connection', async () => {
    const a = await streamUpload(rig, 200 * MB, { contentLength: 200 * MB + 300 });
    assert.equal(a.status, 413, a.body);
    assert.equal(a.headers['connection'], 'close');
    assert.ok(a.sent < 32 * MB, `the client sent ${a.sent} bytes before the answer`);
    await waitFor('the server to close the connection', a.closed, 5000);
    assert.deepEqual(await tempFiles(rig), []);
  });

  test('binary data is answered 415 at once, not after the whole body', async () => {
    const first = Buffer.from(CHUNK);
    first[100] = 0;
    const a = await streamUpload(rig, 200 * MB, { name: 'binary.gcode', first });
    assert.equal(a.status, 415, a.body);
    assert.ok((JSON.parse(a.body) as { error: string }).error);
    assert.ok(a.sent < 32 * MB, `the client sent ${a.sent} bytes before the answer`);
    await waitFor('the server to close the connection', a.closed, 5000);
    assert.deepEqual(await tempFiles(rig), []);
    assert.ok(!(await listed(rig)).some((e) => e.name === 'binary.gcode'));
  });

  test('a file name that is not G-code is answered 415 at once', async () => {
    const a = await streamUpload(rig, 200 * MB, { name: 'model.stl' });
    assert.equal(a.status, 415, a.body);
    assert.ok(a.sent < 32 * MB, `the client sent ${a.sent} bytes before the answer`);
    await waitFor('the server to close the connection', a.closed, 5000);
    assert.deepEqual(await tempFiles(rig), []);
  });
});

test('a full disk answers 507 within seconds, leaves nothing behind, and the next upload works', async (t) => {
  const mnt = await mkdtemp(join(tmpdir(), 'gantry-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    await rm(mnt, { recursive: true, force: true });
    t.skip(`cannot mount a 2 MB tmpfs (needs root): ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  let rig: GantryRig | undefined;
  try {
    rig = await gantryRig({ serial: 'NONE', dataDir: mnt });
    const a = await streamUpload(rig, 1024 * MB, { name: 'huge.gcode' });
    assert.equal(a.status, 507, a.body);
    assert.match((JSON.parse(a.body) as { error: string }).error, /disk space/);
    assert.ok(a.ms < 3000, `answered after ${Math.round(a.ms)} ms`);
    process.stdout.write(`# 507 after ${a.sent} bytes, ${Math.round(a.ms)} ms\n`);
    assert.ok(a.sent < 64 * MB, `the client sent ${a.sent} bytes before the answer`);
    await waitFor('the server to close the connection', a.closed, 5000);
    assert.deepEqual(await tempFiles(rig, mnt), []);
    assert.ok(!(await listed(rig)).some((e) => e.name === 'huge.gcode'));
    // the refused upload's bytes are gone, so there is room again (chunked: an upload that declares its length
    // must leave a 16 MB reserve, more than this whole disk)
    const small = await streamUpload(rig, 64 * 1024, { name: 'small.gcode' });
    assert.equal(small.status, 201, small.body);
    assert.ok((await listed(rig)).some((e) => e.path === 'small.gcode'));
    // a copy on a full disk: 507, and no truncated copy appears
    await mkdir(join(mnt, 'files', 'copies')); // (by hand: on a disk this small, the API keeps a 16 MB reserve)
    const filler = join(mnt, 'filler');
    await writeFile(filler, Buffer.alloc(4 * MB, 'x')).catch(() => undefined); // writes until the disk is full
    const copy = () => rig!.api('/api/files/local/small.gcode', { method: 'POST', json: { command: 'copy', destination: 'copies' } });
    const full = await copy();
    assert.equal(full.status, 507, await full.clone().text());
    assert.ok((await full.json()) as { error: string });
    assert.ok(!(await listed(rig)).some((e) => e.path === 'copies/small.gcode'));
    assert.deepEqual(await tempFiles(rig, mnt), []);
    await rm(filler);
    assert.equal((await copy()).status, 201);
    assert.ok((await listed(rig)).some((e) => e.path === 'copies/small.gcode'));
  } finally {
    await rig?.close();
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' }); // busy: detach it now, the kernel frees it when idle
    }
    await rm(mnt, { recursive: true, force: true });
  }
});

describe('file names as the slicer typed them', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
  });
  after(() => rig.close());

  const TYPED = 'Gehäuse-Teil ü.gcode';
  const STORED = 'Gehause-Teil_u.gcode';

  const check = async (json: Record<string, unknown>, folder: string) => {
    const path = folder ? `${folder}/${STORED}` : STORED;
    assert.equal((json['files'] as { local: { path: string } }).local.path, path);
    const entry = (await listed(rig)).find((e) => e.path === path);
    assert.ok(entry, `${path} is listed`);
    assert.equal(entry.name, STORED);
    assert.equal(entry.display, TYPED);
    const one = (await (await rig.api(`/api/files/local/${path}`)).json()) as { display: string };
    assert.equal(one.display, TYPED);
  };

  test('PrusaSlicer: print and path fields, then the file with its UTF-8 name as raw bytes', async () => {
    const body = Buffer.concat([
      part('form-data; name="print"', 'false'),
      part('form-data; name="path"', 'prusa'),
      part(Buffer.concat([Buffer.from('form-data; name="file"; filename="'), Buffer.from(TYPED, 'utf8'), Buffer.from('"')]), 'G28\nG1 X10 Y10\n', 'application/octet-stream'),
      closing,
    ]);
    const r = await rawUpload(rig, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    await check(r.json, 'prusa');
  });

  test('Cura: the file first with a UTF-8 filename, then select and print', async () => {
    const body = Buffer.concat([
      part(Buffer.concat([Buffer.from('form-data; name="file"; filename="'), Buffer.from(TYPED, 'utf8'), Buffer.from('"')]), ';FLAVOR:Marlin\nG28\n'),
      part('form-data; name="select"', 'false'),
      part('form-data; name="print"', 'false'),
      closing,
    ]);
    const r = await rawUpload(rig, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    await check(r.json, '');
  });

  test("RFC 5987: only filename*=UTF-8''…", async () => {
    const body = Buffer.concat([
      part('form-data; name="path"', 'rfc5987'),
      part("form-data; name=\"file\"; filename*=UTF-8''Geh%C3%A4use-Teil%20%C3%BC.gcode", 'G28\n', 'text/x-gcode'),
      closing,
    ]);
    const r = await rawUpload(rig, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    await check(r.json, 'rfc5987');
  });
});
