// MQTT commands in arrival order (src/mqtt/in-order.ts), and the one that never waits in line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InOrder } from '../../src/mqtt/in-order.js';
import { isEmergencyStop } from '../../src/mqtt/commands.js';

test('work runs one piece at a time in the order handed over, whatever each awaits; a failure does not stop the line', async () => {
  const q = new InOrder();
  const done: number[] = [];
  let running = 0;
  const piece = (n: number, ms: number, fail = false) =>
    q.run(async () => {
      assert.equal(running++, 0, 'one at a time');
      await new Promise((r) => setTimeout(r, ms)); // the first awaits longest: side by side it would end last
      running--;
      if (fail) throw new Error(`piece ${n} failed`);
      done.push(n);
      return n;
    });
  const results = await Promise.allSettled([piece(1, 30), piece(2, 1, true), piece(3, 10), piece(4, 0)]);
  assert.deepEqual(done, [1, 3, 4]);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [1, 'piece 2 failed', 3, 4]);
});

test('the emergency stop is known by its button and by its operation, and nothing else is', () => {
  assert.equal(isEmergencyStop('emergency_stop'), true);
  assert.equal(isEmergencyStop('printer.emergencyStop'), true);
  for (const other of ['pause', 'cancel', 'queue.add', 'job.cancel', 'bed_target', '']) assert.equal(isEmergencyStop(other), false, other);
});
