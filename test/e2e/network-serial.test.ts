// socket:// and rfc2217:// reach a printer over TCP (ser2net, ESP3D, a remote Pi).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/events.js';
import { createLogger } from '../../src/log.js';
import { Printer } from '../../src/printer/printer.js';
import { startVirtualPrinterTcp } from '../../src/sim/run.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

for (const scheme of ['socket', 'rfc2217'] as const) {
  test(`${scheme}:// connects, handshakes and carries commands; a dropped link is reported`, async () => {
    const sim = await startVirtualPrinterTcp(0, { speedFactor: 200 });
    sim.printer.keepExecuted = true;
    const bus = new EventBus();
    const printer = new Printer({}, { bus: bus.scope('printer'), log: createLogger('silent') });
    try {
      await printer.connect(`${scheme}://127.0.0.1:${sim.port}`, 115200);
      assert.equal(printer.stateText, 'Operational');
      await waitFor('firmware', () => printer.firmware);
      const pos = nextEvent(bus, 'printer.position', (p) => p.position.x === 5);
      printer.commands(['G1 X5 F3000', 'M114']);
      await pos;
      assert.ok(sim.printer.executed.includes('G1 X5 F3000'));
      const lost = nextEvent(bus, 'printer.state', (s) => s.state === 'CLOSED_WITH_ERROR');
      await sim.stop();
      assert.match((await lost).error, /disconnected/);
    } finally {
      await printer.close();
      await sim.stop();
    }
  });
}

test('an unreachable network printer fails with a clear error', async () => {
  const printer = new Printer({}, { bus: new EventBus().scope('printer'), log: createLogger('silent') });
  await assert.rejects(printer.connect('socket://127.0.0.1:1', 115200), /Cannot connect to socket:\/\/127\.0\.0\.1:1/);
  assert.equal(printer.stateText, 'Offline after error');
  assert.match(printer.error, /Cannot connect/);
});
