import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TerminalLog } from '../../src/printer/terminal-log.js';

test('terminal: a reader gets the lines since it last looked, newest kept when more came than the ring holds', () => {
  const t = new TerminalLog(4);
  let seen = t.total;
  assert.deepEqual(t.since(seen), []);
  t.push('Send: M105');
  t.push('Recv: ok T:20');
  assert.deepEqual(t.since(seen), ['Send: M105', 'Recv: ok T:20']);
  seen = t.total;
  for (let i = 0; i < 7; i++) t.push(`Recv: ok ${i}`);
  assert.deepEqual(t.since(seen), ['Recv: ok 3', 'Recv: ok 4', 'Recv: ok 5', 'Recv: ok 6'], 'only what the ring still holds');
  assert.deepEqual(t.since(seen, 2), ['Recv: ok 5', 'Recv: ok 6'], 'and no more than asked for');
  assert.deepEqual(t.since(t.total), []);
  assert.deepEqual(t.lines(), ['Recv: ok 3', 'Recv: ok 4', 'Recv: ok 5', 'Recv: ok 6']);
});
