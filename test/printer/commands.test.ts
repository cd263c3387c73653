import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaterError, heaterOf, targetLine } from '../../src/printer/commands.js';

const layout = { tools: 2, bed: true, chamber: false };

test('a target carries the printer\'s offset for that heater; 0 stays 0 (off); the active extruder has none of its own', () => {
  const offsets = new Map([['tool1', 5], ['bed', -3], ['chamber', 2]]);
  assert.equal(targetLine('tool1', 200, offsets), 'M104 T1 S205');
  assert.equal(targetLine('tool0', 200, offsets), 'M104 T0 S200');
  assert.equal(targetLine('tool', 200, offsets), 'M104 S200');
  assert.equal(targetLine('bed', 60, offsets), 'M140 S57');
  assert.equal(targetLine('chamber', 40, offsets), 'M141 S42');
  assert.equal(targetLine('tool1', 0, offsets), 'M104 T1 S0');
  assert.equal(targetLine('bed', 0, offsets), 'M140 S0');
});

test('a heater name is checked against the printer profile', () => {
  assert.equal(heaterOf('tool1', layout), 'tool1');
  assert.equal(heaterOf('bed', layout), 'bed');
  assert.equal(heaterOf('tool', layout, true), 'tool');
  const kind = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      assert.ok(err instanceof HeaterError);
      return [err.kind, err.message];
    }
    return undefined;
  };
  assert.deepEqual(kind(() => heaterOf('tool2', layout)), ['absent', 'Invalid tool: tool2 (the printer profile has 2)']);
  assert.deepEqual(kind(() => heaterOf('chamber', layout)), ['absent', 'The printer profile has no heated chamber']);
  assert.deepEqual(kind(() => heaterOf('tool', layout)), ['unknown', 'Invalid tool: tool']);
  assert.deepEqual(kind(() => heaterOf('nozzle', layout)), ['unknown', 'Invalid tool: nozzle']);
});
