// Host prompts and heat-ups as the printer model tracks them from the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptTracker } from '../../src/printer/host-prompt.js';
import { HeatWaitTracker, bareCommand } from '../../src/printer/heat-wait.js';

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
