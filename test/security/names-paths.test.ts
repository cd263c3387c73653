// Names and paths against a running server over real HTTP (issue #11 C): every 201 is for an entry that is then
// listed at the path it returned, and every bad name or path is a 400 with a JSON error, never a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { type GantryRig, TEST_KEY, gantryRig, uploadGcode } from '../helpers/gantry-rig.js';

interface Listed {
  name: string;
  display: string;
  path: string;
  type: string;
}

describe('names and paths', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE' });
  });
  after(() => rig.close());

  const listing = async (): Promise<Listed[]> => {
    const out: Listed[] = [];
    const walk = (entries: (Listed & { children?: Listed[] })[]) => {
      for (const e of entries) {
        out.push(e);
        if (e.children) walk(e.children);
      }
    };
    const res = await rig.api('/api/files?recursive=true');
    assert.equal(res.status, 200);
    walk(((await res.json()) as { files: Listed[] }).files);
    return out;
  };

  /** A 201 upload's returned path, after checking it is listed there as a G-code file. */
  const uploadedAt = async (res: Response): Promise<string> => {
    const text = await res.text();
    assert.equal(res.status, 201, text);
    const path = (JSON.parse(text) as { files: { local: { path: string } } }).files.local.path;
    const entry = (await listing()).find((e) => e.path === path);
    assert.ok(entry, `${path} answered 201 but is not listed`);
    assert.equal(entry.type, 'machinecode');
    for (const segment of path.split('/')) assert.ok(Buffer.byteLength(segment) <= 255, `${segment.length}-byte name`);
    return path;
  };

  /** A 400 with a JSON error (not a 500, not a 201). */
  const refused = async (res: Response, what: string, status = 400) => {
    const text = await res.text();
    assert.equal(res.status, status, `${what}: ${text}`);
    assert.equal(typeof (JSON.parse(text) as { error?: unknown }).error, 'string', `${what}: ${text}`);
  };

  const mkdir = (foldername: string, path = '') => {
    const form = new FormData();
    form.append('foldername', foldername);
    if (path) form.append('path', path);
    return rig.api('/api/files/local', { method: 'POST', body: form });
  };

  const noTempFiles = async () => assert.deepEqual(await readdir(join(rig.dir, 'data', 'files', '.tmp')), []);

  test('a name longer than the file system allows keeps its extension and is listed where the answer says', async () => {
    const long = 'a'.repeat(300) + '.gcode';
    const path = await uploadedAt(await uploadGcode(rig, long, 'G28\n'));
    assert.match(path, /^a+\.gcode$/);
    const entry = (await listing()).find((e) => e.path === path)!;
    assert.equal(entry.display, long, 'the display name is the one sent');
    // in a folder, with a short extension, and with many 2-byte characters (300 bytes of UTF-8)
    assert.match(await uploadedAt(await uploadGcode(rig, 'b'.repeat(400) + '.gco', 'G28\n', { path: 'long' })), /^long\/b+\.gco$/);
    assert.match(await uploadedAt(await uploadGcode(rig, 'ü'.repeat(150) + '.gcode', 'G28\n')), /^u{150}\.gcode$/);
    // the same long name twice is the same file (overwritten), not two
    await uploadedAt(await uploadGcode(rig, long, 'G28\nG1 X1\n'));
    assert.equal((await listing()).filter((e) => e.path === path).length, 1);
  });

  test('names with nothing usable before the extension are refused with 400, and nothing is stored', async () => {
    const before = (await listing()).map((e) => e.path).sort();
    for (const name of ['..gcode', '.gcode', '???.gcode', '   .gcode', '../../.gcode', '....gco', '***.g']) {
      await refused(await uploadGcode(rig, name, 'G28\n'), name);
    }
    assert.deepEqual((await listing()).map((e) => e.path).sort(), before);
    await noTempFiles();
    // accents are dropped, not the letters: still a fine name
    assert.equal(await uploadedAt(await uploadGcode(rig, 'ääää.gcode', 'G28\n')), 'aaaa.gcode');
  });

  test('folder names ., .., empty or unusable are 400; folders are created where the answer says', async () => {
    for (const name of ['.', '..', '', '???', '/', ' ', '...']) await refused(await mkdir(name), `foldername ${JSON.stringify(name)}`);
    for (const path of ['..', '../..', 'a/../..', './.']) await refused(await mkdir('x', path), `path ${JSON.stringify(path)}`);
    await refused(await uploadGcode(rig, 'x.gcode', 'G28\n', { path: '..' }), 'upload path ..');
    // the form's path is taken as sent, as OctoPrint takes it: a '%' in a folder name is a character, never an escape
    assert.equal(await uploadedAt(await uploadGcode(rig, 'pct.gcode', 'G28\n', { path: 'PLA 100%' })), 'PLA_100/pct.gcode');
    assert.equal(await uploadedAt(await uploadGcode(rig, 'pct.gcode', 'G28\n', { path: '%2e%2e/%2E%2E' })), '2e2e/2E2E/pct.gcode');
    // a file where a folder would have to be is a conflict, not a server error
    assert.equal(await uploadedAt(await uploadGcode(rig, 'plain.gcode', 'G28\n')), 'plain.gcode');
    await refused(await uploadGcode(rig, 'x.gcode', 'G28\n', { path: 'plain.gcode/sub' }), 'upload below a file', 409);
    await refused(await mkdir('x', 'plain.gcode'), 'folder below a file', 409);
    const res = await mkdir('Neuer Ordner ä');
    assert.equal(res.status, 201, await res.clone().text());
    const path = ((await res.json()) as { folder: { path: string } }).folder.path;
    assert.equal(path, 'Neuer_Ordner_a');
    assert.ok((await listing()).some((e) => e.path === path && e.type === 'folder'));
    // the same folder again is no error (OctoPrint's add_folder ignores an existing one); a file of that name is
    const again = await mkdir('Neuer Ordner ä');
    assert.equal(again.status, 201, await again.clone().text());
    assert.equal(((await again.json()) as { folder: { path: string } }).folder.path, path);
    await refused(await mkdir('plain.gcode'), 'a folder where a file is', 409);
    await noTempFiles();
  });

  test('paths deeper than 16 levels or longer than 1024 characters are 400', async () => {
    const levels = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`).join('/');
    assert.equal(await uploadedAt(await uploadGcode(rig, 'deep.gcode', 'G28\n', { path: levels(15) })), `${levels(15)}/deep.gcode`);
    await refused(await uploadGcode(rig, 'deeper.gcode', 'G28\n', { path: levels(16) }), '17 levels');
    assert.equal((await mkdir('d15', levels(15))).status, 201, '16 levels of folders');
    await refused(await mkdir('d16', levels(16)), 'a 17th level');
    const long = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(200)).join('/');
    await refused(await uploadGcode(rig, 'x.gcode', 'G28\n', { path: long }), 'a 1206-character path');
    await refused(await mkdir('x', long), 'a folder in a 1206-character path');
    await refused(await rig.api(`/api/files/local/${levels(17)}`), 'a 17-level URL path');
    // copy into the deepest folder would make a 17-level path
    assert.equal(await uploadedAt(await uploadGcode(rig, 'shallow.gcode', 'G28\n')), 'shallow.gcode');
    await refused(await rig.api('/api/files/local/shallow.gcode', { method: 'POST', json: { command: 'copy', destination: levels(16) } }), 'copy to 17 levels');
    await refused(await rig.api('/api/files/local/shallow.gcode', { method: 'POST', json: { command: 'move', destination: levels(16) } }), 'move to 17 levels');
    assert.ok((await listing()).some((e) => e.path === 'shallow.gcode'), 'the file stayed where it was');
    await noTempFiles();
  });

  test('copy and move destinations that climb out are 400', async () => {
    assert.equal(await uploadedAt(await uploadGcode(rig, 'stay.gcode', 'G28\n')), 'stay.gcode');
    for (const destination of ['..', '../..', '.', 'a/../..', '%2e%2e', '..%2F..', '/../']) {
      for (const command of ['copy', 'move']) {
        await refused(await rig.api('/api/files/local/stay.gcode', { method: 'POST', json: { command, destination } }), `${command} to ${destination}`);
      }
    }
    assert.ok((await listing()).some((e) => e.path === 'stay.gcode'));
  });

  /** GET or DELETE a raw path (fetch would resolve `..` and `%2e%2e` before sending). */
  const raw = (method: string, path: string): Promise<{ status: number; body: string }> => {
    const url = new URL(rig.gantry.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers: { 'X-Api-Key': TEST_KEY } });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  };

  test('URL paths with .., %2e%2e or encoded slashes never reach outside the files folder', async () => {
    assert.equal(await uploadedAt(await uploadGcode(rig, 'safe.gcode', 'G28\n', { path: 'd0' })), 'd0/safe.gcode');
    const attempts = [
      '/api/files/local/../../files.json',
      '/api/files/local/%2e%2e/%2e%2e/etc/passwd',
      '/api/files/local/..%2F..%2Fetc%2Fpasswd',
      '/api/files/local/%2E%2E%2Ffiles.json',
      '/api/files/local/d0%2F..%2F..%2Fsettings.json',
      '/downloads/files/local/..%2Ffiles.json',
      '/downloads/files/local/%2e%2e%2fsettings.json',
      '/downloads/files/local/%2e%2e/settings.json',
      '/downloads/files/local/..%5C..%5Csettings.json',
      '/downloads/files/local/%E0%A4%A',
      '/api/gantry/thumbnails/..%2Ffiles.json',
    ];
    for (const path of attempts) {
      const r = await raw('GET', path);
      assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status} ${r.body}`);
      assert.equal(typeof (JSON.parse(r.body) as { error?: unknown }).error, 'string', `${path}: ${r.body}`);
      assert.doesNotMatch(r.body, /root:|"files"|apiKey/, path);
    }
    for (const path of ['/api/files/local/..%2F', '/api/files/local/%2e%2e', '/api/files/local/d0%2F..%2F..']) {
      const r = await raw('DELETE', path);
      assert.ok(r.status === 400 || r.status === 404, `DELETE ${path}: ${r.status} ${r.body}`);
    }
    assert.ok((await listing()).some((e) => e.path === 'd0/safe.gcode'), 'nothing was deleted');
    assert.deepEqual((await readdir(join(rig.dir, 'data'))).includes('files.json'), true);
  });
});
