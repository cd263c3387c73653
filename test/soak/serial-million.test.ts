// A million lines through a faulty link, one line in flight: checksum and line-number errors, busy, lost and
// garbled oks. Every line is executed once, in order. Compared as it goes, so memory stays flat however long
// it runs (SOAK_LINES sets the count; `make soak` runs it, `make test` runs a shorter one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LineSource } from '../../src/printer/protocol.js';
import { printerRig } from '../helpers/printer-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const LINES = Number(process.env['SOAK_LINES'] ?? 100_000);
const HOUSEKEEPING = /^M(105|110|115|155)\b/;
const lineAt = (i: number) => `G1 X${(i % 200) + 0.5} Y${(i * 7) % 200} E${(i * 0.013).toFixed(3)} F${1800 + (i % 7)}`;

function generated(n: number): LineSource {
  let i = 0;
  return {
    next: () => (i < n ? lineAt(i++) : undefined),
    get done() {
      return i >= n;
    },
  };
}

for (const windowed of [false, true]) {
  test(`${LINES.toLocaleString('en-US')} lines ${windowed ? 'windowed (ADVANCED_OK)' : 'one in flight'} with checksum and line errors, busy, lost and garbled oks: each executed once, in order`, { timeout: 3_600_000 }, async () => {
    const rig = await printerRig(
      { speedFactor: 1e6, checksumErrorRate: 0.01, lineErrorRate: 0.002, busyRate: 0.005, lostOkRate: 0.0001, garbledOkRate: 0.001, advancedOk: windowed, seed: windowed ? 11 : 10 },
      { protocol: { communicationTimeout: 150, maxTimeoutsPrinting: 5, windowed, maxWindow: 4 } },
    );
    let checked = 0;
    let mismatch: string | undefined;
    const check = () => {
      const batch = rig.sim.printer.executed.splice(0);
      for (const cmd of batch) {
        if (HOUSEKEEPING.test(cmd)) continue;
        if (mismatch === undefined && cmd !== lineAt(checked)) mismatch = `line ${checked}: executed "${cmd}", expected "${lineAt(checked)}"`;
        checked++;
      }
    };
    const checker = setInterval(check, 100);
    try {
      await rig.connected();
      const done = nextEvent(rig.bus, 'printer.stream-done', () => true, 3_600_000);
      rig.printer.stream(generated(LINES));
      await done;
      await waitFor('the last lines executed', () => (check(), checked >= LINES || mismatch !== undefined), 30_000);
      check();
      assert.equal(mismatch, undefined);
      assert.equal(checked, LINES, 'as many lines executed as sent');
      assert.equal(rig.printer.stateText, 'Operational');
      assert.ok(rig.printer.protocol!.resendCount >= LINES / 200, `the faults really happened: ${rig.printer.protocol!.resendCount} resends`);
      assert.equal(rig.sim.printer.overruns, 0, "the firmware's buffer never overrun");
    } finally {
      clearInterval(checker);
      await rig.close();
    }
  });
}
