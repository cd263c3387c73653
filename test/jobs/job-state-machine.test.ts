// The job state table: complete, consistent with its comment (the table a reader sees is the one that runs), and
// with the rules the issue asks for. The virtual-printer tests in test/e2e/job-*.test.ts exercise every cell live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { COMMAND_TABLE, EVENT_TABLE, FIRMWARE_EVENTS, JOB_COMMANDS, JOB_STATES, type Outcome, decide } from '../../src/jobs/job-state-machine.js';

const SOURCE = fileURLToPath(new URL('../../../src/jobs/job-state-machine.ts', import.meta.url));

/** An outcome as the comment table writes it. */
function short(o: Outcome): string {
  switch (o.kind) {
    case 'run':
      return `run ${o.step}`;
    case 'defer':
      return `defer ${o.step}`;
    case 'abort-heatup':
      return 'M108';
    case 'noop':
      return o.clear ? 'noop (clear)' : 'noop';
    case 'reject':
      return '409';
  }
}

/** The rows of a `state | … | …` comment table following the line that starts with `header`. */
function commentTable(source: string, header: string): Map<string, string[]> {
  const lines = source.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`//   state `) && l.includes(header));
  assert.ok(at >= 0, `comment table with ${header}`);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('//   ') || !line.includes('|')) break;
    const cells = line.slice(5).split('|').map((c) => c.trim());
    rows.set(cells[0]!, cells.slice(1));
  }
  return rows;
}

test('every state has a cell for every command and every firmware event', () => {
  for (const s of JOB_STATES) {
    assert.deepEqual(Object.keys(COMMAND_TABLE[s]).sort(), [...JOB_COMMANDS].sort(), s);
    assert.deepEqual(Object.keys(EVENT_TABLE[s]).sort(), [...FIRMWARE_EVENTS].sort(), s);
  }
});

test('the comment tables in the source say exactly what the data does', async () => {
  const source = await readFile(SOURCE, 'utf8');
  const commands = commentTable(source, '| start ');
  const events = commentTable(source, '| prompt shown ');
  assert.deepEqual([...commands.keys()], [...JOB_STATES]);
  assert.deepEqual([...events.keys()], [...JOB_STATES]);
  for (const s of JOB_STATES) {
    assert.deepEqual(commands.get(s), JOB_COMMANDS.map((c) => short(decide(s, c))), `commands in ${s}`);
    assert.deepEqual(events.get(s), FIRMWARE_EVENTS.map((e) => short(decide(s, e))), `events in ${s}`);
  }
});

test('the rules: nothing is lost, nothing is stuck, firmware events are never refused', () => {
  // a resume while pausing is remembered, and so is a pause while resuming
  assert.deepEqual(decide('pausing', 'resume'), { kind: 'defer', step: 'resume' });
  assert.deepEqual(decide('pausing', 'action:resume'), { kind: 'defer', step: 'resume' });
  assert.deepEqual(decide('resuming', 'pause'), { kind: 'defer', step: 'pause' });
  // cancel works from every state a job can be in, except once it is already ending
  for (const s of ['printing', 'pausing', 'paused', 'resuming'] as const) assert.deepEqual(decide(s, 'cancel'), { kind: 'run', step: 'cancel' }, s);
  assert.equal(decide('cancelling', 'cancel').kind, 'noop');
  // a heat-up met while pausing or cancelling is cut short; the firmware holding the print ends a pause at once
  assert.equal(decide('pausing', 'heatup').kind, 'abort-heatup');
  assert.equal(decide('cancelling', 'heatup').kind, 'abort-heatup');
  assert.deepEqual(decide('pausing', 'prompt-shown'), { kind: 'run', step: 'hold' });
  // an error ends any job
  for (const s of JOB_STATES) if (s !== 'idle') assert.deepEqual(decide(s, 'error'), { kind: 'run', step: 'fail' }, s);
  for (const s of JOB_STATES) for (const e of FIRMWARE_EVENTS) assert.notEqual(decide(s, e).kind, 'reject', `${e} in ${s}`);
  // OctoPrint's 409s: nothing to pause or cancel without a job, restart only when paused, start only when idle
  for (const c of ['pause', 'resume', 'toggle', 'cancel', 'restart'] as const) assert.equal(decide('idle', c).kind, 'reject', c);
  for (const s of JOB_STATES) {
    assert.equal(decide(s, 'start').kind === 'reject', s !== 'idle', `start in ${s}`);
    assert.equal(decide(s, 'restart').kind === 'reject', s !== 'paused', `restart in ${s}`);
  }
});
