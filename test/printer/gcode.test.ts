import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G, LONG_RUNNING, M, NUMBERED_LINE_OVERHEAD, checksum, commandKey, encodeNumberedLine, isLongRunning, numberedLine, param, numberAt, readMoveWords, stripComment } from '../../src/printer/gcode.js';

test('numbered lines match what real firmware accepted in the transcripts', () => {
  // from shared/reference/firmware-transcripts: "N0 M110 N0*125", "N1 M115*39", "N5 G28*22", "N12 M27*37"
  assert.equal(numberedLine(0, 'M110 N0'), 'N0 M110 N0*125\n');
  assert.equal(numberedLine(1, 'M115'), 'N1 M115*39\n');
  assert.equal(numberedLine(5, 'G28'), 'N5 G28*22\n');
  assert.equal(numberedLine(12, 'M27'), 'N12 M27*37\n');
  assert.equal(numberedLine(10, 'M23 test.gcode'), 'N10 M23 test.gcode*81\n');
  assert.equal(checksum('N8 M118 hi there'), 76);
});

test('a numbered line encoded into bytes is byte for byte the numbered line as text, for any number and command', () => {
  const cmds = ['M110 N0', 'G28', 'G1 X10.5 Y-3.25 E0.01234 F1800', 'M117 Température 90°', 'M118 \u20ac wide char', '', 'T1', 'x'.repeat(200)];
  const numbers = [0, 1, 9, 10, 99, 100, 101, 999, 1000, 12_345, 99_999, 100_000, 1_234_567, 2 ** 31 - 1, 2 ** 40 + 7];
  for (const cmd of cmds) {
    const buf = Buffer.alloc(cmd.length + NUMBERED_LINE_OVERHEAD);
    for (const n of numbers) {
      const length = encodeNumberedLine(buf, n, cmd);
      assert.equal(buf.toString('latin1', 0, length), Buffer.from(numberedLine(n, cmd), 'latin1').toString('latin1'), `N${n} ${cmd}`);
    }
  }
  // every checksum value from 0 to 255 comes out (1, 2 and 3 digits)
  const seen = new Set<number>();
  const buf = Buffer.alloc(64);
  for (let i = 0; seen.size < 256 && i < 100_000; i++) {
    const cmd = `M117 ${String.fromCharCode(i % 256)}`;
    const text = numberedLine(i, cmd);
    seen.add(Number(text.slice(text.lastIndexOf('*') + 1)));
    assert.equal(buf.toString('latin1', 0, encodeNumberedLine(buf, i, cmd)), text);
  }
  assert.equal(seen.size, 256);
});

test('the long-running table answers as the LONG_RUNNING set for every G, M and T code', () => {
  for (const letter of [G(0), M(0), 300000]) {
    for (let code = 0; code < 1200; code++) assert.equal(isLongRunning(letter + code), LONG_RUNNING.has(letter + code), `${letter + code}`);
  }
  assert.equal(isLongRunning(-1), false);
});

test('command keys identify G/M/T words and nothing else', () => {
  assert.equal(commandKey('G28 X'), G(28));
  assert.equal(commandKey('m105'), M(105));
  assert.equal(commandKey('T1'), 300001);
  assert.equal(commandKey('FIRMWARE_RESTART'), -1);
  assert.equal(commandKey('@pause'), -1);
  assert.equal(commandKey('G'), -1);
});

test('comments are stripped unless escaped, whitespace trimmed', () => {
  assert.equal(stripComment('G1 X10 ; move'), 'G1 X10');
  assert.equal(stripComment('; only a comment'), '');
  assert.equal(stripComment('  M117 a\\;b  '), 'M117 a\\;b');
  const clean = 'G1 X1';
  assert.equal(stripComment(clean), clean);
});

test('parameters are read by letter', () => {
  assert.equal(param('M104 S200', 'S'), 200);
  assert.equal(param('M110 N42', 'N'), 42);
  assert.ok(Number.isNaN(param('M104', 'S')));
});

test('readMoveWords reads F, Z, E and X/Y presence in one pass, as param() reads each; words in a comment do not count', () => {
  const out = { f: NaN, z: NaN, e: NaN, xy: false };
  const lines = ['G1 X10.5 Y20 E0.0312 F1800', 'G0 Z0.2 F9000', 'g1 e-0.8 f2100', 'G1 X1', 'G1 F', 'G1 E1 E2', 'G1\tZ5.5\tE1', 'G92 E0', 'G1 Y-3 Z+0.4'];
  for (const line of lines) {
    readMoveWords(line, out);
    const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || a === b;
    assert.ok(same(out.f, param(line, 'F')) && same(out.z, param(line, 'Z')) && same(out.e, param(line, 'E')), line);
    assert.equal(out.xy, Number.isFinite(param(line, 'X')) || Number.isFinite(param(line, 'Y')), line);
  }
  readMoveWords('G1 X5 E0.4 ; E9 Z3 F100', out);
  assert.deepEqual([out.e, out.z, out.f, out.xy], [0.4, NaN, NaN, true]);
  readMoveWords('G1 Z0.3;travel up', out);
  assert.equal(out.z, 0.3);
});

test('numberAt reads a word exactly as Number() does, the slicer decimals by hand and anything else through Number()', () => {
  const words = ['9000', '-.01489', '.2', '0.3', '-2', '+5', '1.', '-0', '0', '00012.500', '112.725', '-0.0001', '123456789012345', '1234567890123456', '1e3', '-', '.', '+', '1.2.3', 'abc', '12a', '0x10', '.0000000000001', '99999.99999'];
  // and a few thousand random slicer-like decimals
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let k = 0; k < 5000; k++) {
    const whole = Math.floor(rand() * 400);
    const frac = String(Math.floor(rand() * 100000)).padStart(5, '0').slice(0, 1 + Math.floor(rand() * 5));
    words.push(`${rand() < 0.3 ? '-' : ''}${whole === 0 && rand() < 0.5 ? '' : whole}.${frac}`);
  }
  for (const w of words) {
    const line = `G1 X${w} E`;
    assert.ok(Object.is(numberAt(line, 4, 4 + w.length), Number(w)), `${w}: ${numberAt(line, 4, 4 + w.length)} vs ${Number(w)}`);
  }
});
