// `gantry reset-access`: the documented way back in. It refuses while a server runs on the data directory, keeps a
// copy of the old accounts, removes every account and key, and first-run setup is open again afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { gantryRig } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GANTRY_CLI, runGantry } from '../helpers/gantry-cli.js';


const run = runGantry;

test('reset-access refuses under a running server, then removes every account and key and reopens setup', async () => {
  const { dir, cleanup } = await tempDir();
  const dataDir = join(dir, 'data');
  const server = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--camera', 'none', '--print-api-key']);
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d));
  try {
    const [, url, key] = await waitFor('server up', () => /running: (http:\S+)\s+API key: (\S+)/.exec(out) ?? undefined, 15_000);
    const made = await fetch(`${url}/api/gantry/setup`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Api-Key': key! }, body: JSON.stringify({ name: 'lost', password: 'forgotten password' }) });
    assert.equal(made.status, 201);
    const refused = await run(['reset-access', '--data-dir', dataDir]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /is running .* stop it first/);
    server.kill('SIGTERM');
    await once(server, 'exit');

    const done = await run(['reset-access', '--data-dir', dataDir]);
    assert.equal(done.code, 0, done.err);
    const newKey = /New admin API key: (\S+)/.exec(done.out)?.[1];
    assert.match(newKey ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((await readdir(dataDir)).some((n) => n.startsWith('keys.json.bak-')), 'the old accounts are kept aside');

    const rig = await gantryRig({ serial: 'NONE', apiKey: undefined, dataDir });
    try {
      assert.deepEqual(await (await rig.api('/api/gantry/setup', { key: null })).json(), { needed: true, keyRequired: false, hostAllowed: true });
      assert.equal((await rig.api('/api/version', { key: key! })).status, 403, 'the old admin key is gone');
      assert.equal(rig.gantry.apiKey, newKey);
    } finally {
      await rig.close();
    }
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await cleanup();
  }
});
