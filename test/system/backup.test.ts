// Backup and restore of the data directory through the API: what a backup holds (and leaves out), a restore that
// brings the data back after a restart, archives refused whole with what was wrong (and nothing changed), a swap cut
// short by a power cut finished at the next start, and who may do any of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../src/log.js';
import { PENDING_DIR, PREVIOUS_DIR, applyPendingRestore, archiveEntries, checkArchive, stageRestore } from '../../src/system/backup.js';
import { addUser, floodBody, keyOf, login } from '../helpers/accounts.js';
import { type GantryRig, gantryRig, uploadGcode } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const quiet = createLogger('error');

/** Every path under dir with its size and mtime: "nothing changed" means this is the same. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const s = await stat(p);
      out.push(`${relative(dir, p)} ${e.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

// Bad archives, made by Python's tarfile, which writes any entry type without needing root
const MAKE_BAD = `
import io, sys, tarfile, json
kind, out = sys.argv[1], sys.argv[2]
good = {"settings.json": b"{}", "keys.json": b"{}"}
def add(t, name, data=b"", type=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name); ti.type = type; ti.size = len(data) if type == tarfile.REGTYPE else 0
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
with tarfile.open(out, "w:gz") as t:
    files = dict(good)
    if kind == "no-keys": del files["keys.json"]
    if kind == "bad-json": files["settings.json"] = b"{not json"
    if kind == "array-json": files["keys.json"] = b"[1,2]"
    if kind == "bad-history": files["history.jsonl"] = b'{"a":1}\\nnope\\n'
    for n, d in files.items(): add(t, n, d)
    if kind == "traversal": add(t, "files/../../evil.gcode", b"G28")
    if kind == "absolute": add(t, "/etc/evil", b"x")
    if kind == "symlink": add(t, "files/link.gcode", type=tarfile.SYMTYPE, linkname="/etc/passwd")
    if kind == "hardlink": add(t, "files/hard.gcode", type=tarfile.LNKTYPE, linkname="keys.json")
    if kind == "device": add(t, "files/dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    if kind == "fifo": add(t, "files/fifo", type=tarfile.FIFOTYPE)
    if kind == "unknown": add(t, "evil.sh", b"rm -rf /")
    if kind == "run": add(t, "run/gantry.pid", b"1")
`;

async function badArchive(dir: string, kind: string): Promise<string> {
  const out = join(dir, `${kind}.tar.gz`);
  await run('python3', ['-c', MAKE_BAD, kind, out]);
  return out;
}

function restore(rig: GantryRig, archive: Buffer, key?: string): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([archive]), 'backup.tar.gz');
  return rig.api('/api/gantry/restore', { method: 'POST', body: form, ...(key ? { key } : {}) });
}

describe('backup and restore', () => {
  let rig: GantryRig;
  let restarts = 0;
  let work: { dir: string; cleanup: () => Promise<void> };
  const data = () => join(rig.dir, 'data');

  before(async () => {
    work = await tempDir();
    rig = await gantryRig({ serial: 'NONE', camera: 'none' }, { onRestart: () => restarts++ });
    assert.equal((await uploadGcode(rig, 'cube.gcode', 'G28\nG1 X10\n')).status, 201);
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 'Workshop' } } })).status, 200);
    await mkdir(join(data(), 'timelapse'), { recursive: true });
    await writeFile(join(data(), 'timelapse', 'cube.mp4'), 'not really a video');
    await writeFile(join(data(), 'settings.json.corrupt-1'), 'junk');
  });
  after(async () => {
    await rig.close();
    await work.cleanup();
  });

  test('a backup holds settings, keys, files and history, not run/ or temp files; timelapses only when asked', async () => {
    const res = await rig.api('/api/gantry/backup');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/gzip');
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="gantry-backup-.*\.tar\.gz"/);
    const file = join(work.dir, 'backup.tar.gz');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const entries = await archiveEntries(file);
    for (const want of ['f settings.json', 'f keys.json', 'f files.json', 'f files/cube.gcode']) assert.ok(entries.includes(want), `${want} in ${entries.join(', ')}`);
    assert.ok(!entries.some((e) => /run\/|\.tmp|corrupt|timelapse/.test(e)), entries.join(', '));

    const withVideos = join(work.dir, 'with-timelapses.tar.gz');
    await writeFile(withVideos, Buffer.from(await (await rig.api('/api/gantry/backup?timelapses=1')).arrayBuffer()));
    assert.ok((await archiveEntries(withVideos)).includes('f timelapse/cube.mp4'));
    await checkArchive(withVideos, data());
  });

  test('restoring brings back the settings and files of the backup day; what it replaced is kept aside', async () => {
    const backup = await readFile(join(work.dir, 'backup.tar.gz'));
    // after the backup: renamed, the file deleted, another uploaded
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 'Changed' } } })).status, 200);
    assert.equal((await rig.api('/api/files/local/cube.gcode', { method: 'DELETE' })).status, 204);
    assert.equal((await uploadGcode(rig, 'later.gcode', 'G28\n')).status, 201);
    const before = restarts;
    const res = await restore(rig, backup);
    assert.equal(res.status, 202, await res.clone().text());
    const body = (await res.json()) as { restored: string[]; restarting: boolean };
    assert.equal(body.restarting, true);
    assert.ok(body.restored.includes('files/') && body.restored.includes('keys.json'));
    // nothing is swapped while this Gantry runs: its stores would write their old state back
    assert.equal(JSON.parse(await readFile(join(data(), 'settings.json'), 'utf8')).appearance.name, 'Changed');
    const { waitFor } = await import('../helpers/wait.js');
    await waitFor('the restart asked for', () => restarts > before);
    await rig.restart();
    assert.equal(rig.gantry.settings.data.appearance.name, 'Workshop');
    const files = (await (await rig.api('/api/files')).json()) as { files: { name: string }[] };
    assert.deepEqual(files.files.map((f) => f.name).sort(), ['cube.gcode']);
    assert.equal(JSON.parse(await readFile(join(data(), PREVIOUS_DIR, 'settings.json'), 'utf8')).appearance.name, 'Changed');
    assert.ok((await readdir(join(data(), PREVIOUS_DIR, 'files'))).includes('later.gcode'));
    assert.equal((await readdir(data())).includes(PENDING_DIR), false);
    // the timelapses were not in this backup: they stay
    assert.ok((await readdir(join(data(), 'timelapse'))).includes('cube.mp4'));
  });

  test('a bad archive is refused with what was wrong, and nothing changes', async () => {
    const cases: [string, RegExp][] = [
      ['no-keys', /no keys\.json/],
      ['bad-json', /settings\.json in the backup is not valid JSON/],
      ['array-json', /keys\.json in the backup is not a JSON object/],
      ['bad-history', /history\.jsonl line 2 in the backup is not valid JSON/],
      ['traversal', /leaves its folder/],
      ['absolute', /absolute path/],
      ['symlink', /SymbolicLink at files\/link\.gcode/],
      ['hardlink', /Link at files\/hard\.gcode/],
      ['device', /CharacterDevice at files\/dev/],
      ['fifo', /FIFO at files\/fifo/],
      ['unknown', /evil\.sh, which is not part of a Gantry backup/],
      ['run', /run, which is not part of a Gantry backup/],
    ];
    const good = await readFile(join(work.dir, 'backup.tar.gz'));
    const archives: [string, Buffer, RegExp][] = [
      ['not gzip', Buffer.from('hello, not an archive'), /not a readable \.tar\.gz/],
      ['truncated', good.subarray(0, Math.floor(good.length / 2)), /not a readable \.tar\.gz/],
    ];
    for (const [kind, re] of cases) archives.push([kind, await readFile(await badArchive(work.dir, kind)), re]);
    const before = await snapshot(data());
    for (const [kind, bytes, re] of archives) {
      const res = await restore(rig, bytes);
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, 400, `${kind}: ${body.error}`);
      assert.match(body.error, re, kind);
    }
    assert.deepEqual(await snapshot(data()), before, 'the data directory is as it was');
    const empty = new FormData();
    empty.append('note', 'no file');
    const none = await rig.api('/api/gantry/restore', { method: 'POST', body: empty });
    assert.equal(none.status, 400);
    assert.match(((await none.json()) as { error: string }).error, /No backup file/);
  });

  test('limits: an archive unpacking past the limit, or past the free space, is refused before anything is unpacked', async () => {
    const file = join(work.dir, 'backup.tar.gz');
    await assert.rejects(checkArchive(file, data(), { maxUnpacked: 10, maxEntries: 1000, maxJsonBytes: 1e6, reserveBytes: 0 }), /unpacks to more than/);
    await assert.rejects(checkArchive(file, data(), { maxUnpacked: 1e9, maxEntries: 2, maxJsonBytes: 1e6, reserveBytes: 0 }), /more than 2 entries/);
    await assert.rejects(checkArchive(file, data(), { maxUnpacked: 1e9, maxEntries: 1000, maxJsonBytes: 1e6, reserveBytes: 2 ** 60 }), /Not enough free disk space/);
    // a body declared larger than the limit: 413 at once, the body not read
    const flood = await floodBody(rig.gantry.url, '/api/gantry/restore', 5 * 1024 ** 3, { declareLength: true, headers: { 'X-Api-Key': rig.gantry.apiKey, 'Content-Type': 'multipart/form-data; boundary=x' } });
    assert.equal(flood.status, 413);
    assert.ok(flood.sent < 64 * 1024 ** 2, `sent ${flood.sent}`);
  });

  test('admin only: a user or a read-only key gets 403, no key 403', async () => {
    await addUser(rig, 'maker', 'maker-password-1', 'user');
    const key = await keyOf(rig, await login(rig, 'maker', 'maker-password-1'));
    assert.equal((await rig.api('/api/gantry/backup', { key })).status, 403);
    assert.equal((await rig.api('/api/gantry/backup', { key: null })).status, 403);
    const res = await restore(rig, await readFile(join(work.dir, 'backup.tar.gz')), key);
    assert.equal(res.status, 403);
  });
});

test('a swap cut short by a power cut is finished at the next start', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const src = join(dir, 'src');
    const live = join(dir, 'live');
    for (const [d, name] of [[src, 'old'], [live, 'new']] as const) {
      await mkdir(join(d, 'files'), { recursive: true });
      await writeFile(join(d, 'settings.json'), JSON.stringify({ appearance: { name } }));
      await writeFile(join(d, 'keys.json'), '{}');
      await writeFile(join(d, 'files', `${name}.gcode`), 'G28\n');
    }
    await writeFile(join(live, 'history.jsonl'), '{"a":1}\n');
    const archive = join(dir, 'b.tar.gz');
    const { create } = await import('tar');
    await create({ gzip: true, cwd: src, file: archive, portable: true }, ['settings.json', 'keys.json', 'files']);
    await stageRestore(archive, live);
    // the first item swapped, then the power went: settings.json new, the rest not yet
    const { id } = JSON.parse(await readFile(join(live, PENDING_DIR, '.gantry-restore.json'), 'utf8')) as { id: string };
    await mkdir(join(live, PREVIOUS_DIR));
    await writeFile(join(live, PREVIOUS_DIR, '.gantry-restore.json'), JSON.stringify({ id }));
    await rename(join(live, 'settings.json'), join(live, PREVIOUS_DIR, 'settings.json'));
    await rename(join(live, PENDING_DIR, 'settings.json'), join(live, 'settings.json'));

    assert.equal(await applyPendingRestore(live, quiet), true);
    assert.equal(JSON.parse(await readFile(join(live, 'settings.json'), 'utf8')).appearance.name, 'old');
    assert.deepEqual(await readdir(join(live, 'files')), ['old.gcode']);
    assert.equal(JSON.parse(await readFile(join(live, PREVIOUS_DIR, 'settings.json'), 'utf8')).appearance.name, 'new');
    assert.deepEqual(await readdir(join(live, PREVIOUS_DIR, 'files')), ['new.gcode']);
    // history.jsonl was not in the backup: the state of its day has none
    assert.equal((await readdir(live)).includes('history.jsonl'), false);
    assert.ok((await readdir(join(live, PREVIOUS_DIR))).includes('history.jsonl'));
    assert.equal(await applyPendingRestore(live, quiet), false, 'nothing left to do');
  } finally {
    await cleanup();
  }
});
