// The OctoPrint-compatible HTTP API end to end: a real server, a real PTY, the virtual printer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, TEST_KEY, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

const FLAGS = ['operational', 'printing', 'cancelling', 'pausing', 'resuming', 'finishing', 'closedOrError', 'error', 'paused', 'ready', 'sdReady'];

describe('OctoPrint API', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
  });
  after(() => rig.close());

  test('version answers like OctoPrint, so PrusaSlicer and Cura accept the host', async () => {
    const res = await rig.api('/api/version');
    assert.equal(res.status, 200);
    const v = (await res.json()) as Record<string, string>;
    assert.equal(v['api'], '0.1');
    assert.match(v['server']!, /^1\.11\./);
    assert.ok(v['text']!.startsWith('OctoPrint'), v['text']);
    const server = (await (await rig.api('/api/server')).json()) as Record<string, unknown>;
    assert.equal(server['safemode'], false);
  });

  test('keys: header, Bearer and ?apikey= work; missing or wrong keys get 403 with a JSON error', async () => {
    assert.equal((await rig.api('/api/version', { key: null, headers: { Authorization: `Bearer ${TEST_KEY}` } })).status, 200);
    assert.equal((await rig.api(`/api/version?apikey=${TEST_KEY}`, { key: null })).status, 200);
    for (const res of [await rig.api('/api/version', { key: null }), await rig.api('/api/printer', { key: 'wrong-key-wrong-key-wrong-key-wrong' })]) {
      assert.equal(res.status, 403);
      assert.equal(typeof ((await res.json()) as { error: string }).error, 'string');
    }
    const health = await rig.api('/api/gantry/health', { key: null });
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; printer: { state: string }; version: string };
    assert.equal(h.status, 'ok');
    assert.equal(h.printer.state, 'Operational');
  });

  test('GET /api/printer: temperatures, history with a limit, exclude, and all eleven state flags', async () => {
    await waitFor('two temperature samples', () => rig.gantry.printer.history.samples(Date.now() / 1000).length >= 2, 5000);
    const p = (await (await rig.api('/api/printer?history=true&limit=2')).json()) as {
      temperature: { tool0: { actual: number; target: number; offset: number }; bed: object; history: object[] };
      state: { text: string; error: string; flags: Record<string, boolean> };
    };
    assert.equal(typeof p.temperature.tool0.actual, 'number');
    assert.ok('bed' in p.temperature);
    assert.equal(p.temperature.history.length, 2);
    assert.equal(p.state.text, 'Operational');
    assert.deepEqual(Object.keys(p.state.flags).sort(), [...FLAGS].sort());
    assert.equal(p.state.flags['ready'], true);
    const noTemps = (await (await rig.api('/api/printer?exclude=temperature,sd')).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(noTemps), ['state']);
  });

  test('heater, printhead and command endpoints send the right G-code (as FDM Monster and Home Assistant call them)', async () => {
    const ok = async (path: string, json: unknown) => {
      const res = await rig.api(path, { method: 'POST', json });
      assert.equal(res.status, 204, `${path} ${JSON.stringify(json)}: ${await res.text()}`);
    };
    await ok('/api/printer/tool', { command: 'target', targets: { tool0: 200 } });
    await ok('//api/printer/bed', { command: 'target', target: 60, offset: 0 }); // pyoctoprintapi: double slash, extra key
    await ok('/api/printer/printhead', { command: 'home', axes: ['x', 'y'] });
    await ok('/api/printer/printhead', { command: 'jog', x: 10, y: 0, z: 0 }); // FDM Monster sends untouched axes as 0
    await ok('/api/printer/printhead', { command: 'feedrate', factor: 1.05 });
    await ok('/api/printer/tool', { command: 'flowrate', factor: 95 });
    await ok('/api/printer/command', { commands: ['M117 hello', 'M114'] });
    const executed = await rig.waitExecuted('all commands executed', (e) => e.includes('M114'));
    const tail = executed.slice(executed.indexOf('M104 T0 S200'));
    assert.deepEqual(tail, ['M104 T0 S200', 'M140 S60', 'G91', 'G28 X0 Y0', 'G90', 'G91', 'G1 X10 F6000', 'G90', 'M220 S105', 'M221 S95', 'M117 hello', 'M114']);
    await waitFor('targets reported back', () => rig.gantry.printer.temperatures.bed?.target === 60 && rig.gantry.printer.temperatures.tools.get(0)?.target === 200);
  });

  test('bad input gets a 4xx JSON error and the server keeps serving', async () => {
    const endpoints = ['/api/connection', '/api/printer/tool', '/api/printer/bed', '/api/printer/chamber', '/api/printer/printhead', '/api/printer/command'];
    const bodies: { body: string; type: string; status: number }[] = [
      { body: '{"command":"target"', type: 'application/json', status: 400 },
      { body: 'command=target', type: 'application/x-www-form-urlencoded', status: 415 },
      { body: '[1,2,3]', type: 'application/json', status: 400 },
      { body: '{"command":42}', type: 'application/json', status: 400 },
      { body: '{"command":"explode"}', type: 'application/json', status: 400 },
      { body: 'null', type: 'application/json', status: 400 },
    ];
    for (const path of endpoints) {
      for (const b of bodies) {
        // /api/printer/command forwards any line (Klipper macros are not G/M/T codes): "explode" is a valid raw command there
        if (path === '/api/printer/command' && b.body.includes('explode')) continue;
        const res = await rig.api(path, { method: 'POST', body: b.body, headers: { 'Content-Type': b.type } });
        assert.equal(res.status, b.status, `${path} ${b.body}`);
        assert.equal(typeof ((await res.json()) as { error?: unknown }).error, 'string', `${path} ${b.body} has a JSON error`);
      }
    }
    const wrongTypes: [string, unknown][] = [
      ['/api/printer/tool', { command: 'target', targets: { tool0: 'hot' } }],
      ['/api/printer/tool', { command: 'target', targets: { nozzle: 200 } }],
      ['/api/printer/tool', { command: 'target', targets: { tool7: 200 } }],
      ['/api/printer/tool', { command: 'target', targets: { tool0: 9999 } }],
      ['/api/printer/tool', { command: 'target' }],
      ['/api/printer/tool', { command: 'offset', offsets: { tool0: 80 } }],
      ['/api/printer/tool', { command: 'extrude', amount: 'lots' }],
      ['/api/printer/tool', { command: 'flowrate', factor: 300 }],
      ['/api/printer/bed', { command: 'target', target: [60] }],
      ['/api/printer/printhead', { command: 'jog', x: 'far' }],
      ['/api/printer/printhead', { command: 'home', axes: ['q'] }],
      ['/api/printer/printhead', { command: 'home', axes: 'x' }],
      ['/api/printer/printhead', { command: 'feedrate', factor: 1000 }],
      ['/api/printer/command', {}],
      ['/api/printer/command', { command: 'G28', commands: ['G28'] }],
      ['/api/printer/command', { commands: [1, 2] }],
      ['/api/connection', { command: 'connect', baudrate: 12345 }],
      ['/api/connection', { command: 'connect', port: '/etc/passwd' }],
      ['/api/connection', { command: 'connect', printerProfile: 'nope' }],
    ];
    for (const [path, json] of wrongTypes) {
      const res = await rig.api(path, { method: 'POST', json });
      assert.equal(res.status, 400, `${path} ${JSON.stringify(json)}`);
      assert.equal(typeof ((await res.json()) as { error?: unknown }).error, 'string');
    }
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { commands: [] } })).status, 204, 'nothing to send is no error (OctoPrint)');
    const chamber = await rig.api('/api/printer/chamber', { method: 'POST', json: { command: 'target', target: 40 } });
    assert.equal(chamber.status, 409, 'no heated chamber in the profile');
    const big = await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M117 ' + 'x'.repeat(200 * 1024) } });
    assert.equal(big.status, 413);
    const unknown = await rig.api('/api/nothing-here');
    assert.equal(unknown.status, 404);
    assert.equal(typeof ((await unknown.json()) as { error?: unknown }).error, 'string');
    assert.equal((await rig.api('/api/gantry/health')).status, 200);
    assert.equal(rig.gantry.printer.stateText, 'Operational', 'bad requests never touched the printer');
  });

  test('connection: GET shape; disconnect → /api/printer 409; connect again with save:"yes" persists the choice', async () => {
    const conn = (await (await rig.api('/api/connection')).json()) as { current: Record<string, unknown>; options: { ports: string[]; baudrates: number[] } };
    assert.equal(conn.current['state'], 'Operational');
    assert.ok(conn.options.ports.includes('VIRTUAL'));
    assert.ok(conn.options.baudrates.includes(250000));
    assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'disconnect' } })).status, 204);
    const offline = await rig.api('/api/printer');
    assert.equal(offline.status, 409);
    assert.match(((await offline.json()) as { error: string }).error, /not operational/);
    const closed = (await (await rig.api('/api/connection')).json()) as { current: Record<string, unknown> };
    // OctoPrint's own words: the connection is "Closed" (its /api/job state says "Offline")
    assert.deepEqual(closed.current, { state: 'Closed', port: null, baudrate: null, printerProfile: '_default' });
    assert.equal(((await (await rig.api('/api/job')).json()) as { state: string }).state, 'Offline');
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'G28' } })).status, 409);
    const res = await rig.api('/api/connection', { method: 'POST', json: { command: 'connect', port: 'VIRTUAL', baudrate: 0, save: 'yes', printerprofile: 'x' } });
    assert.equal(res.status, 204);
    await waitOperational(rig);
    assert.equal(rig.gantry.settings.data.serial.port, 'VIRTUAL');
    assert.equal((await rig.api('/api/printer')).status, 200);
  });

  test('printer profiles as Cura reads them', async () => {
    const body = (await (await rig.api('/api/printerprofiles')).json()) as { profiles: Record<string, { current: boolean; axes: Record<string, { speed: number }>; resource: string }> };
    const p = body.profiles['_default']!;
    assert.equal(p.current, true);
    assert.equal(p.axes['x']!.speed, 6000);
    assert.match(p.resource, /^http:\/\/127\.0\.0\.1:\d+\/api\/printerprofiles\/_default$/);
  });
});
