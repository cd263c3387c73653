// Operations by name over HTTP (for automations): listed with their permissions, run on the printer whose base
// URL is called, and refused for a role without the permission, with the same errors the OctoPrint routes give.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, asSession, keyOf, login } from '../helpers/accounts.js';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

// held by the printer, not by its length: M0 waits for the user (host-prompts.test.ts) and the job stays Printing
// for as long as the test needs, whatever the machine's load; the cancel ends the wait (M108)
const held = ['G28', 'G1 X10 Y10 F3000', 'M0 Held for the test', 'G1 X20 Y10 F3000', ''].join('\n');

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
    form.append('file', new Blob([held]), 'held-b.gcode');
    assert.equal((await rig.api('/printers/b/api/files/local', { method: 'POST', body: form })).status, 201);
    await waitFor('b held in M0', async () => ((await (await rig.api('/printers/b/api/plugin/action_command_prompt')).json()) as { text?: string }).text === 'Held for the test', 20_000, 20);
    assert.equal(((await (await rig.api('/printers/b/api/job')).json()) as { state: string }).state, 'Printing');

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

  test("a route that runs an operation needs the operation's own permission: refused alike over REST and /api/gantry/ops, allowed with it", async () => {
    const declared = new Map(((await (await rig.api('/api/gantry/ops')).json()) as { ops: { name: string; permission: string }[] }).ops.map((o) => [o.name, o.permission]));
    await addUser(rig, 'looker', 'looker-password', 'readonly');
    await addUser(rig, 'maker', 'maker-password', 'user');
    const looker = await keyOf(rig, await login(rig, 'looker', 'looker-password'));
    const maker = await keyOf(rig, await login(rig, 'maker', 'maker-password'));
    // each: the operation, its OctoPrint route with a request that runs it, the same through /api/gantry/ops, and
    // what a caller with the permission gets (a state refusal is fine: the permission let it through)
    const cases: { op: string; rest: [string, unknown]; input: unknown; allowed: number }[] = [
      { op: 'printer.home', rest: ['/api/printer/printhead', { command: 'home', axes: ['x'] }], input: { axes: ['x'] }, allowed: 204 },
      { op: 'printer.gcode', rest: ['/api/printer/command', { commands: ['M114'] }], input: { commands: ['M114'] }, allowed: 204 },
      { op: 'printer.setTarget', rest: ['/printers/b/api/printer/bed', { command: 'target', target: 0 }], input: { targets: { bed: 0 } }, allowed: 204 },
      { op: 'job.pause', rest: ['/api/job', { command: 'pause', action: 'pause' }], input: {}, allowed: 409 },
      { op: 'queue.add', rest: ['/api/gantry/queue', { path: 'no-such-file.gcode' }], input: { path: 'no-such-file.gcode' }, allowed: 404 },
      { op: 'farm.add', rest: ['/api/gantry/farm/queue', { path: 'no-such-file.gcode' }], input: { path: 'no-such-file.gcode' }, allowed: 404 },
      { op: 'farm.printed', rest: ['/api/gantry/farm/queue/nope', { command: 'printed' }], input: { id: 'nope' }, allowed: 404 },
    ];
    for (const k of cases) {
      const permission = declared.get(k.op);
      assert.ok(permission, `${k.op} is listed`);
      const base = k.rest[0].startsWith('/printers/b/') ? '/printers/b' : '';
      const viaRest = (key: string) => rig.api(k.rest[0], { key, method: 'POST', json: k.rest[1] });
      const viaOps = (key: string) => rig.api(`${base}/api/gantry/ops/${k.op}`, { key, method: 'POST', json: k.input });
      for (const res of [await viaRest(looker), await viaOps(looker)]) {
        assert.equal(res.status, 403, `${k.op} refused to a readonly key at ${res.url}`);
        assert.match(((await res.json()) as { error: string }).error, new RegExp(permission), `the refusal names ${permission}`);
      }
      assert.equal((await viaRest(maker)).status, k.allowed, `${k.rest[0]} for a user`);
      assert.equal((await viaOps(maker)).status, k.allowed, `${k.op} for a user`);
      // without credentials: refused before anything runs, as every guarded route is
      const anon = await rig.api(k.rest[0], { key: null, method: 'POST', json: k.rest[1] });
      assert.equal(anon.status, 403);
      assert.equal(typeof ((await anon.json()) as { error: unknown }).error, 'string');
    }
    // and the command reached the printer only from the user
    await rig.waitExecuted('the user’s home', (cmds) => cmds.some((l) => /^G28\b.*X/.test(l)));
  });

  test("POST /api/connection: connect and fake_ack are checked against what they do, not against any of the route's operations", async () => {
    await addUser(rig, 'watcher', 'watcher-password', 'readonly');
    const watcher = await keyOf(rig, await login(rig, 'watcher', 'watcher-password'));
    // disconnect declared with a permission a readonly caller has: the door (any of connect's and disconnect's) now
    // lets that caller in, and only the branch's own check stands between it and a connect
    const op = rig.gantry.ops.get('connection.disconnect') as { permission: string };
    const was = op.permission;
    op.permission = 'STATUS';
    try {
      for (const json of [{ command: 'connect', autoconnect: false }, { command: 'fake_ack' }]) {
        const res = await rig.api('/printers/b/api/connection', { key: watcher, method: 'POST', json });
        assert.equal(res.status, 403, json.command);
        assert.match(((await res.json()) as { error: string }).error, /CONNECTION/, json.command);
      }
    } finally {
      op.permission = was;
    }
    assert.equal(rig.gantry.printers.get('b')?.settings.data.serial.autoconnect, true, 'nothing saved');
  });
});

