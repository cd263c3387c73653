// After a cancel every heater is off: what the user's cancel script lacks is added, and nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingHeatersOff } from '../../src/jobs/heaters-off.js';
import { defaultScripts } from '../../src/jobs/scripts.js';

test('the default cancel script needs nothing more on a single-tool printer with a bed', () => {
  assert.deepEqual(missingHeatersOff(defaultScripts().cancel, { tools: 1, bed: true, chamber: false }), []);
});

test('a script without heater lines gets every heater off; several tools each by number', () => {
  assert.deepEqual(missingHeatersOff(['G91', 'G1 Z10', 'M84'], { tools: 2, bed: true, chamber: true }), ['M104 T0 S0', 'M104 T1 S0', 'M140 S0', 'M141 S0']);
  // "M104 S0" only turns off the active tool: on two tools both still get theirs
  assert.deepEqual(missingHeatersOff(['M104 S0', 'M140 S0'], { tools: 2, bed: true, chamber: false }), ['M104 T0 S0', 'M104 T1 S0']);
  assert.deepEqual(missingHeatersOff(['M104 T1 S0 ; off', 'M104 T0 S0', 'M140 S0', 'M141 S0'], { tools: 2, bed: true, chamber: true }), []);
  // a target that is not 0 does not count; no bed, no M140
  assert.deepEqual(missingHeatersOff(['M104 S150', 'M140 S0'], { tools: 1, bed: false, chamber: false }), ['M104 T0 S0']);
});
