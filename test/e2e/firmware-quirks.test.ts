// Firmware the way it really behaves, through the virtual printer on a real PTY: boards that report no targets,
// Repetier's target lines and numbered oks, `wait` bursts, ok before the output, garbled oks in windowed mode, and a
// Klipper that is shut down when Gantry connects. Every print must come out exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

interface PrinterView {
  temperature: Record<string, { actual: number; target: number | null }>;
  state: { text: string; error?: string };
}

const JOB = ['G28', 'M104 S205', 'M140 S55', 'G90', 'M83', ...Array.from({ length: 300 }, (_, i) => `G1 X${(i % 50) + 10} Y${(i * 3) % 60 + 10} E0.05 F9000`), 'M400', 'M104 S0', 'M140 S0'];

async function printExactly(rig: GantryRig, name: string): Promise<void> {
  const mark = (await rig.executed()).length;
  assert.equal((await uploadGcode(rig, name, JOB.join('\n') + '\n', { print: 'true' })).status, 201);
  await waitFor('the job to start', () => rig.gantry.jobs.active, 15_000);
  // the history entry is written as the job ends: wait for it, never read it once
  const entry = await waitFor('the job in the history', async () => {
    const h = (await (await rig.api('/api/gantry/history')).json()) as { jobs: { file: { name: string }; result: string; reason: string | null }[] };
    return h.jobs.find((j) => j.file.name === name);
  }, 120_000, 50);
  assert.equal(entry.result, 'success', entry.reason ?? '');
  // the record is written as the printer runs: wait until it holds as many lines as the job, then compare
  // and then the M400 Gantry sends as OctoPrint does, so that Finishing lasts until the last move has run
  const executed = await rig.waitExecuted('the whole job in the record', (e) => e.length - mark >= JOB.length + 1);
  assert.deepEqual(executed.slice(mark), [...JOB, 'M400'], 'every line once, in order, then the host’s M400');
}

test('a board that reports no targets: Gantry shows the targets it sent, from the API and from a job', async () => {
  const rig = await gantryRig({}, {}, ['--no-target-reports']);
  try {
    await waitOperational(rig);
    assert.equal((await rig.api('/api/printer/tool', { method: 'POST', json: { command: 'target', targets: { tool0: 210 } } })).status, 204);
    assert.equal((await rig.api('/api/printer/bed', { method: 'POST', json: { command: 'target', target: 60 } })).status, 204);
    const p = await waitFor('the targets shown', async () => {
      const v = (await (await rig.api('/api/printer')).json()) as PrinterView;
      return v.temperature['tool0']?.target === 210 && v.temperature['bed']?.target === 60 ? v : undefined;
    });
    assert.ok(p.temperature['tool0']!.actual < 210, 'the actual temperature is the firmware’s, still climbing');
    await printExactly(rig, 'targets.gcode');
    const after = (await (await rig.api('/api/printer')).json()) as PrinterView;
    assert.equal(after.temperature['tool0']!.target, 0, 'the job’s own M104 S0 shows too');
  } finally {
    await rig.close();
  }
});

test('Repetier: TargetExtr/TargetBed lines and numbered oks; a print is exact', async () => {
  const rig = await gantryRig({}, {}, ['--repetier']);
  try {
    await waitOperational(rig);
    assert.equal(rig.gantry.printer.firmware?.flavor, 'repetier');
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M140 S45' } })).status, 204);
    await waitFor('the bed target from TargetBed', async () => ((await (await rig.api('/api/printer')).json()) as PrinterView).temperature['bed']?.target === 45);
    await rig.waitExecuted('M140 S45 in the record', (e) => e.includes('M140 S45')); // before the job's mark is taken
    await printExactly(rig, 'repetier.gcode');
  } finally {
    await rig.close();
  }
});

test('wait bursts, lost oks and ok before the output: one line in flight, the print exact', async () => {
  const rig = await gantryRig({}, { serialOverrides: { timeouts: { communication: 1000, busy: 3000, connection: 5000, detection: 2500 } } }, ['--wait-bursts', '--ok-before-output', '--lost-ok-rate', '0.02', '--seed', '7']);
  try {
    await waitOperational(rig);
    await printExactly(rig, 'waits.gcode');
  } finally {
    await rig.close();
  }
});

test('windowed (ADVANCED_OK) with garbled oks: never a line behind, the print exact, and the setting applies without a restart', async () => {
  const rig = await gantryRig({}, {}, ['--advanced-ok', '--garbled-ok-rate', '0.05', '--seed', '3']);
  try {
    await waitOperational(rig);
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { serial: { windowed: true } } })).status, 200);
    assert.equal(rig.gantry.printer.protocol?.opts.windowed, true, 'the live connection is windowed now');
    await printExactly(rig, 'garbled.gcode');
    assert.equal(rig.gantry.printer.protocol?.commandsInFlight, 0);
  } finally {
    await rig.close();
  }
});

test('a Klipper that is shut down when Gantry connects: Error with its reason; FIRMWARE_RESTART from the terminal brings it back', async () => {
  const rig = await gantryRig({}, {}, ['--klipper-shutdown']);
  try {
    const view = await waitFor('Error with the reason', async () => {
      const v = (await (await rig.api('/api/connection')).json()) as { current: { state: string } };
      return v.current.state === 'Error' ? v : undefined;
    }, 15_000);
    assert.equal(view.current.state, 'Error');
    assert.match(rig.gantry.printer.error, /Shutdown due to M112 command/);
    const job = (await (await rig.api('/api/job')).json()) as { state: string; error?: string };
    assert.equal(job.state, 'Error');
    assert.match(job.error ?? '', /Shutdown due to M112/);
    assert.equal(rig.gantry.printer.operational, false, 'nothing prints on a shut-down Klipper');
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command: 'FIRMWARE_RESTART' } })).status, 204);
    await waitFor('Operational again', () => rig.gantry.printer.stateText === 'Operational', 15_000);
    assert.equal(rig.gantry.printer.error, '');
  } finally {
    await rig.close();
  }
});

test('checksums on every line (for firmware that insists on them) apply to the running connection when the setting is saved', async () => {
  const rig = await gantryRig();
  try {
    await waitOperational(rig);
    const engine = () => rig.gantry.printer.protocol!;
    assert.equal(engine().opts.alwaysChecksum, false);
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { serial: { alwaysChecksum: true } } })).status, 200);
    assert.equal(engine().opts.alwaysChecksum, true, 'the live connection numbers every line now, no reconnect');
    // and the printer still takes what is sent
    assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { commands: ['M117 numbered'] } })).status, 204);
    await rig.waitExecuted('the numbered line', (e) => e.includes('M117 numbered'));
  } finally {
    await rig.close();
  }
});
