// The page's files as served: every module preloaded (no import waterfall), nothing private served, compressed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PUBLIC_DIR } from '../../src/api/static.js';
import { gantryRig } from '../helpers/gantry-rig.js';

test('the page loads one script: the bundle holds every module', async () => {
  const html = await readFile(join(PUBLIC_DIR, 'index.html'), 'utf8');
  assert.deepEqual([...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]), ['js/app.js']);
  const js = await readFile(join(PUBLIC_DIR, 'js', 'app.js'), 'utf8');
  assert.ok(!/\bimport\s*[{(*"']/.test(js), 'no imports left to fetch one by one');
});

test('served compressed with an ETag; sources, dotfiles and paths outside public/ are not served; HTML has a CSP', async () => {
  const rig = await gantryRig({ serial: 'NONE' });
  try {
    const js = await fetch(`${rig.gantry.url}/js/app.js`, { headers: { 'Accept-Encoding': 'br' } });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-encoding'), 'br');
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const etag = js.headers.get('etag')!;
    assert.equal((await fetch(`${rig.gantry.url}/js/app.js`, { headers: { 'If-None-Match': etag } })).status, 304);
    const html = await fetch(`${rig.gantry.url}/`);
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal((await fetch(`${rig.gantry.url}/vendor/uplot.js`)).status, 200);
    for (const path of ['/src/app.ts', '/js/app.js.map', '/js/app.js.br', '/.hidden', '/..%2Fpackage.json', '/%2e%2e/package.json', '/api/nope']) {
      const res = await fetch(`${rig.gantry.url}${path}`);
      assert.ok(res.status === 404 || res.status === 403, `${path}: ${res.status}`);
      assert.ok('error' in ((await res.json()) as object), `${path} answers a JSON error`);
    }
  } finally {
    await rig.close();
  }
});
