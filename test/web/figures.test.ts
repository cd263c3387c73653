// How the page words a printer's figures (public/src/figures.ts), in Node: heater lines for the farm cards and the
// colour of each state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heaterName, heatersLine, isLinked, progressFigures, stateClass } from '../../public/src/figures.js';

test('heaters: nozzles first, readings in whole degrees, the target only when one is set', () => {
  assert.equal(heatersLine({ bed: { actual: 59.6, target: 60 }, tool0: { actual: 204.4, target: 210 } }), 'Nozzle 204/210 °C · Bed 60/60 °C');
  assert.equal(heatersLine({ tool0: { actual: 23.2, target: 0 }, bed: { actual: 22.9, target: null } }), 'Nozzle 23 °C · Bed 23 °C');
  assert.equal(heatersLine({ chamber: { actual: 30, target: 40 }, tool1: { actual: null, target: 200 }, tool0: { actual: 199.5, target: 200 } }), 'Nozzle 200/200 °C · Nozzle 1 –/200 °C · Chamber 30/40 °C');
  assert.equal(heatersLine(undefined), '');
  // OctoPrint's answer may carry more than heaters (a `history` when asked for it): only heaters are shown
  assert.equal(heatersLine({ tool0: { actual: 20, target: 0 }, history: [] as unknown as { actual: null; target: null } }), 'Nozzle 20 °C');
  assert.deepEqual(['tool0', 'tool2', 'bed', 'chamber'].map(heaterName), ['Nozzle', 'Nozzle 2', 'Bed', 'Chamber']);
});

test('states: the pill colour and whether the printer answers its printer API', () => {
  assert.deepEqual(['OPERATIONAL', 'PRINTING', 'PAUSED', 'ERROR', 'CLOSED_WITH_ERROR', 'OFFLINE', 'CONNECTING'].map(stateClass), ['ok', 'busy', 'warn', 'bad', 'bad', '', '']);
  assert.deepEqual(['OPERATIONAL', 'PRINTING', 'PAUSED', 'OFFLINE', 'DETECT_SERIAL', 'ERROR'].map(isLinked), [true, true, true, false, false, false]);
});

test("a print's figures, as the job card and the farm cards both show them", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  assert.deepEqual(progressFigures({ completion: 42.25, printTimeLeft: 600 }, { printing: true, paused: false }, now), { pct: 42.25, left: 600, endsAt: new Date(now + 600_000) });
  // paused: still an end time (at this pace); idle: the time left as reported, no end time
  assert.deepEqual(progressFigures({ completion: 50, printTimeLeft: 60 }, { printing: false, paused: true }, now).endsAt, new Date(now + 60_000));
  assert.deepEqual(progressFigures({ completion: 100, printTimeLeft: 0 }, { printing: false, paused: false }, now), { pct: 100, left: 0, endsAt: null });
  assert.deepEqual(progressFigures({ completion: null, printTimeLeft: null }, { printing: true, paused: false }, now), { pct: 0, left: null, endsAt: null });
  assert.equal(progressFigures({ completion: 100.4, printTimeLeft: null }, { printing: true, paused: false }, now).pct, 100);
});
