// Streaming through a faulty link: nothing lost, nothing doubled, order kept; resets and unplugs end cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arraySource } from '../helpers/engine-harness.js';
import { executedJobLines, printerRig } from '../helpers/printer-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

function jobLines(n: number): string[] {
  // distinct lines, so a lost, doubled or swapped line shows in the comparison
  return Array.from({ length: n }, (_, i) => `G1 X${(i % 200) + 0.5} Y${(i * 7) % 200} E${(i * 0.013).toFixed(3)} F${1800 + (i % 7)}`);
}

test('10,000 lines with 2% checksum errors, 1% busy and 0.5% lost oks: the printer executes exactly what was sent', async () => {
  const rig = await printerRig(
    { speedFactor: 1e6, checksumErrorRate: 0.02, busyRate: 0.01, lostOkRate: 0.005, seed: 42 },
    { protocol: { communicationTimeout: 150, maxTimeoutsPrinting: 5 } },
  );
  try {
    await rig.connected();
    const lines = jobLines(10_000);
    const done = nextEvent(rig.bus, 'printer.stream-done', () => true, 120_000);
    rig.printer.stream(arraySource(lines));
    // a user at the terminal while it prints: these go between job lines without breaking either
    const user = ['M117 user one', 'M220 S110', 'M117 user two'];
    await waitFor('stream under way', () => rig.sim.printer.executed.length > 2000, 30_000, 5);
    rig.printer.commands(user.slice(0, 2));
    await waitFor('more progress', () => rig.sim.printer.executed.length > 6000, 30_000, 5);
    rig.printer.commands(user.slice(2));
    await done;
    assert.equal(rig.printer.stateText, 'Operational');
    const all = executedJobLines(rig.sim.printer.executed);
    assert.deepEqual(all.filter((c) => user.includes(c)), user, 'user commands executed once each, in order');
    const executed = all.filter((c) => !user.includes(c));
    assert.equal(executed.length, lines.length, 'same number of lines executed as sent');
    const firstDiff = executed.findIndex((l, i) => l !== lines[i]);
    assert.equal(firstDiff, -1, `first difference at line ${firstDiff}: ${executed[firstDiff]} vs ${lines[firstDiff]}`);
    const engine = rig.printer.protocol!;
    assert.ok(engine.resendCount >= 100, `the faults really happened: ${engine.resendCount} resends`);
  } finally {
    await rig.close();
  }
});

test('windowed with ADVANCED_OK: the same guarantee, and the firmware buffer is never overrun', async () => {
  const rig = await printerRig(
    { speedFactor: 1e6, advancedOk: true, checksumErrorRate: 0.02, seed: 7 },
    { protocol: { windowed: true, maxWindow: 4, communicationTimeout: 150 } },
  );
  try {
    await rig.connected();
    const lines = jobLines(3_000);
    const done = nextEvent(rig.bus, 'printer.stream-done', () => true, 60_000);
    rig.printer.stream(arraySource(lines));
    await done;
    assert.deepEqual(executedJobLines(rig.sim.printer.executed), lines);
    assert.equal(rig.sim.printer.overruns, 0);
  } finally {
    await rig.close();
  }
});

test('a printer reset mid-stream stops the stream, says so, and the link goes on: line numbers start over, commands work', async () => {
  const rig = await printerRig({ speedFactor: 1e6, resetAtLine: 500 });
  try {
    await rig.connected();
    const reset = nextEvent(rig.bus, 'printer.reset', () => true, 20_000);
    rig.printer.stream(arraySource(jobLines(2_000)));
    assert.deepEqual(await reset, { printerId: rig.printer.id, idle: false });
    assert.equal(rig.printer.printing, false);
    assert.equal(rig.printer.stateText, 'Operational', 'no error, no disconnect: the link itself is fine');
    assert.ok(rig.printer.terminal.lines().some((l) => /External reset/.test(l)), 'the terminal says what happened');
    // the firmware, counting from 0 again, takes numbered lines without asking for old ones
    const before = rig.sim.printer.executed.length;
    rig.printer.stream(arraySource(jobLines(50)));
    await waitFor('the second stream', () => rig.sim.printer.executed.length >= before + 50 && !rig.printer.printing, 20_000, 5);
    assert.equal(rig.printer.stateText, 'Operational');
    assert.equal(rig.printer.error, '');
  } finally {
    await rig.close();
  }
});

test('commands lost to a printer reset are never reported drained (a recovery must not print on from a heat-up that never ran)', async () => {
  const rig = await printerRig({ speedFactor: 1e6, resetAtLine: 12 });
  try {
    await rig.connected();
    const received = rig.sim.printer.commandsReceived;
    assert.ok(received < 12, `the handshake took ${received} commands`);
    rig.printer.commands(Array.from({ length: 20 }, (_, i) => `G1 X${i + 1} F3000`));
    await assert.rejects(rig.printer.drained(), /reset/);
    assert.equal(rig.printer.stateText, 'Operational');
  } finally {
    await rig.close();
  }
});

test('an unplugged printer is reported within 2 s with the reason, and it reconnects by itself when plugged back', async () => {
  const rig = await printerRig({ speedFactor: 1e6, disconnectAtLine: 300, replugAfter: 600 }, { autoReconnect: true });
  try {
    await rig.connected();
    const lost = nextEvent(rig.bus, 'printer.state', (s) => s.state === 'CLOSED_WITH_ERROR', 20_000);
    rig.printer.stream(arraySource(jobLines(2_000)));
    const t0 = Date.now();
    await waitFor('the unplug', () => rig.sim.printer.executed.length >= 290, 20_000, 5);
    const st = await lost;
    assert.ok(Date.now() - t0 < 2000, `state changed after ${Date.now() - t0} ms`);
    assert.match(st.error, /disconnected|unplugged/i);
    await nextEvent(rig.bus, 'printer.state', (s) => s.state === 'OPERATIONAL', 10_000);
    assert.equal(rig.printer.port, rig.link);
  } finally {
    await rig.close();
  }
});

test('a fatal firmware error (thermal runaway) stops everything and turns the heaters off', async () => {
  const rig = await printerRig({ speedFactor: 1e6, fatalAtLine: 50 });
  try {
    await rig.connected();
    const failed = nextEvent(rig.bus, 'printer.state', (s) => s.state === 'CLOSED_WITH_ERROR', 20_000);
    rig.printer.stream(arraySource(jobLines(500)));
    const st = await failed;
    assert.match(st.error, /Thermal Runaway|kill/);
    assert.ok(rig.logs.some((l) => /printer error \(firmware\)/.test(l)));
    const terminal = rig.printer.terminal.lines();
    assert.ok(terminal.includes('Send: M104 T0 S0') && terminal.includes('Send: M140 S0'), 'heaters-off commands sent');
  } finally {
    await rig.close();
  }
});
