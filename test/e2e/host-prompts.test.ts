// Host prompts (Marlin's //action:prompt_*, as M0/M1 and M600 show them) through Gantry: the printer model keeps
// the open one, the push socket shows and closes it as OctoPrint's action_command_prompt plugin does, the API
// answers it, and the answer (M876) jumps the queue so it reaches a printer that waits in M0 or M600.
import { after as afterAll, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { addUser, asSession, login } from '../helpers/accounts.js';
import { after, jobState, pushedStates, signedInPush, terminal, waitJobState } from '../helpers/job-control.js';
import type { PushClient } from '../helpers/push-client.js';
import { waitFor } from '../helpers/wait.js';

const PROMPT = '/api/plugin/action_command_prompt';

interface PromptView {
  text?: string;
  choices?: string[];
}

function promptMessages(c: PushClient): Record<string, unknown>[] {
  return c
    .of('plugin')
    .map((m) => m.msg['plugin'] as { plugin: string; data: Record<string, unknown> })
    .filter((p) => p.plugin === 'action_command_prompt')
    .map((p) => p.data);
}

describe('host prompts', () => {
  let rig: GantryRig;
  let push: PushClient;
  const prompt = async () => (await (await rig.api(PROMPT)).json()) as PromptView;
  const select = (choice: unknown) => rig.api(PROMPT, { method: 'POST', json: { command: 'select', choice } });
  const waitPrompt = (text: string, timeoutMs = 10_000) => waitFor(`prompt "${text}"`, async () => ((await prompt()).text === text ? true : undefined), timeoutMs);

  before(async () => {
    rig = await gantryRig();
    await waitOperational(rig);
    push = await signedInPush(rig);
  });
  afterAll(async () => {
    push.close();
    await rig.close();
  });

  test('M0 from the terminal: the prompt in the API and on the push socket; the answer is M876 S0, sent while M0 waits', async () => {
    assert.deepEqual(await prompt(), {}, 'no prompt: an empty object, as OctoPrint');
    assert.equal((await select(0)).status, 409, 'nothing to answer');
    await terminal(rig, 'M0 Load the spool');
    await waitPrompt('Load the spool');
    assert.deepEqual(await prompt(), { text: 'Load the spool', choices: ['Continue'] });
    assert.deepEqual(promptMessages(push).at(-1), { action: 'show', text: 'Load the spool', choices: ['Continue'] });
    // a page opened now is told too, right after its history
    const late = await signedInPush(rig);
    try {
      await waitFor('the open prompt sent to a new client', () => promptMessages(late).length === 1);
      assert.deepEqual(promptMessages(late)[0], { action: 'show', text: 'Load the spool', choices: ['Continue'] });
    } finally {
      late.close();
    }
    assert.equal((await select(1)).status, 400, 'no such choice');
    assert.equal((await select('0')).status, 400, 'a number, as OctoPrint wants');
    assert.equal((await rig.api(PROMPT, { method: 'POST', json: { command: 'answer', choice: 0 } })).status, 400);
    assert.ok(!(await rig.executed()).includes('M876 S0'), 'nothing sent for the refused ones');

    assert.equal((await select(0)).status, 204);
    assert.deepEqual(await prompt(), {}, 'closed at once');
    assert.deepEqual(promptMessages(push).at(-1), { action: 'close' });
    const tail = await rig.waitExecuted('M876 after the M0', (e) => e.includes('M0 Load the spool') && after(e, 'M0 Load the spool').includes('M876 S0'));
    assert.deepEqual(after(tail, 'M0 Load the spool'), ['M876 S0']);
    assert.equal(await jobState(rig), 'Operational');
  });

  test('M0 in a job: the job stays Printing while the prompt is open; the answer lets the file go on to its end', async () => {
    const file = ['G1 X10 Y10 F3000', 'M0 Check the first layer', 'G1 X20 Y10 F3000', 'G1 X30 Y10 F3000', ''].join('\n');
    assert.equal((await uploadGcode(rig, 'm0.gcode', file, { print: 'true' })).status, 201);
    await waitPrompt('Check the first layer');
    assert.equal(await jobState(rig), 'Printing', 'the printer waits; the job is not paused by Gantry');
    assert.ok(!(await rig.executed()).includes('G1 X20 Y10 F3000'));
    assert.equal((await select(0)).status, 204);
    await waitJobState(rig, 'Operational');
    assert.deepEqual(after(await rig.executed(), 'M0 Check the first layer'), ['M876 S0', 'G1 X20 Y10 F3000', 'G1 X30 Y10 F3000', 'M400']);
    const history = (await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string }[] };
    assert.equal(history.jobs[0]!.result, 'success');
  });

  test('pause while M0 waits for the user: Paused at once without the pause script; resume, then the answer lets the file go on', async () => {
    const file = ['G1 X10 Y10 F3000', 'M0 Remove the brim', 'G1 X20 Y10 F3000', 'G1 X30 Y10 F3000', ''].join('\n');
    assert.equal((await uploadGcode(rig, 'm0-pause.gcode', file, { print: 'true' })).status, 201);
    await waitPrompt('Remove the brim');
    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'pause', action: 'pause' } })).status, 204);
    assert.equal(await jobState(rig), 'Paused', 'the printer already holds the print: nothing to wait for');
    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'pause', action: 'resume' } })).status, 204);
    await waitJobState(rig, 'Printing');
    assert.deepEqual(await prompt(), { text: 'Remove the brim', choices: ['Continue'] }, 'the printer still asks');
    assert.equal((await select(0)).status, 204);
    await waitJobState(rig, 'Operational');
    assert.deepEqual(after(await rig.executed(), 'M0 Remove the brim'), ['M876 S0', 'G1 X20 Y10 F3000', 'G1 X30 Y10 F3000', 'M400'], 'no M400/M114 or pause script for the prompt (the M400 is the end of the print)');
  });

  test('cancel while M0 waits for the user: M108 ends the wait, the prompt goes away, the cancel script runs', async () => {
    const file = ['G1 X10 Y10 F3000', 'M0 Inspect the print', 'G1 X20 Y10 F3000', ''].join('\n');
    assert.equal((await uploadGcode(rig, 'm0-cancel.gcode', file, { print: 'true' })).status, 201);
    await waitPrompt('Inspect the print');
    assert.equal((await rig.api('/api/job', { method: 'POST', json: { command: 'cancel' } })).status, 204);
    await waitJobState(rig, 'Operational');
    await waitFor('the prompt closed', async () => Object.keys(await prompt()).length === 0);
    assert.deepEqual(promptMessages(push).at(-1), { action: 'close' });
    // the simulator records as it executes, a moment after the host saw the ok: wait for the script's last line
    const tail = after(await rig.waitExecuted('the cancel script executed', (e) => after(e, 'M0 Inspect the print').at(-1) === 'M84'), 'M0 Inspect the print');
    assert.equal(tail[0], 'M108');
    assert.ok(!tail.includes('G1 X20 Y10 F3000'), 'the file did not go on');
    assert.deepEqual(tail.slice(-4), ['M104 S0', 'M140 S0', 'M106 S0', 'M84']);
  });

  test('an M600 filament change in a job is finished from Gantry: Paused by the printer, each prompt answered, Printing again, done', async () => {
    const file = ['G90', 'G1 X50 Y50 Z5 F6000', 'G1 X60 Y50 E1 F1200', 'M600 ; change filament', 'G1 X70 Y50 E1 F1200', 'G1 X80 Y50 E1 F1200', ''].join('\n');
    const states = pushedStates(push).length;
    assert.equal((await uploadGcode(rig, 'm600.gcode', file, { print: 'true' })).status, 201);
    await waitJobState(rig, 'Paused');
    await waitPrompt('Nozzle Parked');
    assert.deepEqual(await prompt(), { text: 'Nozzle Parked', choices: ['Continue'] });
    assert.equal((await select(0)).status, 204);
    await waitPrompt('Paused');
    assert.deepEqual(await prompt(), { text: 'Paused', choices: ['PurgeMore', 'Continue'] });
    const shows = promptMessages(push).length;
    assert.equal((await select(0)).status, 204, 'purge more');
    await waitFor('the purge-or-continue question again', async () => promptMessages(push).length > shows + 1 && (await prompt()).text === 'Paused');
    assert.equal(await jobState(rig), 'Paused', 'still the printer\'s pause');
    assert.equal((await select(1)).status, 204, 'continue');
    await waitJobState(rig, 'Operational');
    const tail = after(await rig.executed(), 'M600');
    assert.deepEqual(tail, ['M876 S0', 'M876 S0', 'M876 S1', 'G1 X70 Y50 E1 F1200', 'G1 X80 Y50 E1 F1200', 'M400'], 'no pause or resume script (the M400 is the end of the print): the printer parked and came back itself');
    assert.deepEqual(pushedStates(push).slice(states), ['STARTING', 'PRINTING', 'PAUSED', 'PRINTING', 'FINISHING', 'OPERATIONAL']);
    const history = (await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string }[] };
    assert.equal(history.jobs[0]!.result, 'success');
  });

  test('answering a prompt needs CONTROL, as OctoPrint\'s plugin wants its interact permission', async () => {
    await addUser(rig, 'viewer', 'viewer-password', 'readonly');
    await addUser(rig, 'maker', 'maker-password', 'user');
    const viewer = await login(rig, 'viewer', 'viewer-password');
    const maker = await login(rig, 'maker', 'maker-password');
    await terminal(rig, 'M1');
    await waitPrompt('M1 Stop');
    assert.equal((await asSession(rig, viewer, PROMPT)).status, 403);
    assert.equal((await asSession(rig, viewer, PROMPT, { method: 'POST', json: { command: 'select', choice: 0 } })).status, 403);
    assert.equal((await asSession(rig, maker, PROMPT, { method: 'POST', json: { command: 'select', choice: 0 } })).status, 204);
    assert.deepEqual(await prompt(), {});
    await rig.waitExecuted('the M1 answered', (e) => e.at(-1) === 'M876 S0');
  });
});

test('"echo:busy: paused for user" keeps the link alive however long M0 waits (short timeouts)', async () => {
  const rig = await gantryRig({}, { serialOverrides: { timeouts: { communication: 1000, busy: 3000, connection: 5000, detection: 2500 } } });
  try {
    await waitOperational(rig);
    let busy = 0;
    const off = rig.gantry.bus.on('printer.log', (l) => l.line.includes('echo:busy: paused for user') && busy++);
    try {
      await terminal(rig, 'M0');
      // four keepalives are 8 s: eight communication timeouts, more than enough to drop an idle link twice over
      await waitFor('four busy lines', () => busy >= 4, 20_000);
    } finally {
      off();
    }
    assert.equal(rig.gantry.printer.state, 'OPERATIONAL');
    assert.equal(rig.gantry.printer.error, '');
    assert.equal((await rig.api('/api/plugin/action_command_prompt', { method: 'POST', json: { command: 'select', choice: 0 } })).status, 204);
    await rig.waitExecuted('M0 answered', (e) => e.at(-1) === 'M876 S0');
  } finally {
    await rig.close();
  }
});
