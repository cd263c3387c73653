// Gantry's job events as OctoPrint's push events: the names and payload keys OctoPrint's clients read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GantryEvents } from '../../src/events.js';
import type { JobRunner } from '../../src/jobs/job-runner.js';
import { octoEvent } from '../../src/push/events-map.js';

// the job events below never ask the runner anything
const d = { jobs: {} as JobRunner };
const ended = (result: GantryEvents['job.ended']['result'], reason: string | null): GantryEvents['job.ended'] => ({
  printerId: 'printer', path: 'parts/bracket.gcode', result, reason, fromQueue: false, printTime: 1234, size: 5678, user: 'ana',
});
const events = (name: keyof GantryEvents, payload: unknown) =>
  octoEvent(name, payload, d, { lastZ: null }).map((m) => (m as { event: { type: string; payload: Record<string, unknown> } }).event);

test('a cancelled print is PrintCancelled and then PrintFailed with reason "cancelled", as OctoPrint sends them', () => {
  const out = events('job.ended', ended('cancelled', 'Cancelled'));
  assert.deepEqual(out.map((e) => e.type), ['PrintCancelled', 'PrintFailed']);
  assert.equal(out[1]!.payload['reason'], 'cancelled');
  for (const e of out) assert.deepEqual([e.payload['name'], e.payload['path'], e.payload['origin'], e.payload['size'], e.payload['time'], e.payload['user']], ['bracket.gcode', 'parts/bracket.gcode', 'local', 5678, 1234, 'ana']);
});

test('a failed print is PrintFailed with reason "error" and the message in error; a finished one PrintDone alone', () => {
  const failed = events('job.ended', ended('failed', 'The printer disconnected'));
  assert.deepEqual(failed.map((e) => [e.type, e.payload['reason'], e.payload['error']]), [['PrintFailed', 'error', 'The printer disconnected']]);
  assert.deepEqual(events('job.ended', ended('success', null)).map((e) => e.type), ['PrintDone']);
});

test('selecting and deselecting a file are FileSelected (name, path, origin, size, user) and FileDeselected', () => {
  const [sel] = events('job.selected', { printerId: 'printer', path: 'parts/bracket.gcode', name: 'bracket.gcode', size: 5678, user: 'ana' });
  assert.deepEqual(sel, { type: 'FileSelected', payload: { name: 'bracket.gcode', path: 'parts/bracket.gcode', origin: 'local', size: 5678, owner: 'ana', user: 'ana' } });
  assert.deepEqual(events('job.deselected', { printerId: 'printer' }), [{ type: 'FileDeselected', payload: {} }]);
});
