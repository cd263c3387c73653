// The printer model over a real PTY with the real serialport binding, against the virtual printer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPtyLink } from '../../src/sim/pty.js';
import { printerRig } from '../helpers/printer-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

test('autodetect finds the printer, identifies the firmware and reports temperatures at least once a second', async () => {
  const rig = await printerRig();
  try {
    await rig.printer.connect('AUTO', 0);
    assert.equal(rig.printer.stateText, 'Operational');
    assert.equal(rig.printer.port, rig.link);
    await waitFor('firmware identified', () => rig.printer.firmware);
    assert.equal(rig.printer.firmware!.flavor, 'marlin');
    assert.equal(rig.printer.firmware!.capabilities['AUTOREPORT_TEMP'], true);
    const times: number[] = [];
    const off = rig.bus.on('printer.temperature', () => times.push(Date.now()));
    await waitFor('4 temperature reports', () => times.length >= 4, 6000);
    off();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(Math.max(...gaps) <= 1300, `temperature gaps ${gaps.join(', ')} ms`);
  } finally {
    await rig.close();
  }
});

test('autodetect skips a port whose device never answers and connects to the one that does', async () => {
  const rig = await printerRig({}, { detectTimeout: 400 }, 'ttyUSB1');
  const silent = await openPtyLink(join(rig.dir, 'ttyUSB0')); // a serial device that is not a printer
  try {
    await rig.printer.connect('AUTO', 250000);
    assert.equal(rig.printer.port, rig.link);
  } finally {
    await silent.close();
    await rig.close();
  }
});

test('jog, home, heat and query commands reach the printer in order; M114 updates the position', async () => {
  const rig = await printerRig();
  try {
    await rig.printer.connect(rig.link, 250000);
    const pos = nextEvent(rig.bus, 'printer.position', (p) => p.position.x === 12);
    rig.printer.commands(['G28', 'G91', 'G1 X12 Y3 F6000', 'G90', 'M104 S210', 'M114']);
    const got = await pos;
    assert.deepEqual([got.position.x, got.position.y], [12, 3]);
    await waitFor('target reported', () => rig.printer.temperatures.tools.get(0)?.target === 210);
    const executed = rig.sim.printer.executed.filter((c) => !/^M(105|110|115|155)\b/.test(c));
    assert.deepEqual(executed.slice(0, 6), ['G28', 'G91', 'G1 X12 Y3 F6000', 'G90', 'M104 S210', 'M114']);
    const terminal = rig.printer.terminal.lines();
    assert.ok(terminal.includes('Send: G1 X12 Y3 F6000'), 'terminal shows what was sent');
    assert.ok(terminal.some((l) => l.startsWith('Recv: X:12.00 Y:3.00')), 'terminal shows what came back');
  } finally {
    await rig.close();
  }
});

test('M112 goes out at once even behind a long heat-up, and the printer ends in an error state with the reason', async () => {
  const rig = await printerRig({ speedFactor: 1 });
  try {
    await rig.printer.connect(rig.link, 250000);
    rig.printer.commands(['M109 S240', 'G28', 'G1 X50']);
    await waitFor('heating started', () => rig.sim.printer.executed.includes('M109 S240'));
    const closed = nextEvent(rig.bus, 'printer.state', (s) => s.state === 'CLOSED_WITH_ERROR');
    rig.printer.commands(['M112']);
    const st = await closed;
    assert.match(st.error, /M112/);
    assert.ok(!rig.sim.printer.executed.includes('G28'), 'queued commands were not sent after the emergency stop');
    assert.equal(rig.printer.error, 'Emergency stop (M112) sent');
  } finally {
    await rig.close();
  }
});
