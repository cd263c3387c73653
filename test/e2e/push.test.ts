// The OctoPrint push socket end to end, as FDM Monster and OctoPod use it, and under load with a stalled client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';
import { PushClient, WebSocket } from '../helpers/push-client.js';

describe('push socket', () => {
  let rig: GantryRig;
  let auth: string;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    const login = (await (await rig.api('/api/login', { method: 'POST', json: { passive: true } })).json()) as { name: string; session: string };
    const me = (await (await rig.api('/api/currentuser')).json()) as { name: string };
    auth = `${me.name}:${login.session}`;
  });
  after(() => rig.close());

  test('FDM Monster flow: connected, auth, history, then current at most twice a second with state and temperatures', async () => {
    const c = new PushClient(rig.gantry.url);
    try {
      await waitFor('connected', () => c.of('connected').length === 1);
      // the bare version, as /api/server has it (clients parse and compare it); Gantry's name in display_version
      const hello = c.of('connected')[0]!.msg['connected'] as { version: string; display_version: string };
      assert.equal(hello.version, ((await (await rig.api('/api/server')).json()) as { version: string }).version);
      assert.match(hello.display_version, /Gantry/);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(c.of('current').length, 0, 'nothing before auth');
      c.send({ auth });
      c.send({ throttle: 1 });
      c.send({});
      c.ws.send('not json at all');
      c.send({ subscribe: { state: { logs: true } } });
      await waitFor('history', () => c.of('history').length === 1);
      const h = c.of('history')[0]!.msg['history']!;
      for (const k of ['state', 'job', 'progress', 'currentZ', 'offsets', 'resends', 'serverTime', 'temps', 'busyFiles', 'logs', 'messages']) assert.ok(k in h, k);
      await waitFor('timelapse config', () => c.of('timelapse').length === 1);
      assert.equal(c.of('timelapse')[0]!.msg['timelapse'], null, 'no camera here: no timelapse, as OctoPrint says it');
      await waitFor('4 currents', () => c.of('current').length >= 4, 5000);
      const cur = c.of('current');
      const gaps = cur.slice(1).map((m, i) => m.at - cur[i]!.at);
      assert.ok(gaps.every((g) => g >= 350), `at most 2/s: ${gaps.join(',')}`);
      const state = cur.at(-1)!.msg['current']!['state'] as { text: string; flags: Record<string, boolean> };
      assert.equal(state.text, 'Operational');
      assert.equal(Object.keys(state.flags).length, 11);
      const temps = cur.flatMap((m) => m.msg['current']!['temps'] as { tool0?: { actual: number } }[]);
      assert.ok(temps.length >= 2 && temps.every((t) => typeof t.tool0?.actual === 'number'), 'temperatures reach the client');
      assert.equal(c.ws.readyState, WebSocket.OPEN, 'garbage and keep-alives did not close it');
    } finally {
      c.close();
    }
  });

  test('a stale session gets reauthRequired; an unknown path is refused', async () => {
    const c = new PushClient(rig.gantry.url);
    try {
      await c.opened();
      c.send({ auth: 'admin:not-a-session' });
      await waitFor('reauthRequired', () => c.of('reauthRequired').length === 1);
      assert.equal(c.of('history').length, 0);
    } finally {
      c.close();
    }
    const bad = new WebSocket(rig.gantry.url.replace(/^http/, 'ws') + '/nope');
    await new Promise<void>((resolve) => bad.once('error', () => resolve()));
  });

  test('50 clients and one stalled client during a print: the live ones get current on time, print events arrive, the stalled one is cut off', async () => {
    const clients = Array.from({ length: 50 }, () => new PushClient(rig.gantry.url));
    const stalled = new PushClient(rig.gantry.url);
    try {
      await Promise.all([...clients, stalled].map((c) => c.opened()));
      for (const c of clients) c.send({ auth });
      await waitFor('all authenticated', () => clients.every((c) => c.of('history').length === 1), 10_000);
      // the stalled client stops reading and keeps asking for the (large) history
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      for (let i = 0; i < 400; i++) stalled.send({ auth });
      const t0 = Date.now();
      const form = new FormData();
      form.append('print', 'true');
      form.append('file', new Blob(['G28\n' + 'G1 X100 Y100 F3000\nG1 X0 Y0 F3000\n'.repeat(60)]), 'load.gcode');
      assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
      await waitFor('the stalled client was disconnected', () => rig.gantry.push.stats.disconnected >= 1, 40_000);
      await waitFor('the print finished', () => clients[0]!.events().includes('PrintDone'), 60_000);
      await new Promise((r) => setTimeout(r, 1200));
      const t1 = Date.now();
      // "on time" against the server's own ticks, not the wall clock: on a busy machine the whole process (server
      // and clients alike) can stall, and that is no fault of the stalled client. What the stalled client must not
      // do is hold the others back: each live client gets current ticks no further apart than the server's own worst
      // tick gap allows (a live client's skipped tick, if its socket was full for a moment, fits in that too)
      const stamp = (m: { msg: Record<string, unknown> }) => (m.msg['current'] as { serverTime: number }).serverTime * 1000;
      const ticks = clients[0]!.of('current').map(stamp).filter((t) => t >= t0 && t <= t1);
      const tickGap = Math.max(...ticks.slice(1).map((t, i) => t - ticks[i]!));
      for (const c of clients) {
        const cur = c.of('current').filter((m) => stamp(m) >= t0 && stamp(m) <= t1);
        const gaps = cur.slice(1).map((m, i) => m.at - cur[i]!.at);
        assert.ok(cur.length >= Math.floor((t1 - t0) / 1000), `${cur.length} currents in ${t1 - t0} ms`);
        assert.ok(Math.max(...gaps) < tickGap + 1000, `largest gap ${Math.max(...gaps)} ms, the server's own ${tickGap} ms`);
        const events = c.events();
        assert.ok(events.includes('Upload') && events.includes('PrintStarted') && events.includes('PrintDone') && events.includes('PrinterStateChanged'), events.join(','));
      }
      assert.equal(rig.gantry.push.clientCount, 50);
      // OctoPrint's PrintDone payload: farm tools and automations read the print time and size from it
      const done = clients[0]!.of('event').map((m) => m.msg['event'] as { type: string; payload: Record<string, unknown> }).find((e) => e.type === 'PrintDone')!;
      assert.equal(typeof done.payload['time'], 'number');
      assert.ok((done.payload['time'] as number) >= 0);
      assert.equal(done.payload['size'], 4 + 'G1 X100 Y100 F3000\nG1 X0 Y0 F3000\n'.length * 60);
      assert.equal(done.payload['name'], 'load.gcode');
      // the upload selected the file before printing it: OctoPrint's FileSelected, first
      const events = clients[0]!.events();
      assert.ok(events.indexOf('FileSelected') >= 0 && events.indexOf('FileSelected') < events.indexOf('PrintStarted'), events.join(','));
      const selected = clients[0]!.of('event').map((m) => m.msg['event'] as { type: string; payload: Record<string, unknown> }).find((e) => e.type === 'FileSelected')!;
      assert.deepEqual([selected.payload['path'], selected.payload['origin'], selected.payload['size']], ['load.gcode', 'local', done.payload['size']]);
    } finally {
      for (const c of [...clients, stalled]) c.close();
    }
  });
  test('a throttled client gets every terminal line too, in the currents it is sent (none lost to the ticks it skips)', async () => {
    const fast = new PushClient(rig.gantry.url);
    const slow = new PushClient(rig.gantry.url);
    const logs = (c: PushClient) => c.of('current').flatMap((m) => (m.msg['current'] as { logs: string[] }).logs);
    try {
      await Promise.all([fast.opened(), slow.opened()]);
      for (const c of [fast, slow]) c.send({ auth });
      slow.send({ throttle: 4 });
      await waitFor('both authenticated', () => fast.of('history').length === 1 && slow.of('history').length === 1, 10_000);
      const sent: string[] = [];
      for (let i = 1; i <= 6; i++) {
        const cmd = `M117 throttle-${i}`;
        assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { commands: [cmd] } })).status, 204);
        sent.push(cmd);
        // the next command only once this one has gone out in a current: the lines spread over several ticks
        await waitFor(`${cmd} in a current`, () => logs(fast).some((l) => l.includes(cmd)), 10_000);
      }
      await waitFor('the throttled client has the last line', () => logs(slow).some((l) => l.includes(sent.at(-1)!)), 15_000);
      const seen = logs(slow).filter((l) => l.startsWith('Send:') && l.includes('throttle-')).map((l) => l.replace(/^Send: (N\d+ )?/, '').replace(/\*\d+$/, ''));
      assert.deepEqual(seen, sent);
    } finally {
      fast.close();
      slow.close();
    }
  });

  test("currentZ follows the print's Z as its moves are sent, and ZChange announces each new Z in order (as OctoPrint's do)", async () => {
    const c = new PushClient(rig.gantry.url);
    try {
      await c.opened();
      c.send({ auth });
      await waitFor('authenticated', () => c.of('history').length === 1, 10_000);
      // three layers, each held ~2 s by a dwell (400 s at the simulator's 200× speed): several ticks per layer
      const layer = (z: string) => `G1 Z${z} F600\nG1 X10 Y10 F3000\nG4 S400\n`;
      const form = new FormData();
      form.append('print', 'true');
      form.append('file', new Blob(['G28\nG90\n' + layer('0.2') + layer('0.4') + layer('0.6')]), 'layers.gcode');
      assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
      await waitFor('the print finished', () => c.events().includes('PrintDone'), 60_000);
      const zs = c.of('event').map((m) => m.msg['event'] as { type: string; payload: { new: number; old: number | null } }).filter((e) => e.type === 'ZChange').map((e) => e.payload);
      const printed = zs.map((z) => z.new).filter((z) => z > 0);
      assert.deepEqual(printed, [0.2, 0.4, 0.6], `ZChange: ${JSON.stringify(zs)}`);
      for (let i = 1; i < zs.length; i++) assert.equal(zs[i]!.old, zs[i - 1]!.new, 'each ZChange names the Z before it');
      const currents = c.of('current').map((m) => (m.msg['current'] as { currentZ: number | null }).currentZ);
      assert.ok(currents.includes(0.4), `currentZ during the print: ${JSON.stringify([...new Set(currents)])}`);
    } finally {
      c.close();
    }
  });

  test('the web page\'s socket is signed in by its login cookie, but only from the page\'s own origin', async () => {
    const setup = await rig.api('/api/gantry/setup', { method: 'POST', json: { name: 'pushuser', password: 'push-password' } });
    assert.equal(setup.status, 201);
    const cookie = setup.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const host = new URL(rig.gantry.url).host;
    const own = new PushClient(rig.gantry.url, { Cookie: cookie, Origin: `http://${host}` });
    const foreign = new PushClient(rig.gantry.url, { Cookie: cookie, Origin: 'http://evil.example' });
    try {
      await waitFor('history without an auth message', () => own.of('history').length === 1);
      assert.equal((own.of('connected')[0]!.msg['connected'] as { gantryUser: string }).gantryUser, 'pushuser');
      await foreign.opened();
      await waitFor('connected', () => foreign.of('connected').length === 1);
      assert.equal((foreign.of('connected')[0]!.msg['connected'] as { gantryUser: string | null }).gantryUser, null);
      // every signed-in socket gets the same `current` ticks: two reaching the page's socket would have reached it too
      const seen = own.of('current').length;
      await waitFor('two more ticks on the page socket', () => own.of('current').length >= seen + 2, 5000);
      assert.equal(foreign.of('history').length + foreign.of('current').length, 0, 'another site cannot ride on the cookie');
    } finally {
      own.close();
      foreign.close();
    }
  });
});
