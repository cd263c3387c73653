// Issue #11: "repeated kill -9 at random points of a print on the same data dir; recovery must find the file and
// resume." The real GANTRY_CLI, SIGKILLed mid-print at a seeded random layer (and a random moment within it), started
// again on the same data directory, several times; every time the recovery offer must name the file as present
// and unchanged, and the simulator must not outlive the Gantry that started it. The last round resumes and
// prints to the end. GANTRY_TEST_SEED=N replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { TEST_KEY } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { seededRandom } from '../../src/sim/options.js';
import { GANTRY_CLI } from '../helpers/gantry-cli.js';
import { processesMentioning } from '../helpers/process.js';

const LAYERS = 24;
const ROUNDS = 3;


/** A print of LAYERS layers, about 0.2 s each on the real-time virtual printer; no heating, no homing (time). */
function gcode(variant: number): string {
  const lines = ['G90', 'M82', 'G92 E0', `; variant ${variant}`];
  for (let l = 1; l <= LAYERS; l++) {
    lines.push(';LAYER_CHANGE', `;Z:${(0.2 * l).toFixed(1)}`, `G1 Z${(0.2 * l).toFixed(1)} F600`);
    lines.push(`G1 X${l % 2 ? 20 : 10} Y10 E${(l * 0.5).toFixed(1)} F3000`); // 10 mm at 50 mm/s
  }
  lines.push('M84');
  return lines.join('\n') + '\n';
}

const FILES = [
  ['First part.gcode', 'First_part.gcode'],
  ['My Part (v2).gcode', 'My_Part_(v2).gcode'],
  ['Third, last.gcode', 'Third_last.gcode'],
] as const;
const PRINTED = FILES[1][1];

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function serve(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--serial', 'virtual', '--camera', 'none', '--api-key', TEST_KEY, '--print-api-key'],
    { env: { ...process.env, GANTRY_LOG_LEVEL: 'info' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const output = () => out.slice(-4000);
  const [, url] = await waitFor('the URL printed', () => {
    if (child.exitCode !== null) throw new Error(`gantry serve exited (${child.exitCode}):\n${output()}`);
    return /running: (http:\S+)/.exec(out) ?? undefined;
  }, 20_000);
  const server = { child, url: url!, output };
  await waitFor('the virtual printer operational', async () => {
    const res = await api(server, '/api/printer').catch(() => undefined);
    return res?.status === 200 && ((await res.json()) as { state: { text: string } }).state.text === 'Operational';
  }, 20_000, 50);
  return server;
}

function api(s: Server, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('X-Api-Key', TEST_KEY);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  return fetch(s.url + path, { ...init, headers, body: body ?? null });
}

test('kill -9 at random points of a print, again and again on the same data dir: recovery finds the file each time and resumes to the end', { timeout: 120_000 }, async (t) => {
  const seed = Number(process.env['GANTRY_TEST_SEED'] ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (GANTRY_TEST_SEED=${seed} replays it)`);
  const rand = seededRandom(seed);
  const { dir, cleanup } = await tempDir();
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const simLink = join(dataDir, 'run', 'virtual-printer');
  let server: Server | undefined;
  const checkpointLayer = async () => {
    const text = await readFile(join(dataDir, 'checkpoint.json'), 'utf8').catch(() => '{}');
    return (JSON.parse(text) as { checkpoint?: { layer: number } | null }).checkpoint?.layer ?? 0;
  };
  try {
    server = await serve(dataDir);
    for (const [i, [display, name]] of FILES.entries()) {
      const form = new FormData();
      form.append('file', new Blob([gcode(i)]), display);
      const res = await api(server, '/api/files/local', { method: 'POST', body: form });
      assert.equal(res.status, 201, name);
    }
    assert.equal((await api(server, `/api/files/local/${PRINTED}`, { method: 'POST', json: { command: 'select', print: true } })).status, 204);

    let layer = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      if (round > 1) {
        // resume the interrupted print (from the start of its last checkpointed layer)
        const res = await api(server, '/api/gantry/recovery', { method: 'POST', json: { command: 'resume' } });
        assert.equal(res.status, 204, `round ${round}: resume: ${await res.text()}`);
      }
      if (round === ROUNDS) break;
      // a random layer ahead, leaving several layers so the print cannot end first; then a random moment in it
      const target = Math.min(LAYERS - 6, layer + 2 + Math.floor(rand() * 6));
      const extraMs = Math.floor(rand() * 200);
      t.diagnostic(`round ${round}: kill -9 at layer ${target} + ${extraMs} ms`);
      await waitFor(`round ${round}: layer ${target} checkpointed`, async () => (await checkpointLayer()) >= target, 30_000, 10);
      await new Promise((r) => setTimeout(r, extraMs)); // the random point within the layer, not a wait for a condition
      const printing = ((await (await api(server, '/api/job')).json()) as { state: string }).state;
      assert.match(printing, /^Printing/, `round ${round}: still printing when killed`);
      const exited = once(server.child, 'exit');
      server.child.kill('SIGKILL');
      await exited;
      // the simulator (and its PTY helper) go with the Gantry that started them, even on kill -9
      await waitFor(`round ${round}: the virtual printer to exit with its parent`, async () => (await processesMentioning(simLink)).length === 0, 10_000, 50);

      server = await serve(dataDir);
      const offer = (await (await api(server, '/api/gantry/recovery')).json()) as { available: boolean; layer: number; file: { path: string; exists: boolean; unchanged: boolean } };
      assert.equal(offer.available, true, `round ${round}: recovery offered`);
      assert.deepEqual(offer.file, { path: PRINTED, exists: true, unchanged: true }, `round ${round}: the printed file is found, unchanged`);
      assert.ok(offer.layer >= target && offer.layer > layer, `round ${round}: checkpoint at layer ${offer.layer}, killed after ${target}`);
      layer = offer.layer;
      const entry = (await (await api(server, `/api/files/local/${PRINTED}`)).json()) as { display: string };
      assert.equal(entry.display, FILES[1][0], `round ${round}: the display name survived`);
    }

    const s = server;
    await waitFor('the resumed print to finish', async () => {
      const job = (await (await api(s, '/api/job')).json()) as { state: string };
      const recovery = (await (await api(s, '/api/gantry/recovery')).json()) as { available: boolean };
      return job.state === 'Operational' && !recovery.available;
    }, 60_000, 100);
    const history = (await (await api(s, '/api/gantry/history')).json()) as { jobs: { result: string; file: { path: string } }[] };
    assert.equal(history.jobs[0]?.result, 'success', JSON.stringify(history.jobs));
    assert.equal(history.jobs[0]?.file.path, PRINTED);
    for (const [display, name] of FILES) {
      const entry = (await (await api(s, `/api/files/local/${name}`)).json()) as { display: string; prints: { success: number } };
      assert.equal(entry.display, display, `${name} keeps its display name after ${ROUNDS - 1} kills`);
      assert.equal(entry.prints.success, name === PRINTED ? 1 : 0, name);
    }
  } catch (err) {
    if (server) t.diagnostic(`gantry output:\n${server.output()}`);
    throw err;
  } finally {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      const exited = once(server.child, 'exit');
      server.child.kill('SIGKILL');
      await exited;
    }
    // anything this test started that is still about (an orphaned simulator on old code): ended by its pid
    for (const { pid } of await processesMentioning(dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await cleanup();
  }
});
