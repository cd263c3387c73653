// Operations by name over HTTP (for automations): listed with their permissions, run on the printer whose base
// URL is called, and refused for a role without the permission, with the same errors the OctoPrint routes give.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, asSession, login } from '../helpers/accounts.js';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

const slow = ['G28', ...Array.from({ length: 400 }, (_, i) => `G1 X${i % 100} Y${i % 50} F600`)].join('\n') + '\n';

describe('operations over HTTP', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'b', serial: { port: 'virtual' } } })).status, 201);
  });
  after(() => rig?.close());

  test('listed with permissions; run on the printer addressed; refused without the permission', async () => {
    const list = (await (await rig.api('/api/gantry/ops')).json()) as { ops: { name: string; permission: string }[] };
    assert.deepEqual(list.ops.find((o) => o.name === 'job.pause'), { name: 'job.pause', permission: 'PRINT', summary: 'pause the print' });
    await waitFor('b operational', async () => ((await (await rig.api('/printers/b/api/job')).json()) as { state: string }).state === 'Operational', 20_000, 100);
    // nothing to pause: the job's state table refuses, as POST /api/job does
    const refused = await rig.api('/printers/b/api/gantry/ops/job.pause', { method: 'POST' });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { error: string }).error, /./);
    const form = new FormData();
    form.append('print', 'true');
    form.append('file', new Blob([slow]), 'slow-b.gcode');
    assert.equal((await rig.api('/printers/b/api/files/local', { method: 'POST', body: form })).status, 201);
    await waitFor('b printing', async () => ((await (await rig.api('/printers/b/api/job')).json()) as { state: string }).state === 'Printing', 20_000, 20);

    await addUser(rig, 'viewer', 'viewer-password', 'readonly');
    const viewer = await login(rig, 'viewer', 'viewer-password');
    const forbidden = await asSession(rig, viewer, '/printers/b/api/gantry/ops/job.cancel', { method: 'POST', json: {} });
    assert.equal(forbidden.status, 403);
    assert.match(((await forbidden.json()) as { error: string }).error, /PRINT/);
    assert.equal((await rig.api('/printers/b/api/gantry/ops/job.nothing', { method: 'POST' })).status, 404);

    assert.equal((await rig.api('/printers/b/api/gantry/ops/job.pause', { method: 'POST' })).status, 204);
    await waitFor('b paused', async () => ((await (await rig.api('/printers/b/api/job')).json()) as { state: string }).state === 'Paused', 20_000, 20);
    assert.equal(((await (await rig.api('/api/job')).json()) as { state: string }).state, 'Operational', 'the default printer was not touched');
    assert.equal((await rig.api('/printers/b/api/gantry/ops/job.cancel', { method: 'POST', json: {} })).status, 204);
    await waitFor('b cancelled', async () => ((await (await rig.api('/printers/b/api/job')).json()) as { state: string }).state === 'Operational', 20_000, 50);
  });
});
