// Symlinks in the files folder against a running server over real HTTP (issue #11 D): a link that leads out of the
// folder is as good as absent (not listed, not downloadable, not printable, never analysed, never written through);
// a link that stays inside keeps working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// a 1x1 PNG thumbnail: had the analysis read the outside file, a thumbnail would be stored for it
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const SECRET = `; thumbnail begin 1x1 ${PNG.length}\n; ${PNG}\n; thumbnail end\nM117 SECRET-OUTSIDE\nG28\nG1 X10 Y10 F1200\n`;
const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');

interface Listed {
  name: string;
  path: string;
  size?: number;
  hash?: string;
  children?: Listed[];
}

describe('symlinks in the files folder', () => {
  let rig: GantryRig;
  let files: string;
  let outside: string;
  let cleanupOutside: () => Promise<void>;
  let passwd: Buffer;

  before(async () => {
    rig = await gantryRig({}, {}, ['--speed', '400']);
    files = join(rig.dir, 'data', 'files');
    ({ dir: outside, cleanup: cleanupOutside } = await tempDir('gantry-outside-'));
    passwd = await readFile('/etc/passwd');
    await writeFile(join(outside, 'secret.gcode'), SECRET);
    // links that lead out: to a system file, to a G-code file outside, to a folder outside, and a dangling one
    await symlink('/etc/passwd', join(files, 'evil.gcode'));
    await symlink(join(outside, 'secret.gcode'), join(files, 'secret.gcode'));
    await symlink(outside, join(files, 'outside'));
    // links that stay inside: to a file, to a folder, and a loop back to the root
    assert.equal((await uploadGcode(rig, 'real.gcode', 'M117 INSIDE\nG28\n')).status, 201);
    assert.equal((await uploadGcode(rig, 'a.gcode', 'G28\n', { path: 'sub' })).status, 201);
    await symlink('real.gcode', join(files, 'link.gcode'));
    await symlink('sub', join(files, 'sublink'));
    await symlink('..', join(files, 'sub', 'loop'));
    await waitOperational(rig);
  });
  after(async () => {
    await rig.close();
    await cleanupOutside();
  });

  const listing = async (): Promise<{ text: string; entries: Listed[] }> => {
    const res = await rig.api('/api/files?recursive=true');
    assert.equal(res.status, 200);
    const text = await res.text();
    const entries: Listed[] = [];
    const walk = (list: Listed[]) => {
      for (const e of list) {
        entries.push(e);
        if (e.children) walk(e.children);
      }
    };
    walk((JSON.parse(text) as { files: Listed[] }).files);
    return { text, entries };
  };

  const status = async (path: string, init: Parameters<GantryRig['api']>[1] = {}) => {
    const res = await rig.api(path, init);
    const text = await res.text();
    if (res.status >= 400) assert.equal(typeof (JSON.parse(text) as { error?: unknown }).error, 'string', `${path}: ${text}`);
    return res.status;
  };

  const OUT = ['evil.gcode', 'secret.gcode', 'outside/secret.gcode'];

  test('the listing shows inside links, never an outside target or its size and hash', async () => {
    const { text, entries } = await listing();
    const paths = entries.map((e) => e.path);
    for (const p of ['evil.gcode', 'secret.gcode', 'outside', 'outside/secret.gcode']) assert.ok(!paths.includes(p), `${p} is listed`);
    assert.ok(!text.includes(sha1(SECRET)) && !text.includes(sha1(passwd)), 'an outside hash leaked');
    assert.ok(!entries.some((e) => e.size === passwd.length || e.size === SECRET.length), 'an outside size leaked');
    // inside links work: the file link shows its target's bytes, the folder link its children, the loop is cut
    const link = entries.find((e) => e.path === 'link.gcode');
    assert.equal(link?.hash, sha1('M117 INSIDE\nG28\n'));
    assert.ok(paths.includes('sublink/a.gcode'));
    assert.ok(!paths.some((p) => p.includes('loop/')), 'the loop is not followed');
    // one file's own entry too
    for (const p of OUT) assert.equal(await status(`/api/files/local/${p}`), 404, p);
    assert.equal(await status('/api/files/local/outside'), 404);
  });

  test('downloads and thumbnails of outside targets are 404; an inside link downloads', async () => {
    for (const p of OUT) {
      assert.equal(await status(`/downloads/files/local/${p}`), 404, p);
      assert.equal(await status(`/api/gantry/thumbnails/${p}`), 404, p);
      assert.equal(await status(`/downloads/files/local/${p}`, { headers: { Range: 'bytes=0-10' } }), 404, p);
    }
    const res = await rig.api('/downloads/files/local/link.gcode');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'M117 INSIDE\nG28\n');
  });

  test('selecting, printing, queueing, copying or moving an outside target is 404 and sends nothing to the printer', async () => {
    for (const p of OUT) {
      assert.equal(await status(`/api/files/local/${p}`, { method: 'POST', json: { command: 'select', print: true } }), 404, `select ${p}`);
      assert.equal(await status(`/api/files/local/${p}`, { method: 'POST', json: { command: 'analyse' } }), 404, `analyse ${p}`);
      assert.equal(await status(`/api/files/local/${p}`, { method: 'POST', json: { command: 'copy', destination: 'sub' } }), 404, `copy ${p}`);
      assert.equal(await status(`/api/files/local/${p}`, { method: 'POST', json: { command: 'move', destination: 'sub' } }), 404, `move ${p}`);
      assert.equal(await status('/api/gantry/queue', { method: 'POST', json: { path: p } }), 404, `queue ${p}`);
    }
    assert.equal(rig.gantry.jobs.active, false);
    // a file selected while it was real, then replaced by a link to the outside: start refuses it
    assert.equal((await uploadGcode(rig, 'swap.gcode', 'M117 SWAP\nG28\n')).status, 201);
    assert.equal(await status('/api/files/local/swap.gcode', { method: 'POST', json: { command: 'select' } }), 204);
    await rig.gantry.analysis.whenDone('swap.gcode');
    await rm(join(files, 'swap.gcode'));
    await symlink(join(outside, 'secret.gcode'), join(files, 'swap.gcode'));
    assert.equal(await status('/api/job', { method: 'POST', json: { command: 'start' } }), 404);
    assert.equal(rig.gantry.jobs.active, false);
    // an inside link prints: the printer gets the target's lines, and never the outside ones
    assert.equal(await status('/api/files/local/link.gcode', { method: 'POST', json: { command: 'select', print: true } }), 204);
    await rig.waitExecuted('the inside link printed', (cmds) => cmds.includes('M117 INSIDE'));
    await waitFor('the job to end', () => !rig.gantry.jobs.active);
    const executed = (await rig.executed()).join('\n');
    assert.doesNotMatch(executed, /SECRET|root:/);
    assert.equal(await readFile(join(outside, 'secret.gcode'), 'utf8'), SECRET);
  });

  test('nothing is written, created or removed through a link that leads out', async () => {
    const before = (await readdir(outside)).sort();
    assert.equal(await status('/api/files/local', { method: 'POST', body: form({ foldername: 'made' }, 'outside') }), 404, 'mkdir in outside');
    const up = await uploadGcode(rig, 'planted.gcode', 'G28\n', { path: 'outside' });
    assert.equal(up.status, 404, await up.text());
    assert.equal(await status('/api/files/local/real.gcode', { method: 'POST', json: { command: 'copy', destination: 'outside' } }), 404);
    assert.equal(await status('/api/files/local/real.gcode', { method: 'POST', json: { command: 'move', destination: 'outside' } }), 404);
    assert.equal(await status('/api/files/local/outside', { method: 'DELETE' }), 404);
    assert.equal(await status('/api/files/local/outside/secret.gcode', { method: 'DELETE' }), 404);
    // a dangling link where a copy would land: the copy must not create its target outside
    await mkdir(join(files, 'dest'));
    await symlink(join(outside, 'created.gcode'), join(files, 'dest', 'real.gcode'));
    assert.equal(await status('/api/files/local/real.gcode', { method: 'POST', json: { command: 'copy', destination: 'dest' } }), 409);
    assert.deepEqual((await readdir(outside)).sort(), before);
    assert.equal(await readFile(join(outside, 'secret.gcode'), 'utf8'), SECRET);
    // uploading over a link replaces the link itself, never what it points to
    assert.equal((await uploadGcode(rig, 'evil.gcode', 'G28\n')).status, 201);
    assert.deepEqual(await readFile('/etc/passwd'), passwd);
    assert.ok((await stat(join(files, 'evil.gcode'))).isFile());
    assert.equal(await (await rig.api('/downloads/files/local/evil.gcode')).text(), 'G28\n');
  });

  test('the analysis never read an outside target: no metadata, no thumbnail', async () => {
    const { entries } = await listing();
    for (const e of entries) if (e.hash) await rig.gantry.analysis.whenDone(e.path);
    const meta = await readFile(join(rig.dir, 'data', 'files.json'), 'utf8');
    assert.ok(!meta.includes(sha1(SECRET)) && !meta.includes(sha1(passwd)), 'an outside hash was stored');
    assert.doesNotMatch(meta, /"(secret|outside\/secret)\.gcode"/);
    const thumbs = await readdir(join(rig.dir, 'data', 'thumbnails')).catch(() => []);
    assert.deepEqual(thumbs, [], 'a thumbnail was stored');
    assert.ok(!rig.logs.some((l) => /analysed (secret|outside)/.test(l)));
  });
});

function form(fields: Record<string, string>, path: string): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('path', path);
  return f;
}
