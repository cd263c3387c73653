// Every cell of the job state table (src/jobs/job-state-machine.ts) against a real Gantry and the virtual printer:
// commands over HTTP, firmware host actions as the printer model announces them. The job is held in each state
// by the printer itself: Pausing while an M0 waits (no host prompts: only M108 ends it), Resuming while an M0 sent
// from the terminal holds the restore, Cancelling during a G4 dwell (which M108 does not end). Starting and
// Finishing last a moment, so their cells are tried from the state-change event itself, synchronously. The last
// test checks that every cell of the table was tried.
import { after as afterAll, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GantryEvents } from '../../src/events.js';
import { FIRMWARE_EVENTS, JOB_COMMANDS, JOB_STATES, type FirmwareEvent, type JobCommand, type JobState, decide } from '../../src/jobs/job-state-machine.js';
import { ServiceError } from '../../src/service-error.js';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { after, jobCommand, jobState, signedInPush, terminal, waitJobState } from '../helpers/job-control.js';
import type { PushClient } from '../helpers/push-client.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const STATE_TEXT: Record<JobState, string> = {
  idle: 'Operational',
  starting: 'Starting',
  printing: 'Printing',
  pausing: 'Pausing',
  paused: 'Paused',
  resuming: 'Resuming',
  cancelling: 'Cancelling',
  finishing: 'Finishing',
};

/** POST /api/job bodies for each command (Cura's toggle is a pause without action). */
const BODY: Record<JobCommand, Record<string, unknown>> = {
  start: { command: 'start' },
  pause: { command: 'pause', action: 'pause' },
  resume: { command: 'pause', action: 'resume' },
  toggle: { command: 'pause' },
  cancel: { command: 'cancel' },
  restart: { command: 'restart' },
};

// ~2 minutes of moves at --speed 200: the job is still printing whenever a test looks
const LONG = ['G90', 'M83', 'G1 Z0.3 F600', ...Array.from({ length: 3000 }, (_, i) => (i % 2 ? 'G1 X10 Y10 E0.5 F600' : 'G1 X100 Y10 E0.5 F600')), ''].join('\n');
// stops at an M0 that only M108 ends (the printer has no host prompts here)
const STOP = ['G90', 'G1 X10 Y10 F3000', 'M0 hold', ...Array.from({ length: 200 }, (_, i) => `G1 X${20 + (i % 50)} Y10 F3000`), ''].join('\n');
const SHORT = ['G90', 'G1 X10 Y10 F3000', 'G1 X20 Y10 F3000', ''].join('\n');

