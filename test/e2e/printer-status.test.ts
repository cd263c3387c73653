// One status model per printer: GET /api/gantry/status, the push socket's gantry_status deltas and OctoPrint's job
// object all say the same; a printer's push socket carries only its own printer's events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { PushClient } from '../helpers/push-client.js';
import { waitFor } from '../helpers/wait.js';

interface Status {
  printerId: string;
  name: string;
  state: { text: string };
  job: { file: { path: string } | null; averagePrintTime: number | null };
  progress: { completion: number | null };
}
type StatusMsg = { status?: Status; changed?: Partial<Status> };

const gcode = ['G28', 'M83', ...Array.from({ length: 300 }, (_, i) => `G1 X${i % 50} Y5 E0.01 F3000`)].join('\n') + '\n';

describe('the status model', () => {
  let rig: GantryRig;
  let auth: string;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    const res = await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', name: 'Second', serial: { port: 'virtual' } } });
    assert.equal(res.status, 201);
    const login = (await (await rig.api('/api/login', { method: 'POST', json: { passive: true } })).json()) as { name: string; session: string };
    auth = `${login.name}:${login.session}`;
  });
  after(() => rig?.close());

  test('status, push deltas and the job object agree; push carries only its printer', async () => {
    await waitFor('two operational', async () => {
      const s = (await (await rig.api('/printers/two/api/gantry/status')).json()) as Status;
      return s.state.text === 'Operational' ? s : undefined;
    }, 20_000, 100);
    const first = (await (await rig.api('/printers/two/api/gantry/status')).json()) as Status;
    assert.equal(first.printerId, 'two');
    assert.equal(first.name, 'Second');
    assert.equal((await (await rig.api('/api/gantry/status')).json() as Status).printerId, 'printer');
    // every printer with its status in one request (a farm view's refresh)
    const all = (await (await rig.api('/api/gantry/printers?status=true')).json()) as { printers: { id: string; status: Status }[] };
    assert.deepEqual(all.printers.map((p) => [p.id, p.status.printerId, p.status.name]), [['printer', 'printer', 'Gantry'], ['two', 'two', 'Second']]);

    const two = new PushClient(`${rig.gantry.url}/printers/two`);
    const one = new PushClient(rig.gantry.url);
    try {
      for (const c of [two, one]) {
        await c.opened();
        c.send({ auth });
        c.send({ subscribe: { plugins: ['gantry_status'] } });
      }
      const statusMsgs = () => two.of('plugin').map((m) => m.msg['plugin'] as unknown as { plugin: string; data: StatusMsg }).filter((p) => p.plugin === 'gantry_status').map((p) => p.data);
      await waitFor('the whole status first', () => statusMsgs()[0]?.status?.printerId === 'two');
      const form = new FormData();
      form.append('print', 'true');
      form.append('file', new Blob([gcode]), 'status-two.gcode');
      assert.equal((await rig.api('/printers/two/api/files/local', { method: 'POST', body: form })).status, 201);
      await waitFor('the print done on two', async () => {
        const j = (await (await rig.api('/printers/two/api/job')).json()) as { state: string; progress: { completion: number } };
        return j.state === 'Operational' && j.progress.completion === 100;
      }, 60_000, 50);
      await waitFor('a delta with the finished job', () => statusMsgs().some((m) => m.changed?.progress?.completion === 100));
      const deltas = statusMsgs().slice(1);
      assert.ok(deltas.length > 0 && deltas.every((d) => d.changed && !('printerId' in d.changed) && !('name' in d.changed)), 'deltas carry only what changed');
      assert.ok(deltas.some((d) => d.changed?.job?.file?.path === 'status-two.gcode'));
      // push's job object and REST's are one: averagePrintTime included in both
      const rest = (await (await rig.api('/printers/two/api/job')).json()) as { job: { averagePrintTime: number | null } };
      assert.ok(rest.job.averagePrintTime !== null && rest.job.averagePrintTime >= 0);
      await waitFor('a current with the average', () => two.of('current').some((m) => (m.msg['current']!['job'] as { averagePrintTime: number | null }).averagePrintTime === rest.job.averagePrintTime));
      // the default printer's socket saw none of two's print
      assert.ok(two.events().includes('PrintStarted'));
      assert.ok(!one.events().includes('PrintStarted'), `default socket events: ${one.events().join(', ')}`);
    } finally {
      two.close();
      one.close();
    }
  });

  test('a client that subscribes to a printer added a moment ago gets the whole status first, then deltas', async () => {
    // the new printer's socket has not ticked yet: its first tick must not take "never got it" for "got the last one"
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'fresh', serial: { port: 'virtual' } } })).status, 201);
    const c = new PushClient(`${rig.gantry.url}/printers/fresh`);
    try {
      await c.opened();
      c.send({ auth });
      c.send({ subscribe: { plugins: ['gantry_status'] } });
      const msgs = () => c.of('plugin').map((m) => m.msg['plugin'] as unknown as { plugin: string; data: StatusMsg }).filter((p) => p.plugin === 'gantry_status').map((p) => p.data);
      await waitFor('a status message', () => msgs().length > 0);
      assert.equal(msgs()[0]!.status?.printerId, 'fresh', `the first message: ${JSON.stringify(msgs()[0])}`);
    } finally {
      c.close();
    }
  });
});
