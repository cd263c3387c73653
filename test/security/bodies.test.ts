// Every body is bounded before it is read: a stranger streaming hundreds of megabytes at any route gets a quick
// answer, the server does not swell, and it is still there afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig } from '../helpers/gantry-rig.js';
import { floodBody } from '../helpers/accounts.js';

const MB = 1024 * 1024;
// what a key-less client can reach that reads a body, and a sample of what it cannot
const PUBLIC_POSTS = ['/plugin/appkeys/request', '/api/login', '/api/logout', '/api/gantry/setup'];
const PROTECTED_POSTS = ['/api/settings', '/api/printer/command', '/api/job', '/api/files/local', '/plugin/appkeys/decision/x', '/api/gantry/users', '/', '/nonexistent'];

describe('oversized bodies', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
  });
  after(() => rig.close());

  for (const declareLength of [false, true]) {
    test(`300 MB ${declareLength ? 'with Content-Length' : 'chunked'} at every key-less route: 413 or 403 long before the end, no growth`, async () => {
      for (const path of [...PUBLIC_POSTS, ...PROTECTED_POSTS]) {
        const before = process.memoryUsage().rss; // the server runs in this process
        const res = await floodBody(rig.gantry.url, path, 300 * MB, { declareLength });
        const grown = process.memoryUsage().rss - before;
        assert.ok([403, 413].includes(res.status), `${path}: ${res.status} ${res.body}`);
        assert.equal(typeof (JSON.parse(res.body) as { error: unknown }).error, 'string', `${path}: a JSON error`);
        if (PUBLIC_POSTS.includes(path)) assert.equal(res.status, 413, path);
        assert.ok(res.sent < 50 * MB, `${path}: answered after ${(res.sent / MB).toFixed(0)} MB of 300`);
        assert.ok(grown < 64 * MB, `${path}: RSS grew ${(grown / MB).toFixed(0)} MB`);
      }
      assert.equal((await rig.api('/api/gantry/health', { key: null })).status, 200, 'still serving');
    });
  }

  test('with a key, JSON bodies stop at 100 KB; a normal one still works', async () => {
    const big = await floodBody(rig.gantry.url, '/api/settings', 20 * MB, { headers: { 'X-Api-Key': rig.gantry.apiKey } });
    assert.equal(big.status, 413);
    assert.ok(big.sent < 10 * MB);
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 'Still fine' } } })).status, 200);
  });
});