describe('the job state table, cell by cell', () => {
  let rig: GantryRig;
  let push: PushClient;
  const covered = new Set<string>();
  const cellKey = (s: JobState, input: JobCommand | FirmwareEvent) => `${s} × ${input}`;
  const state = () => jobState(rig);
  const history = async () =>
    ((await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string; reason: string | null; file: { path: string } }[] }).jobs[0] ?? { result: '', reason: null, file: { path: '' } };

  /** What the printer model announces when the firmware sends the matching line (injected: the firmware may be
   * blocked holding the state, and the wire parsing has tests of its own). */
  const inject = (e: FirmwareEvent) => {
    const bus = rig.gantry.bus;
    const printerId = rig.gantry.printer.id;
    if (e.startsWith('action:')) bus.emit('printer.action', { printerId, name: e.slice(7), params: '' });
    else if (e === 'prompt-shown') bus.emit('printer.prompt', { printerId, prompt: { text: 'A question', choices: ['OK'] } });
    else if (e === 'prompt-ended') bus.emit('printer.prompt', { printerId, prompt: null });
    else if (e === 'heatup') bus.emit('printer.heating', { printerId, command: 'M109 S200' });
    else if (e === 'stream-done') bus.emit('printer.stream-done', { printerId });
    else bus.emit('printer.error', { printerId, reason: 'test', message: 'injected failure' });
  };

  const print = async (file: string) => {
    assert.equal((await rig.api(`/api/files/local/${file}`, { method: 'POST', json: { command: 'select', print: true } })).status, 204);
  };
  const waitExecuted = (what: string, cmd: string, from: number) => rig.waitExecuted(what, (e) => e.indexOf(cmd, from) >= 0);
  let syncs = 0;
  /**
   * Everything the printer executed so far: a marker command goes through the queue and is waited for, so what
   * was executed before it has reached the record file too (the list lags a little behind the printer).
   */
  const synced = async (): Promise<string[]> => {
    const marker = `M117 sync ${++syncs}`;
    await terminal(rig, marker);
    return rig.waitExecuted(marker, (e) => e.includes(marker));
  };
  const withoutSyncs = (cmds: string[]) => cmds.filter((c) => !c.startsWith('M117 sync'));
  /** What ran after the last `anchor` (the command holding the state), markers left out. */
  const tailAfter = async (anchor: string) => {
    const e = await synced();
    const i = e.lastIndexOf(anchor);
    assert.ok(i >= 0, `${anchor} was executed`);
    return withoutSyncs(e.slice(i + 1));
  };
  /** The M0 echoes its text once its moves are done and it waits: an M108 before that would be lost. */
  const message = (text: string) => nextEvent(rig.gantry.bus, 'printer.message', (m) => m.text === text);

  // ---- holding the job in a state --------------------------------------------------------------------------

  const into = {
    async printing(): Promise<void> {
      await print('long.gcode');
      await waitJobState(rig, 'Printing');
    },
    /** Pausing while an M0 waits; `release` (terminal M108) lets the pause complete. */
    async pausing(): Promise<void> {
      const waiting = message('hold');
      await print('stop.gcode');
      await waiting;
      assert.equal((await jobCommand(rig, BODY.pause)).status, 204);
      assert.equal(await state(), 'Pausing');
    },
    async paused(): Promise<void> {
      await into.printing();
      assert.equal((await jobCommand(rig, BODY.pause)).status, 204);
      await waitJobState(rig, 'Paused');
    },
    /** Resuming while an M0 from the terminal holds the restore; `release` lets it go on. */
    async resuming(): Promise<void> {
      await into.paused();
      const waiting = message('hold the resume');
      await terminal(rig, 'M0 hold the resume');
      await waiting;
      assert.equal((await jobCommand(rig, BODY.resume)).status, 204);
      assert.equal(await state(), 'Resuming');
    },
    /** Cancelling while a G4 dwell runs (`seconds` real time; M108 does not end a dwell). */
    async cancelling(seconds = 3): Promise<void> {
      await into.paused();
      const mark = (await synced()).length;
      const dwell = `G4 P${seconds * 1000 * 200}`;
      await terminal(rig, dwell);
      await waitExecuted('the dwell running', dwell, mark);
      assert.equal((await jobCommand(rig, BODY.cancel)).status, 204);
      assert.equal(await state(), 'Cancelling');
    },
  };
  /** The printer goes on from an M0 (what the user would do at the printer). */
  const release = () => terminal(rig, 'M108');

  /** Back to idle whatever happened: cancel the job, let any M0 go, wait for Operational. */
  const reset = async () => {
    const jobs = rig.gantry.jobs;
    if (jobs.active && jobs.state !== 'cancelling' && jobs.state !== 'finishing') {
      try {
        jobs.request('cancel');
      } catch {
        // already ending
      }
    }
    await waitFor('no job', () => !jobs.active, 30_000);
    if (rig.gantry.printer.operational) await terminal(rig, 'M108');
    await waitFor('the printer idle', () => rig.gantry.printer.idle, 30_000);
    await waitJobState(rig, 'Operational');
  };

  /** Runs `fn` synchronously when the printer first enters `id` (Starting and Finishing last a moment). */
  const during = (id: GantryEvents['printer.state']['state'], fn: () => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const off = rig.gantry.bus.on('printer.state', (s) => {
        if (s.state !== id) return;
        off();
        try {
          fn();
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      });
    });

  const cell = (s: JobState, input: JobCommand | FirmwareEvent, name: string, fn: () => Promise<void>) =>
    test(`${cellKey(s, input)}: ${name}`, async () => {
      try {
        await fn();
        covered.add(cellKey(s, input));
      } finally {
        await reset();
      }
    });

  before(async () => {
    rig = await gantryRig({}, {}, ['--speed', '200', '--no-host-prompts']);
    await waitOperational(rig);
    for (const [name, text] of [['long.gcode', LONG], ['stop.gcode', STOP], ['short.gcode', SHORT]] as const) assert.equal((await uploadGcode(rig, name, text)).status, 201);
    push = await signedInPush(rig);
  });
  afterAll(async () => {
    push?.close();
    await rig.close();
  });

  // ---- the refusals and no-ops of each state -----------------------------------------------------------------

  /** Every 409 and no-op cell of a state the job is held in: answered right, and the state stays. */
  const quietCells = async (s: JobState) => {
    const text = STATE_TEXT[s];
    assert.equal(await state(), text);
    // the push socket's `current` (twice a second) says the same as GET /api/job
    const seen = push.of('current').length;
    await waitFor(`push current "${text}"`, () => push.of('current').slice(seen).some((m) => (m.msg['current']!['state'] as { text: string }).text === text), 5_000);
    // what the host sent or holds for the printer: a no-op adds nothing (the printer may be blocked holding the
    // state, so the record of what it executed would not show a command that waits behind)
    const wire = () => {
      const e = rig.gantry.printer.protocol!;
      return { sent: e.linesSent, queued: e.queuedCommands, inFlight: e.linesInFlight };
    };
    const before = wire();
    for (const c of JOB_COMMANDS) {
      const out = decide(s, c);
      if (out.kind !== 'reject' && out.kind !== 'noop') continue;
      const res = await jobCommand(rig, BODY[c]);
      assert.equal(res.status, out.kind === 'reject' ? 409 : 204, `${c} in ${s}`);
      if (out.kind === 'reject') assert.equal(((await res.json()) as { error: string }).error, out.reason);
      assert.equal(await state(), text, `${c} in ${s} leaves it ${text}`);
      covered.add(cellKey(s, c));
    }
    for (const e of FIRMWARE_EVENTS) {
      if (decide(s, e).kind !== 'noop') continue;
      inject(e);
      assert.equal(await state(), text, `${e} in ${s} leaves it ${text}`);
      covered.add(cellKey(s, e));
    }
    if (s !== 'printing') assert.deepEqual(wire(), before, `nothing was sent in ${s}`);
  };

  test('idle: only start; every firmware event is ignored', async () => {
    await quietCells('idle');
  });
  test('printing: refusals and no-ops', async () => {
    await into.printing();
    await quietCells('printing');
    await reset();
  });
  test('pausing: refusals and no-ops', async () => {
    await into.pausing();
    await quietCells('pausing');
    await reset();
  });
  test('paused: refusals and no-ops', async () => {
    await into.paused();
    await quietCells('paused');
    await reset();
  });
  test('resuming: refusals and no-ops', async () => {
    await into.resuming();
    await quietCells('resuming');
    await reset();
  });
  test('cancelling: refusals and no-ops', async () => {
    await into.cancelling(8);
    await quietCells('cancelling');
    await reset();
  });
  test('starting: refusals and no-ops, tried the moment the job starts', async () => {
    const outcomes: Promise<void>[] = [];
    const tried = during('STARTING', () => {
      const jobs = rig.gantry.jobs;
      assert.equal(jobs.state, 'starting');
      outcomes.push(assert.rejects(jobs.start(null), (e: ServiceError) => e.status === 409));
      outcomes.push(assert.rejects(jobs.restart(null), (e: ServiceError) => e.status === 409));
      jobs.request('resume');
      for (const e of FIRMWARE_EVENTS) if (decide('starting', e).kind === 'noop') inject(e);
      assert.equal(jobs.state, 'starting');
    });
    await print('long.gcode');
    await tried;
    await Promise.all(outcomes);
    await waitJobState(rig, 'Printing');
    for (const c of ['start', 'restart', 'resume'] as const) covered.add(cellKey('starting', c));
    for (const e of FIRMWARE_EVENTS) if (decide('starting', e).kind === 'noop') covered.add(cellKey('starting', e));
    await reset();
  });
  test('finishing: refusals and no-ops, tried the moment the file is done', async () => {
    const outcomes: Promise<void>[] = [];
    const tried = during('FINISHING', () => {
      const jobs = rig.gantry.jobs;
      for (const c of ['pause', 'resume', 'toggle'] as const) jobs.request(c); // taken, and nothing done (as OctoPrint)
      outcomes.push(assert.rejects(jobs.start(null), (e: ServiceError) => e.status === 409));
      outcomes.push(assert.rejects(jobs.restart(null), (e: ServiceError) => e.status === 409));
      for (const e of FIRMWARE_EVENTS) if (decide('finishing', e).kind === 'noop') inject(e);
      assert.equal(jobs.state, 'finishing');
    });
    await print('short.gcode');
    await tried;
    await Promise.all(outcomes);
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'success');
    for (const c of ['start', 'restart', 'pause', 'resume', 'toggle'] as const) covered.add(cellKey('finishing', c));
    for (const e of FIRMWARE_EVENTS) if (decide('finishing', e).kind === 'noop') covered.add(cellKey('finishing', e));
  });

  // ---- commands that do something ----------------------------------------------------------------------------

  cell('idle', 'start', 'prints the selected file; GET /api/job says Printing', async () => {
    await rig.api('/api/files/local/long.gcode', { method: 'POST', json: { command: 'select' } });
    assert.equal((await jobCommand(rig, BODY.start)).status, 204);
    assert.equal(await state(), 'Printing');
  });

  for (const c of ['pause', 'toggle'] as const) {
    cell('starting', c, 'remembered: the job pauses as soon as it has started', async () => {
      const tried = during('STARTING', () => rig.gantry.jobs.request(c));
      await print('long.gcode');
      await tried;
      await waitJobState(rig, 'Paused');
      assert.ok((await synced()).includes('G1 X5 Y215 F6000'), 'with the pause script');
    });
  }
  cell('starting', 'cancel', 'remembered: the job is cancelled as soon as it has started', async () => {
    const tried = during('STARTING', () => rig.gantry.jobs.request('cancel'));
    await print('long.gcode');
    await tried;
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });

  for (const c of ['pause', 'toggle'] as const) {
    cell('printing', c, 'Pausing, then Paused with the position saved and the pause script run', async () => {
      await into.printing();
      const mark = (await synced()).length;
      assert.equal((await jobCommand(rig, BODY[c])).status, 204);
      assert.ok(['Pausing', 'Paused'].includes(await state()));
      await waitJobState(rig, 'Paused');
      const tail = withoutSyncs((await synced()).slice(mark));
      assert.deepEqual(tail.slice(-7, -2), ['M400', 'M114', 'M83', 'G1 E-2 F2700', 'G90']);
    });
  }
  cell('printing', 'cancel', 'Cancelling, the cancel script, Operational; recorded as cancelled', async () => {
    await into.printing();
    assert.equal((await jobCommand(rig, BODY.cancel)).status, 204);
    assert.equal(await state(), 'Cancelling');
    await waitJobState(rig, 'Operational');
    assert.deepEqual(withoutSyncs(await synced()).slice(-4), ['M104 S0', 'M140 S0', 'M106 S0', 'M84']);
    assert.equal((await history()).result, 'cancelled');
  });

  for (const c of ['resume', 'toggle'] as const) {
    cell('pausing', c, 'remembered, and applied once the pause has completed', async () => {
      await into.pausing();
      assert.equal((await jobCommand(rig, BODY[c])).status, 204);
      assert.equal(await state(), 'Pausing', 'the pause still waits for the M0');
      await release();
      await waitJobState(rig, 'Printing');
      const tail = await tailAfter('M0 hold');
      const script = tail.indexOf('G1 X5 Y215 F6000');
      assert.ok(script > 0 && tail[script + 1] === 'G90', `paused (script), then resumed (restore): ${tail.join(' | ')}`);
    });
  }
  cell('pausing', 'cancel', 'cancels the pause: M108 lets the M0 go, then the cancel script; no pause script', async () => {
    await into.pausing();
    assert.equal((await jobCommand(rig, BODY.cancel)).status, 204);
    assert.equal(await state(), 'Cancelling');
    await waitJobState(rig, 'Operational');
    const tail = await tailAfter('M0 hold');
    assert.equal(tail[0], 'M108');
    assert.ok(!tail.includes('M114'), `no pause script: ${tail.join(' | ')}`);
    assert.deepEqual(tail.slice(-4), ['M104 S0', 'M140 S0', 'M106 S0', 'M84']);
  });

  for (const c of ['resume', 'toggle'] as const) {
    cell('paused', c, 'Resuming (head back where it was), then Printing', async () => {
      await into.paused();
      const mark = (await synced()).length;
      assert.equal((await jobCommand(rig, BODY[c])).status, 204);
      await waitJobState(rig, 'Printing');
      const tail = withoutSyncs((await synced()).slice(mark));
      assert.equal(tail[0], 'G90');
      assert.match(tail[1]!, /^G1 X[\d.]+ Y[\d.]+ F6000$/);
    });
  }
  cell('paused', 'cancel', 'cancelled from Paused', async () => {
    await into.paused();
    assert.equal((await jobCommand(rig, BODY.cancel)).status, 204);
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('paused', 'restart', 'the job ends (Restarted) and the same file starts from its first line', async () => {
    await into.paused();
    const mark = (await synced()).length;
    assert.equal((await jobCommand(rig, BODY.restart)).status, 204);
    await waitJobState(rig, 'Printing');
    assert.deepEqual((await history()).reason, 'Restarted');
    await rig.waitExecuted('the file from the top', (e) => e.slice(mark).includes('G1 Z0.3 F600'));
  });

  for (const c of ['pause', 'toggle'] as const) {
    cell('resuming', c, 'remembered, and applied once the resume has completed', async () => {
      await into.resuming();
      assert.equal((await jobCommand(rig, BODY[c])).status, 204);
      assert.equal(await state(), 'Resuming');
      await release();
      await waitJobState(rig, 'Paused');
      const tail = await tailAfter('M0 hold the resume');
      assert.ok(tail.indexOf('G90') >= 0 && tail.indexOf('M114') > tail.indexOf('G90'), `restored, then paused again: ${tail.join(' | ')}`);
    });
  }
  cell('resuming', 'cancel', 'cancelled while the resume waits', async () => {
    await into.resuming();
    assert.equal((await jobCommand(rig, BODY.cancel)).status, 204);
    assert.equal(await state(), 'Cancelling');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });

  // ---- firmware events that do something ---------------------------------------------------------------------

  cell('starting', 'action:pause', 'remembered: paused as soon as the job has started', async () => {
    const tried = during('STARTING', () => inject('action:pause'));
    await print('long.gcode');
    await tried;
    await waitJobState(rig, 'Paused');
  });
  cell('starting', 'action:cancel', 'remembered: cancelled as soon as the job has started', async () => {
    const tried = during('STARTING', () => inject('action:cancel'));
    await print('long.gcode');
    await tried;
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('starting', 'error', 'the job never starts', async () => {
    const before = (await history()).file.path;
    const tried = during('STARTING', () => inject('error'));
    const res = await rig.api('/api/files/local/short.gcode', { method: 'POST', json: { command: 'select', print: true } });
    await tried;
    assert.equal(res.status, 409);
    assert.equal(await state(), 'Operational');
    assert.equal((await history()).file.path, before, 'nothing recorded');
  });

  cell('printing', 'action:pause', 'the printer asks: paused with the pause script', async () => {
    await into.printing();
    const mark = (await synced()).length;
    inject('action:pause');
    await waitJobState(rig, 'Paused');
    assert.ok((await synced()).slice(mark).includes('G1 X5 Y215 F6000'));
  });
  cell('printing', 'action:paused', 'the printer paused itself: Paused at once, nothing sent', async () => {
    await into.printing();
    inject('action:paused');
    assert.equal(await state(), 'Paused');
    await waitFor('the printer idle', () => rig.gantry.printer.idle);
    const mark = (await synced()).length;
    await terminal(rig, 'M105');
    await waitFor('the printer idle', () => rig.gantry.printer.idle);
    assert.deepEqual(withoutSyncs((await synced()).slice(mark)), [], 'no M400/M114, no pause script, no more file');
  });
  cell('printing', 'action:cancel', 'the printer asks: cancelled', async () => {
    await into.printing();
    inject('action:cancel');
    assert.equal(await state(), 'Cancelling');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('printing', 'stream-done', 'the file is done: Finishing, then Operational; recorded as a success', async () => {
    await print('short.gcode');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'success');
  });
  cell('printing', 'error', 'the printer failed: the job ends as failed', async () => {
    await into.printing();
    inject('error');
    await waitJobState(rig, 'Operational');
    const h = await history();
    assert.deepEqual([h.result, h.reason], ['failed', 'injected failure']);
  });

  cell('pausing', 'action:paused', 'the printer holds the print itself: Paused at once; the pause script never runs', async () => {
    await into.pausing();
    inject('action:paused');
    assert.equal(await state(), 'Paused');
    await release();
    await waitFor('the printer idle', () => rig.gantry.printer.idle);
    assert.deepEqual(await tailAfter('M0 hold'), ['M108'], 'nothing after the M0 but our M108');
  });
  cell('pausing', 'action:resume', 'remembered, applied once the pause has completed', async () => {
    await into.pausing();
    inject('action:resume');
    await release();
    await waitJobState(rig, 'Printing');
  });
  cell('pausing', 'action:cancel', 'cancelled', async () => {
    await into.pausing();
    inject('action:cancel');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('pausing', 'prompt-shown', 'the printer waits for the user: Paused at once, without the pause script', async () => {
    await into.pausing();
    inject('prompt-shown');
    assert.equal(await state(), 'Paused');
    await release();
    await waitFor('the printer idle', () => rig.gantry.printer.idle);
    assert.deepEqual(await tailAfter('M0 hold'), ['M108']);
  });
  cell('pausing', 'heatup', 'a heat-up that starts while pausing is ended with M108', async () => {
    await into.pausing();
    await terminal(rig, 'M109 S250'); // waits behind the M0, starts when it ends
    await release();
    await waitJobState(rig, 'Paused');
    assert.deepEqual(after(await tailAfter('M0 hold'), 'M109 S250')[0], 'M108', 'M108 right behind the heat-up');
  });
  cell('pausing', 'stream-done', 'remembered: the job finishes once it is printing again', async () => {
    await into.pausing();
    inject('stream-done');
    await release();
    await waitJobState(rig, 'Paused');
    assert.equal((await jobCommand(rig, BODY.resume)).status, 204);
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'success');
  });
  cell('pausing', 'error', 'the job ends as failed', async () => {
    await into.pausing();
    inject('error');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'failed');
  });

  cell('paused', 'action:resume', 'the printer asks: resumed with the head put back', async () => {
    await into.paused();
    const mark = (await synced()).length;
    inject('action:resume');
    await waitJobState(rig, 'Printing');
    assert.equal(withoutSyncs((await synced()).slice(mark))[0], 'G90');
  });
  cell('paused', 'action:resumed', 'the printer resumed by itself: Printing at once, nothing restored', async () => {
    await into.paused();
    const mark = (await synced()).length;
    inject('action:resumed');
    assert.equal(await state(), 'Printing');
    await rig.waitExecuted('the file going on', (e) => e.length > mark + 2);
    assert.ok(!(await synced()).slice(mark).some((l) => /F6000$/.test(l)), 'no move back over the part');
  });
  cell('paused', 'action:cancel', 'cancelled', async () => {
    await into.paused();
    inject('action:cancel');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('paused', 'stream-done', 'remembered: the job finishes once resumed', async () => {
    await into.paused();
    inject('stream-done');
    assert.equal(await state(), 'Paused');
    assert.equal((await jobCommand(rig, BODY.resume)).status, 204);
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'success');
  });
  cell('paused', 'error', 'the job ends as failed', async () => {
    await into.paused();
    inject('error');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'failed');
  });

  cell('resuming', 'action:pause', 'remembered, applied once the resume has completed', async () => {
    await into.resuming();
    inject('action:pause');
    await release();
    await waitJobState(rig, 'Paused');
  });
  cell('resuming', 'action:paused', 'the printer holds the print: Paused at once; the resume never lets the file go', async () => {
    await into.resuming();
    inject('action:paused');
    assert.equal(await state(), 'Paused');
    await release();
    await waitFor('the printer idle', () => rig.gantry.printer.idle);
    const mark = (await synced()).length;
    await terminal(rig, 'M105');
    await waitFor('the printer idle', () => rig.gantry.printer.idle);
    assert.equal(await state(), 'Paused');
    assert.deepEqual(withoutSyncs((await synced()).slice(mark)), [], 'the file stays held');
  });
  cell('resuming', 'action:cancel', 'cancelled', async () => {
    await into.resuming();
    inject('action:cancel');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('resuming', 'stream-done', 'remembered: the job finishes once the resume has completed', async () => {
    await into.resuming();
    inject('stream-done');
    await release();
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'success');
  });
  cell('resuming', 'error', 'the job ends as failed', async () => {
    await into.resuming();
    inject('error');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'failed');
  });

  cell('cancelling', 'heatup', 'a heat-up that starts while cancelling is ended with M108', async () => {
    await into.cancelling();
    await terminal(rig, 'M109 S250'); // behind the dwell
    await waitJobState(rig, 'Operational');
    assert.equal(after(await tailAfter(`G4 P${3 * 1000 * 200}`), 'M109 S250')[0], 'M108');
    assert.equal((await history()).result, 'cancelled');
  });
  cell('cancelling', 'error', 'the job ends as failed', async () => {
    await into.cancelling();
    inject('error');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'failed');
  });
  // as OctoPrint, whose Finishing is a printing state: the moves in the printer run out, then the cancel script
  for (const [input, act] of [['cancel', () => rig.gantry.jobs.request('cancel')], ['action:cancel', () => inject('action:cancel')]] as const) {
    cell('finishing', input, 'Cancelling: the job ends cancelled, with the cancel script, not as a success', async () => {
      const tried = during('FINISHING', () => {
        act();
        assert.equal(rig.gantry.jobs.state, 'cancelling');
      });
      await print('short.gcode');
      await tried;
      await waitJobState(rig, 'Operational');
      assert.deepEqual(withoutSyncs(await synced()).slice(-4), ['M104 S0', 'M140 S0', 'M106 S0', 'M84']);
      assert.equal((await history()).result, 'cancelled');
    });
  }
  cell('finishing', 'error', 'the job ends as failed', async () => {
    const tried = during('FINISHING', () => inject('error'));
    await print('short.gcode');
    await tried;
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'failed');
  });

  test('a disconnect on request ends a paused job (as failed): no job outlives its printer, and the next one starts', async () => {
    await into.paused();
    assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'disconnect' } })).status, 204);
    await waitJobState(rig, 'Offline');
    await waitFor('the job ended', () => !rig.gantry.jobs.active);
    assert.deepEqual([(await history()).result, (await history()).reason], ['failed', 'The printer is offline']);
    assert.equal((await rig.api('/api/connection', { method: 'POST', json: { command: 'connect', port: 'VIRTUAL', baudrate: 0 } })).status, 204);
    await waitOperational(rig);
    await print('short.gcode');
    await waitJobState(rig, 'Operational');
    assert.equal((await history()).result, 'success');
  });

  test('every cell of the table was tried', () => {
    const missing: string[] = [];
    for (const s of JOB_STATES) for (const input of [...JOB_COMMANDS, ...FIRMWARE_EVENTS]) if (!covered.has(cellKey(s, input))) missing.push(cellKey(s, input));
    assert.deepEqual(missing, []);
  });
});
