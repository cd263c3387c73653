// The image's first boot hands the admin key and account to Gantry through this script (stdin JSON, never argv):
// valid parts applied, bad ones reported, keyless first-run setup closed by the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AccountsFile, verifyPassword } from '../../src/accounts/users.js';
import { tempDir } from '../helpers/tmp.js';

const SCRIPT = fileURLToPath(new URL('../../src/system/firstboot-access.js', import.meta.url));

function run(dataDir: string, input: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, dataDir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
    child.stdin.end(input);
  });
}

test('first-boot access: the key and the admin account land in keys.json; a bad key is reported and the rest applied', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const key = 'firstbootKey_0123456789abcdefghijklmn';
    const ok = await run(dir, JSON.stringify({ apiKey: key, user: 'maker', password: 'a long enough password' }));
    assert.equal(ok.code, 0, ok.stderr);
    let file = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as AccountsFile;
    assert.equal(file.admin?.key, key);
    assert.equal(file.admin?.source, 'operator', 'an operator key: keyless setup is closed');
    const maker = file.users.find((u) => u.name === 'maker')!;
    assert.ok(maker.roles.includes('admin'));
    assert.ok(await verifyPassword('a long enough password', maker.password));

    const bad = await run(dir, JSON.stringify({ apiKey: 'short', user: 'maker', password: 'another long password' }));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /api_key: must be 32 to 43 characters/);
    file = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as AccountsFile;
    assert.equal(file.admin?.key, key, 'the bad key changed nothing');
    assert.ok(await verifyPassword('another long password', file.users.find((u) => u.name === 'maker')!.password), 'the valid part was applied');

    assert.equal((await run(dir, 'not json')).code, 2);
  } finally {
    await cleanup();
  }
});
