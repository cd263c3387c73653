// Host prompts and heat-ups as the printer model tracks them from the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptTracker } from '../../src/printer/host-prompt.js';
import { HEAT_WAITS, HeatWaitTracker, bareCommand } from '../../src/printer/heat-wait.js';
import { LONG_RUNNING, commandKey } from '../../src/printer/gcode.js';
import { Harness } from '../helpers/engine-harness.js';

test('Marlin M600 prompts: begin, buttons, show; the next begin replaces; end closes', () => {
  const p = new PromptTracker();
  assert.equal(p.action('prompt_end', '', 1), undefined, 'nothing shown: nothing to close');
  assert.equal(p.action('prompt_begin', 'Nozzle Parked', 1), undefined);
  assert.equal(p.action('prompt_button', 'Continue', 1), undefined);
  assert.equal(p.shown, undefined, 'not shown before prompt_show');
  assert.deepEqual(p.action('prompt_show', '', 1), { text: 'Nozzle Parked', choices: ['Continue'] });
  assert.equal(p.action('prompt_begin', 'Paused', 1), null, 'a new begin closes the shown one');
  p.action('prompt_choice', 'PurgeMore', 1); // OctoPrint's name for a button
  p.action('prompt_button', 'Continue', 1);
  assert.deepEqual(p.action('prompt_show', '', 1), { text: 'Paused', choices: ['PurgeMore', 'Continue'] });
  assert.equal(p.action('prompt_end', '', 1), null);
  assert.equal(p.shown, undefined);
  assert.equal(p.action('prompt_show', '', 0), undefined, 'show without begin shows nothing');
});

test('a prompt is stale once a line sent after it was acknowledged (M108 ended the M0; Marlin sends no prompt_end)', () => {
  const p = new PromptTracker();
  p.action('prompt_begin', 'M0 Stop', 1);
  p.action('prompt_button', 'Continue', 1);
  p.action('prompt_show', '', 1); // M0 in flight
  assert.equal(p.ok(), false, "the M0's own ok");
  assert.ok(p.shown);
  assert.equal(p.ok(), true, 'the next line was acknowledged: the firmware no longer waits');
  assert.equal(p.shown, undefined);
});

test('heat-ups: from the wire line, over the oks of the lines ahead, ended by its own ok', () => {
  assert.equal(bareCommand('N12 M190 S60*93\n'), 'M190 S60');
  assert.equal(bareCommand('M109 S215 ; wait\n'), 'M109 S215');
  const h = new HeatWaitTracker();
  assert.equal(h.sent('N3 G28*16\n', 0), false);
  assert.equal(h.sent('N4 M109 S260*104\n', 1), true, 'one line still ahead of it (windowed)');
  assert.equal(h.command, 'M109 S260');
  assert.equal(h.ok(), false, "G28's ok");
  assert.equal(h.command, 'M109 S260');
  assert.equal(h.ok(), true, "its own ok ends it");
  assert.equal(h.command, undefined);
  h.sent('M190 S60\n', 0);
  assert.equal(h.reset(), true);
  assert.equal(h.command, undefined);
});

test('every heat-up goes out marked long-running, a move does not: the printer looks into the marked lines alone', () => {
  for (const key of HEAT_WAITS) assert.ok(LONG_RUNNING.has(key), `heat-up ${key} is long-running`);
  const h = new Harness();
  h.connect();
  const job = ['G28', 'G1 X10 Y10 E0.5', 'M109 S215', 'M190 S60', 'M191 S40', 'M116', 'M104 S200'];
  h.stream(job);
  for (let i = 0; i < job.length; i++) h.feed('ok');
  const flagOf = (cmd: string) => h.writes.find((w) => bareCommand(w.data) === cmd)?.longRunning;
  for (const cmd of job) {
    const heatUp = HEAT_WAITS.has(commandKey(cmd));
    assert.equal(flagOf(cmd), LONG_RUNNING.has(commandKey(cmd)), cmd);
    if (heatUp) assert.equal(flagOf(cmd), true, `${cmd} is looked into`);
  }
  assert.equal(flagOf('G1 X10 Y10 E0.5'), false);
  const tracker = new HeatWaitTracker();
  const started = h.writes.filter((w) => w.longRunning !== false && tracker.sent(w.data, 0)).map((w) => bareCommand(w.data));
  assert.deepEqual(started, ['M109 S215', 'M190 S60', 'M191 S40', 'M116']);
});
