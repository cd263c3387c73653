// What resume sends to put a paused print back (pure: the pause's record and the file's modes in, lines out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MotionModes } from '../../src/jobs/file-line-source.js';
import { restoreCommands } from '../../src/jobs/pause-state.js';

const modes: MotionModes = { absoluteXYZ: true, absoluteE: true, feedrate: 1800, z: 0.6, e: 28.7, fan: 255 };
const targets = { tools: new Map<number, number>(), bed: null };
const noHeaters = { tools: new Map() };

test('with the position the pause read: the head goes back to it, unretracts and the extruder counts on from there', () => {
  const lines = restoreCommands({ position: { x: 129.2, y: 129.5, z: 0.6, e: 28.76 }, targets }, undefined, noHeaters, modes);
  assert.deepEqual(lines, ['G90', 'G1 X129.2 Y129.5 F6000', 'G1 Z0.6 F600', 'M83', 'G1 E2 F2700', 'M82', 'G92 E28.76', 'G90', 'G1 F1800']);
});

test('without it (the printer never answered M114): back down to the file\'s height and its extrusion mode, no guessed X/Y', () => {
  const lines = restoreCommands({ position: undefined, targets }, undefined, noHeaters, modes);
  assert.deepEqual(lines, ['G90', 'G1 Z0.6 F600', 'M82', 'G90', 'G1 F1800']);
  // a file in relative extrusion stays in it after a pause script's M83 as before
  assert.ok(restoreCommands({ position: undefined, targets }, undefined, noHeaters, { ...modes, absoluteE: false }).includes('M83'));
});
