// A save that fails (disk full) does not lie: the client gets 507 and a JSON error, no temp file is left behind,
// and the running server keeps the old values, exactly what the file still holds. Once there is room again the
// same request succeeds. Runs on a real, small tmpfs (needs root / CAP_SYS_ADMIN; skipped with the reason if not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gantryRig } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

/** Writes zeros to `path` until the file system says ENOSPC. */
async function fillDisk(path: string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (const size of [256 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          await fh.write(chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    await fh.close();
  }
}

test('a settings save on a full disk answers 507 with a JSON error, leaves no temp file and keeps the old values', async (t) => {
  const { dir, cleanup } = await tempDir();
  const mnt = join(dir, 'small-disk');
  await mkdir(mnt);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt]);
  } catch (err) {
    await cleanup();
    t.skip(`cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  const dataDir = join(mnt, 'data');
  const rig = await gantryRig({ serial: 'NONE', dataDir, camera: 'none' }).catch(async (err: unknown) => {
    await run('umount', [mnt]);
    await cleanup();
    throw err;
  });
  try {
    const setName = (name: string) => rig.api('/api/settings', { method: 'POST', json: { appearance: { name } } });
    const shownName = async () => ((await (await rig.api('/api/settings')).json()) as { appearance: { name: string } }).appearance.name;
    const savedName = async () => (JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as { appearance: { name: string } }).appearance.name;
    assert.equal((await setName('Before')).status, 200);

    await fillDisk(join(mnt, 'filler'));
    const res = await setName('X');
    assert.equal(res.status, 507);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /settings\.json.*disk is full/);
    assert.deepEqual((await readdir(dataDir)).filter((n) => n.includes('.tmp-')), [], 'no temp file left');
    assert.equal(await shownName(), 'Before', 'the running server keeps the old name');
    assert.equal(rig.gantry.settings.data.appearance.name, 'Before');
    assert.equal(await savedName(), 'Before', 'the file was not touched');
    assert.ok(rig.logs.some((l) => /ERROR.*could not save .*settings\.json.*ENOSPC/.test(l)), 'the failure is in the log');

    await rm(join(mnt, 'filler'));
    assert.equal((await setName('X')).status, 200);
    assert.equal(await shownName(), 'X');
    assert.equal(await savedName(), 'X');
  } finally {
    await rig.close();
    await run('umount', [mnt]);
    await cleanup();
  }
});
