// What the fuzzer found and this branch fixed, pinned down: requests the HTTP layer refuses get a JSON error too,
// an empty file downloads, and a connect body with an object for a number gets its 400.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { type GantryRig, TEST_KEY, gantryRig, uploadGcode } from '../helpers/gantry-rig.js';

/** Sends raw bytes and reads until the server closes: for requests fetch would refuse to send. */
function raw(port: number, text: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let data = '';
    s.on('data', (b: Buffer) => (data += b.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), head, body });
    });
  });
}

describe('HTTP edges', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE', camera: 'none' });
  });
  after(() => rig.close());

  test('requests refused before the API (parser, adapter) get a JSON error, HEAD without a body', async () => {
    const cases: [string, number][] = [
      ['FOO /api/version HTTP/1.1\r\nHost: x\r\n', 400], // unknown method: Node's parser
      ['GET /api/version/\xe9 HTTP/1.1\r\nHost: x\r\n', 400], // a byte a URL may not hold
      ['GET /api\\version HTTP/1.1\r\nHost: x\r\n', 400], // backslash: @hono/node-server
      ['GET /api/version HTTP/1.1\r\nHost: x y\r\n', 400], // bad Host: @hono/node-server
      [`GET /api/version?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n`, 431], // over the 16 KB header limit
    ];
    for (const [request, status] of cases) {
      const res = await raw(rig.gantry.port, `${request}Connection: close\r\n\r\n`);
      assert.equal(res.status, status, request.slice(0, 60));
      assert.match(res.head, /content-type: application\/json/i, request.slice(0, 60));
      assert.equal(typeof (JSON.parse(res.body) as { error?: unknown }).error, 'string', request.slice(0, 60));
    }
    const head = await raw(rig.gantry.port, `HEAD /api/version?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(head.status, 431);
    assert.equal(head.body, '', 'no body after a HEAD answer');
  });

  test('an empty file downloads (200, no bytes) and the connection stays usable; a range of it is 416', async () => {
    assert.equal((await uploadGcode(rig, 'empty.gcode', '')).status, 201);
    const res = await rig.api('/downloads/files/local/empty.gcode');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '0');
    assert.equal(await res.text(), '');
    assert.equal((await rig.api('/downloads/files/local/empty.gcode', { headers: { Range: 'bytes=0-' } })).status, 416);
    assert.equal((await rig.api('/api/version')).status, 200);
  });

  test('connect with an object or a deep list where a number or name belongs: 400, not 500', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    for (const body of ['{"command":"connect","baudrate":{"toString":1}}', `{"command":"connect","baudrate":${deep}}`, '{"command":"connect","port":"/dev/ttyFUZZ0","baudrate":115200,"printerProfile":{"toString":1}}']) {
      const res = await rig.api('/api/connection', { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Api-Key': TEST_KEY } });
      assert.equal(res.status, 400, body.slice(0, 80));
      assert.equal(typeof ((await res.json()) as { error?: unknown }).error, 'string');
    }
    assert.equal(rig.gantry.printer.stateText, 'Offline', 'nothing was opened');
  });
});
