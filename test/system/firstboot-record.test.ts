// The image's first-boot record (firstboot.json in the data directory, written by image/firstboot/gantry-firstboot):
// read defensively, and shown on GET /api/gantry/system and in the push socket's gantry_system message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIRSTBOOT_FILE, parseFirstBootRecord, readFirstBootRecord } from '../../src/system/firstboot-record.js';
import type { SystemHealth } from '../../src/system/health.js';
import { HEALTH_PLUGIN } from '../../src/push/push-server.js';
import { addUser, keyOf, login } from '../helpers/accounts.js';
import { gantryRig } from '../helpers/gantry-rig.js';
import { PushClient } from '../helpers/push-client.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const RECORD = {
  at: '2026-11-26T06:10:00Z',
  applied: ['hostname: gantry-test (the page: http://gantry-test.local)', 'time zone: Europe/Berlin'],
  errors: ['line 11: unknown setting "printer_colour": ignored'],
};

test('first-boot record: the script’s JSON read as written; anything else is no record', () => {
  assert.deepEqual(parseFirstBootRecord(JSON.stringify(RECORD)), RECORD);
  assert.deepEqual(parseFirstBootRecord(JSON.stringify({ ...RECORD, errors: [] })), { ...RECORD, errors: [] });
  for (const bad of ['', 'not json', 'null', '[]', '{"at":"2026-11-26T06:10:00Z","applied":[]}', JSON.stringify({ ...RECORD, at: 'yesterday' }), JSON.stringify({ ...RECORD, errors: [1] }), JSON.stringify({ ...RECORD, applied: 'x' })]) {
    assert.equal(parseFirstBootRecord(bad), null, bad);
  }
  // bounded: a runaway file does not bloat every health message
  const long = parseFirstBootRecord(JSON.stringify({ ...RECORD, errors: Array.from({ length: 80 }, () => 'x'.repeat(1000)) }))!;
  assert.equal(long.errors.length, 50);
  assert.equal(long.errors[0]!.length, 300);
});

test('first-boot record from the data directory: none until the script leaves one', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    assert.equal(await readFirstBootRecord(dir), null);
    await writeFile(join(dir, FIRSTBOOT_FILE), JSON.stringify(RECORD));
    assert.deepEqual(await readFirstBootRecord(dir), RECORD);
    await writeFile(join(dir, FIRSTBOOT_FILE), '{"at":');
    assert.equal(await readFirstBootRecord(dir), null, 'a torn file');
  } finally {
    await cleanup();
  }
});

test('GET /api/gantry/system and the gantry_system push message carry firstBoot (null without a record)', async () => {
  const rig = await gantryRig({ serial: 'NONE', camera: 'none' });
  let push: PushClient | undefined;
  try {
    const before = (await (await rig.api('/api/gantry/system')).json()) as SystemHealth;
    assert.equal(before.firstBoot, null);

    await writeFile(join(rig.dir, 'data', FIRSTBOOT_FILE), JSON.stringify(RECORD));
    await addUser(rig, 'viewer', 'viewer-password-1', 'readonly');
    const viewer = await login(rig, 'viewer', 'viewer-password-1');
    const res = await rig.api('/api/gantry/system', { key: await keyOf(rig, viewer) });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as SystemHealth).firstBoot, RECORD);

    push = new PushClient(rig.gantry.url, { Cookie: viewer.cookie, Origin: rig.gantry.url });
    const msg = await waitFor('the health plugin message', () => push!.of('plugin').find((m) => (m.msg['plugin'] as { plugin: string }).plugin === HEALTH_PLUGIN));
    assert.deepEqual((msg.msg['plugin'] as { data: SystemHealth }).data.firstBoot, RECORD);
  } finally {
    push?.close();
    await rig.close();
  }
});
