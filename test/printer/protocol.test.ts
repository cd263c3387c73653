import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, arraySource } from '../helpers/engine-harness.js';
import { numberedLine } from '../../src/printer/gcode.js';

const MARLIN_AUTOREPORT = ['FIRMWARE_NAME:Marlin 2.1.2 SOURCE_CODE_URL:x EXTRUDER_COUNT:1', 'Cap:AUTOREPORT_TEMP:1', 'Cap:EMERGENCY_PARSER:1', 'ok'];

test('handshake: hello, M115, capabilities, then M155 auto-report when the firmware offers it', () => {
  const h = new Harness();
  h.engine.begin(h.now);
  assert.deepEqual(h.take(), ['N0 M110 N0*125']);
  h.feed('ok');
  assert.equal(h.eventsOf('connected').length, 1);
  assert.deepEqual(h.take(), [numberedLine(1, 'M115').trim()]);
  h.feed(...MARLIN_AUTOREPORT);
  const fw = h.eventsOf('firmware')[0]!.info;
  assert.equal(fw.flavor, 'marlin');
  assert.equal(fw.capabilities['AUTOREPORT_TEMP'], true);
  assert.deepEqual(h.take(), ['M155 S1']);
  h.feed('ok');
  h.advance(5_000);
  assert.deepEqual(h.take(), [], 'no M105 polling when the firmware auto-reports');
});

test('Klipper answers M115 on its ok line and knows no M155: the host polls M105 at 1 Hz', () => {
  const h = new Harness();
  h.engine.begin(h.now);
  h.feed('ok');
  h.take();
  h.feed('ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.13.0-730-g84104bbbd');
  assert.equal(h.eventsOf('firmware')[0]!.info.flavor, 'klipper');
  assert.deepEqual(h.take(), ['STATUS'], 'is it up? (Klipper may already be shut down)');
  h.feed('// Klipper state: Ready', 'ok');
  assert.deepEqual(h.eventsOf('halted'), []);
  h.advance(10);
  assert.deepEqual(h.take(), ['M105']);
  h.feed('ok B:25.0 /0.0 T0:25.0 /0.0');
  assert.equal(h.eventsOf('temperature').length, 1);
  h.advance(500);
  assert.deepEqual(h.take(), []);
  h.advance(500);
  assert.deepEqual(h.take(), ['M105']);
});

test('a start banner before the hello answer repeats the hello; the repeated ok is not taken for a command', () => {
  const h = new Harness();
  h.engine.begin(h.now);
  h.feed('start', 'echo:Marlin 2.1');
  assert.deepEqual(h.take(), ['N0 M110 N0*125', 'N0 M110 N0*125']);
  h.feed('ok');
  assert.deepEqual(h.take(), [], 'waits for the second hello answer before sending');
  h.feed('ok');
  h.advance(300);
  assert.deepEqual(h.take(), ['N1 M115*39']);
});

test('no answer to the hello: retries, then a connection error', () => {
  const h = new Harness({ connectionTimeout: 1000, helloTries: 3 });
  h.engine.begin(h.now);
  h.advance(1000);
  h.advance(1000);
  assert.equal(h.take().length, 3);
  h.advance(1000);
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'connection');
});

test('one line in flight: the next command waits for ok', () => {
  const h = new Harness();
  h.connect();
  h.engine.send('G28', h.now);
  h.engine.send('G1 X10', h.now);
  h.engine.send('M114', h.now);
  assert.deepEqual(h.take(), ['G28']);
  h.feed('echo:busy: processing');
  assert.deepEqual(h.take(), []);
  h.feed('ok');
  assert.deepEqual(h.take(), ['G1 X10']);
  h.feed('ok');
  assert.deepEqual(h.take(), ['M114']);
});

test('while streaming, a line that is not a G, M or T command goes out without a number (as OctoPrint sends it)', () => {
  const h = new Harness();
  h.connect();
  h.engine.stream(arraySource(['G28', 'G1 X1', 'G1 X2']), h.now);
  assert.deepEqual(h.take(), ['N0 M110 N0*125']);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(1, 'G28').trim()]);
  h.engine.send('!!DEBUG:action_pause', h.now);
  h.feed('ok');
  assert.deepEqual(h.take(), ['!!DEBUG:action_pause'], 'a line the firmware may not know: no number it could ask for again');
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X1').trim()], 'the numbering goes on where it was');
  h.engine.send('M117 hi', h.now);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'M117 hi').trim()], 'a G-code command from the terminal is numbered');
});

test('streaming numbers every line, interleaves user commands, and reports the end', () => {
  const h = new Harness();
  h.connect();
  h.engine.stream(arraySource(['; header', 'G28', 'G1 X1 ; comment', '', 'G1 X2']), h.now);
  assert.deepEqual(h.take(), ['N0 M110 N0*125'], 'line numbers restart for the job');
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(1, 'G28').trim()]);
  h.engine.send('M117 hi', h.now);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'M117 hi').trim()], 'user command goes between job lines');
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X1').trim()]);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(4, 'G1 X2').trim()]);
  assert.equal(h.eventsOf('stream-done').length, 0);
  h.feed('ok');
  assert.equal(h.eventsOf('stream-done').length, 1);
});

test('resend: the requested line goes out again with its number, then the stream continues', () => {
  const h = new Harness();
  h.connect();
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  h.feed('ok');
  assert.deepEqual(h.take(), ['N2 G1 X2*' + numberedLine(2, 'G1 X2').split('*')[1]!.trim()]);
  h.feed('Error:checksum mismatch, Last Line: 1', 'Resend: 2', 'ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()]);
  assert.equal(h.engine.resendCount, 1);
});

test('a line the firmware throws away without Resend or ok (No Line Number with checksum): sent again at once from its Last Line', () => {
  const h = new Harness();
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155: the temperatures come by themselves, no poll in between
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  // OctoPrint's virtual printer at N110 (and Marlin 1.x for a line whose N was garbled): this line, then silence
  h.feed('Error: No Line Number with checksum, Last Line: 1');
  assert.deepEqual(h.take(), [], 'a Resend may still come (Prusa sends one)');
  h.advance(500);
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()], 'none came: no longer wait for it');
  assert.equal(h.engine.linesInFlight, 1);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()]);
  h.feed('ok');
  assert.equal(h.eventsOf('stream-done').length, 1);
  assert.equal(h.eventsOf('timeout').length, 0);
});

test('the same with ADVANCED_OK line numbers in the oks: a later ok for the last good line settles nothing', () => {
  const h = new Harness({ pollInterval: 60_000 }); // no temperature poll in between
  h.connect(['FIRMWARE_NAME:Marlin 2.1 EXTRUDER_COUNT:1', 'ok N1 P15 B3']);
  h.advance(100); // the first poll, due at once
  h.take();
  h.feed('ok T:20 /0 B:20 /0');
  h.engine.stream(arraySource(['G1 X1', 'G1 X2', 'G1 X3']), h.now);
  assert.deepEqual(h.take(), ['N0 M110 N0*125']);
  h.feed('ok N0 P15 B3');
  assert.deepEqual(h.take(), [numberedLine(1, 'G1 X1').trim()]);
  h.feed('ok N1 P15 B3');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.feed('Error: No Line Number with checksum, Last Line: 1');
  h.advance(500);
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.feed('ok N1 P15 B3'); // a stale one (the answer to something before): N2 is still running
  assert.deepEqual(h.take(), []);
  h.feed('ok N2 P15 B3');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()]);
});

test('a thrown-away line without a Last Line number: its ok is assumed, and the firmware asks for it when the next arrives', () => {
  const h = new Harness();
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155: the temperatures come by themselves, no poll in between
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  h.feed('ok');
  h.take();
  h.feed('Error: missing linenumber');
  h.advance(500);
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()]);
  h.feed('Error:Line Number is not Last Line Number+1, Last Line: 1', 'Resend: 2', 'ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()]);
});

test("Prusa's firmware follows a thrown-away line with Resend and ok: the line goes once, and every line after it once", () => {
  const h = new Harness();
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155: the temperatures come by themselves, no poll in between
  h.stream(['G1 X1', 'G1 X2', 'G1 X3', 'G1 X4']);
  h.take();
  h.feed('ok');
  h.take();
  h.feed('Error:No Line Number with checksum, Last Line: 1', 'Resend: 2', 'ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.advance(1000);
  assert.deepEqual(h.take(), [], 'not again after the wait');
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()]);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(4, 'G1 X4').trim()]);
  assert.equal(h.engine.resendCount, 1);
});

test('windowed: a thrown-away line and the rejections of the lines behind it resend each line once', () => {
  const h = new Harness({ windowed: true, maxWindow: 4 });
  h.connect(['FIRMWARE_NAME:Marlin 2.1 EXTRUDER_COUNT:1', 'ok P15 B3']);
  h.stream(Array.from({ length: 6 }, (_, i) => `G1 X${i + 1}`));
  assert.deepEqual(h.take(), [1, 2, 3].map((n) => numberedLine(n, `G1 X${n}`).trim()));
  h.feed('ok P15 B3');
  h.take(); // N4
  h.feed('Error:No Line Number with checksum, Last Line: 1');
  h.advance(500);
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()], 'within the window: N3 and N4 still count as in flight');
  // the firmware still rejects the N3 and N4 it held, each with a Resend for 2 and an ok
  h.feed('Error:Line Number is not Last Line Number+1, Last Line: 1', 'Resend: 2', 'ok P15 B3');
  h.feed('Error:Line Number is not Last Line Number+1, Last Line: 1', 'Resend: 2', 'ok P15 B3');
  assert.deepEqual(h.take(), [3, 4].map((n) => numberedLine(n, `G1 X${n}`).trim()));
  assert.equal(h.engine.resendCount, 3, 'N2, N3 and N4 once each, not twice');
  assert.equal(h.engine.linesInFlight, 3);
});

test('a numbered tickle behind a line that never arrived is rejected with it: the resend follows at once, not after another timeout', () => {
  const h = new Harness({ alwaysChecksum: true, communicationTimeout: 1000 });
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.stream(['G1 X1', 'G1 X2']);
  const first = h.take()[0]!;
  const n = Number(/^N(\d+)/.exec(first)![1]);
  h.advance(1000); // N<n> never reached the firmware
  assert.match(h.take()[0]!, new RegExp(`^N${n + 1} M105\\*`));
  h.feed(`Error:Line Number is not Last Line Number+1, Last Line: ${n - 1}`, `Resend: ${n}`, 'ok');
  assert.deepEqual(h.take(), [first]);
});

test('firmware that sends no ok after Resend: the ok is assumed after a short wait', () => {
  const h = new Harness();
  h.connect();
  h.stream(['G1 X1', 'G1 X2']);
  h.take();
  h.feed('Resend: 1');
  h.advance(600);
  assert.deepEqual(h.take(), [numberedLine(1, 'G1 X1').trim()]);
});

test('windowed (ADVANCED_OK): lines go out while B says there is room; duplicate resend requests are swallowed', () => {
  const h = new Harness({ windowed: true, maxWindow: 4 });
  h.connect(['FIRMWARE_NAME:Marlin 2.1 EXTRUDER_COUNT:1', 'ok P15 B3']);
  h.stream(Array.from({ length: 10 }, (_, i) => `G1 X${i + 1}`));
  assert.deepEqual(h.take(), [1, 2, 3].map((n) => numberedLine(n, `G1 X${n}`).trim()), 'three in flight for B3');
  h.feed('ok N1 P15 B3');
  assert.deepEqual(h.take(), [numberedLine(4, 'G1 X4').trim()]);
  // N2 arrived corrupted: the firmware rejects N2, N3 and N4, each with "Resend: 2" and an ok
  h.feed('Error:checksum mismatch, Last Line: 1', 'Resend: 2', 'ok N1 P15 B3');
  h.feed('Error:Line Number is not Last Line Number+1, Last Line: 1', 'Resend: 2', 'ok N1 P15 B3');
  h.feed('Error:Line Number is not Last Line Number+1, Last Line: 1', 'Resend: 2', 'ok N1 P15 B3');
  assert.deepEqual(h.take(), [2, 3, 4].map((n) => numberedLine(n, `G1 X${n}`).trim()), 'each line resent once, in order');
  assert.equal(h.engine.resendCount, 3);
  h.feed('ok N2 P15 B0');
  assert.deepEqual(h.take(), [], 'B0: no room, wait');
});

test('the same line requested again and again ends in a resend-loop error', () => {
  const h = new Harness({ maxConsecutiveResends: 3 });
  h.connect();
  h.stream(['G1 X1', 'G1 X2']);
  for (let i = 0; i < 3; i++) h.feed('Resend: 1', 'ok');
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'resend_loop');
});

test('a resend request for a line no longer in history is an error', () => {
  const h = new Harness({ resendHistory: 100 });
  h.connect();
  h.stream(Array.from({ length: 150 }, (_, i) => `G1 X${i}`));
  for (let i = 0; i < 149; i++) h.feed('ok');
  h.feed('Resend: 5');
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'resend');
});

test('a lost ok: timeout, M105 tickle, the stream goes on; repeated timeouts end the connection', () => {
  const h = new Harness({ communicationTimeout: 1000, maxTimeoutsPrinting: 3 });
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  h.advance(999);
  assert.deepEqual(h.take(), []);
  h.advance(1);
  assert.deepEqual(h.take(), ['M105']);
  h.feed('ok T:20 /0 B:20 /0');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.advance(1000);
  h.advance(1000);
  h.advance(1000);
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'timeout');
});

test('a late ok after a timeout is not taken twice: still exactly one line in flight', () => {
  const h = new Harness({ communicationTimeout: 1000 });
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  h.advance(1000);
  assert.deepEqual(h.take(), ['M105'], 'tickle');
  h.feed('ok'); // the late ok of N1
  assert.deepEqual(h.take(), [], 'the tickle is still in flight: wait for it');
  h.feed('ok T:20.0 /0.0 B:20.0 /0.0 @:0 B@:0'); // the tickle's answer
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X3').trim()], 'one line per ok, no surplus');
  assert.equal(h.engine.linesInFlight, 1);
});

test('a busy line between Resend and its ok does not stand in for the ok', () => {
  const h = new Harness();
  h.connect();
  h.stream(['G1 X1', 'G1 X2']);
  h.take();
  h.feed('Error:checksum mismatch, Last Line: 0', 'Resend: 1', 'echo:busy: processing');
  assert.deepEqual(h.take(), []);
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(1, 'G1 X1').trim()]);
  assert.equal(h.engine.linesInFlight, 1);
});

test('no timeout during long-running commands unless the firmware was busy and then went quiet', () => {
  const h = new Harness({ communicationTimeout: 1000, busyTimeout: 3000 });
  h.connect();
  h.engine.send('M109 S200', h.now);
  h.take();
  for (let i = 0; i < 60; i++) {
    h.advance(1000);
    h.feed(' T:100.0 /200.0 B:20 /0 @:127 B@:0 W:?');
  }
  assert.equal(h.eventsOf('timeout').length, 0, 'heating for a minute is not a timeout');
  h.feed('ok');
  h.engine.send('G28', h.now);
  h.take();
  h.feed('echo:busy: processing');
  h.advance(2000);
  h.feed('echo:busy: processing');
  h.advance(2999);
  assert.equal(h.eventsOf('timeout').length, 0);
  h.advance(1);
  assert.equal(h.eventsOf('timeout').length, 1, 'busy stopped and no ok came: the ok was lost');
});

test('ok-before-output firmware (Repetier-style): a heat-up acknowledged at once keeps the next line waiting, and the link alive while it reports temperatures', () => {
  const h = new Harness({ communicationTimeout: 1000, maxTimeoutsPrinting: 3 });
  // its M115's ok comes first, then the answer: this firmware says ok before it does the work
  h.connect(['ok', 'FIRMWARE_NAME:Virtual Marlin 1.0 PROTOCOL_VERSION:1.0', 'Cap:AUTOREPORT_TEMP:1']);
  h.engine.send('M117 hello', h.now);
  h.feed('ok'); // (the capabilities are complete at the next ok)
  h.take();
  h.feed('ok'); // M155
  h.stream(['M109 S200', 'G28', 'G1 X1']);
  assert.deepEqual(h.take(), [numberedLine(1, 'M109 S200').trim()]);
  h.feed('ok'); // before the heat-up, not after it
  assert.deepEqual(h.take(), [numberedLine(2, 'G28').trim()]);
  for (let i = 0; i < 120; i++) {
    h.advance(1000);
    h.feed(`T:${(25 + i).toFixed(2)}`);
  }
  assert.equal(h.eventsOf('fatal').length, 0, 'two minutes of heating is not a dead printer');
  assert.deepEqual(h.take(), ['M105'], 'one tickle to find a lost ok, not one per timeout (each would earn an ok later, and release a line too many)');
  h.feed('ok'); // G28's, once the heat-up is over
  assert.deepEqual(h.take(), [], "the tickle's answer is still due");
  h.feed('ok', 'T:200.00 /200.00 B:60.00 /60.00 @:64'); // the tickle's: ok first, then the output
  assert.deepEqual(h.take(), [numberedLine(3, 'G1 X1').trim()]);
  assert.equal(h.engine.linesInFlight, 1);
});

test('firmware that acknowledges after the work (Marlin): two lost oks after a heat-up end in a timeout error, not a silent stall', () => {
  const h = new Harness({ communicationTimeout: 1000, maxTimeoutsPrinting: 3 });
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.stream(['M109 S200', 'G1 X1', 'G1 X2']);
  h.take();
  h.feed('ok'); // after the heat-up
  h.take();
  for (let i = 0; i < 10; i++) {
    h.advance(1000);
    h.feed('T:200.00 /200.00 B:60.00 /60.00 @:0 B@:0'); // its auto-report goes on; no ok for the line, none for the tickles
  }
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'timeout');
});

test('a printer that goes silent after a long command still ends in a timeout error, and gets M112 and heaters off first', () => {
  const h = new Harness({ communicationTimeout: 1000, maxTimeoutsPrinting: 3 });
  h.connect();
  h.stream(['G28', 'G1 X1', 'G1 X2']);
  h.take();
  h.feed('ok');
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X1').trim()]);
  for (let i = 0; i < 5; i++) h.advance(1000);
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'timeout');
  const out = h.take();
  assert.ok(out.includes('M112') && out.some((l) => /^N\d+ M112\*\d+$/.test(l)), out.join(' | '));
  assert.ok(out.includes('M104 T0 S0') && out.includes('M140 S0'), out.join(' | '));
});

test('M112 goes out at once ahead of queued work, then heaters off, then an emergency error', () => {
  const h = new Harness();
  h.connect();
  h.engine.send('G28', h.now);
  h.engine.send('G1 X10', h.now);
  h.take();
  h.engine.send('M112', h.now);
  const out = h.take();
  assert.equal(out[0], 'M112');
  assert.ok(out.some((l) => /^N\d+ M112\*\d+$/.test(l)));
  assert.ok(out.includes('M104 T0 S0') && out.includes('M140 S0'));
  assert.ok(!out.includes('G1 X10'));
  assert.equal(h.eventsOf('fatal')[0]?.reason, 'emergency');
});

test('M108 jumps the queue only when the firmware has an emergency parser', () => {
  const withParser = new Harness();
  withParser.connect(MARLIN_AUTOREPORT);
  withParser.feed('ok'); // M155
  withParser.engine.send('M109 S200', withParser.now);
  withParser.engine.send('G28', withParser.now);
  withParser.take();
  withParser.engine.send('M108', withParser.now);
  assert.deepEqual(withParser.take(), ['M108']);

  const without = new Harness();
  without.connect();
  without.engine.send('M109 S200', without.now);
  without.take();
  without.engine.send('M108', without.now);
  assert.deepEqual(without.take(), []);
  without.feed('ok');
  assert.deepEqual(without.take(), ['M108']);
});

test('fatal firmware errors, including Marlin 1.x two-line errors', () => {
  const h = new Harness();
  h.connect();
  h.feed('Error:0', 'Error: Extruder switched off. MINTEMP triggered !');
  const f = h.eventsOf('fatal')[0]!;
  assert.equal(f.reason, 'firmware');
  assert.match(f.message, /MINTEMP/);
  assert.ok(!h.take().includes('M112'), 'a board that halted itself needs no M112 (and one that did not is left usable)');
});

test('Klipper "!!" then ok is a failed command: reported, and the connection goes on', () => {
  const h = new Harness();
  h.connect(['ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.13.0']);
  h.feed('// Klipper state: Ready', 'ok'); // STATUS
  h.engine.send('G1 X500', h.now);
  h.engine.send('G28', h.now);
  h.take();
  h.feed('!! Must home axis first: 500.000 0.000 0.000 [0.000]', 'ok');
  assert.equal(h.eventsOf('fatal').length, 0);
  assert.match(h.eventsOf('command-error')[0]!.message, /Must home axis first/);
  assert.deepEqual(h.take(), ['G28']);
});

test('start while connected: the printer reset; the stream ends, the link stays and starts over (line numbers, M115, M155)', () => {
  const h = new Harness();
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  h.feed('ok');
  h.take();
  h.engine.send('M117 queued before the reset', h.now);
  h.feed('start', 'echo:Marlin 2.1.2');
  assert.deepEqual(h.eventsOf('reset'), [{ type: 'reset', streaming: true }]);
  assert.equal(h.eventsOf('fatal').length, 0, 'the link is fine: no error, no disconnect');
  assert.equal(h.engine.isStreaming, false);
  assert.equal(h.engine.isOperational, true);
  assert.deepEqual(h.take(), ['N0 M110 N0*125'], 'nothing in flight survives; numbering starts over first');
  h.feed('ok');
  assert.deepEqual(h.take(), ['M115'], 'who are you now (it may have been flashed)');
  h.feed(...MARLIN_AUTOREPORT);
  assert.deepEqual(h.take(), ['M155 S1'], 'the rebooted firmware forgot its auto-report');
  h.feed('ok');
  h.engine.send('M105', h.now);
  assert.deepEqual(h.take(), ['M105'], 'commands flow again, one in flight');
  h.feed('start');
  assert.deepEqual(h.eventsOf('reset')[1], { type: 'reset', streaming: false });
});

test('host action commands and wait', () => {
  const h = new Harness();
  h.connect();
  h.feed('//action:pause', '// action:prompt_begin Load filament');
  assert.deepEqual(h.eventsOf('action').map((e) => e.action.name), ['pause', 'prompt_begin']);
  h.engine.send('G1 X5', h.now);
  h.engine.send('G1 X6', h.now);
  assert.deepEqual(h.take(), ['G1 X5']);
  h.feed('wait', 'wait', 'wait', 'wait');
  assert.deepEqual(h.take(), [], '`wait` acknowledges nothing: a burst of them releases no line');
  h.advance(1000);
  h.feed('wait', 'wait', 'wait', 'wait');
  assert.deepEqual(h.take(), ['M105'], 'a line still in flight while the firmware idles: one tickle to find its ok');
  h.feed('ok T:20 /0 B:20 /0');
  assert.deepEqual(h.take(), ['G1 X6'], 'the tickle settled the lost ok; the next line goes');
  h.feed('ok'); // G1 X6 done; the temperature poll that fell due meanwhile may go
  const polls = h.take();
  assert.ok(polls.every((l) => l === 'M105'));
  h.feed(...polls.map(() => 'ok T:20 /0 B:20 /0'), 'ok', 'ok');
  assert.deepEqual(h.take(), [], 'stray oks with nothing in flight send nothing');
  assert.equal(h.engine.linesInFlight, 0);
});

test('a tickle answered with a bare ok (temperatures on their own line) is settled by the next wait, not after a whole timeout', () => {
  const h = new Harness({ communicationTimeout: 10_000 });
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  h.take();
  // N1's ok is lost; the firmware idles and says so
  h.advance(1000);
  h.feed('wait');
  assert.deepEqual(h.take(), ['M105']);
  h.feed('ok', 'T:20.00 /0.00 B:20.00 /0.00 @:0'); // the tickle's answer, ok first: it settles N1 (it cannot be told apart)
  assert.deepEqual(h.take(), [], 'the tickle still counts as in flight');
  h.advance(1000);
  h.feed('wait'); // idle again: nobody owes an answer
  assert.deepEqual(h.take(), [numberedLine(2, 'G1 X2').trim()]);
  assert.equal(h.engine.linesInFlight, 1);
  assert.equal(h.eventsOf('timeout').length, 0);
});

test('windowed: a wait settles the lines up to the tickle, not a line sent after it (that one may have crossed the wait on the wire)', () => {
  const h = new Harness({ windowed: true, maxWindow: 4, communicationTimeout: 5000 });
  h.connect(['FIRMWARE_NAME:Marlin 2.1 EXTRUDER_COUNT:1', 'Cap:AUTOREPORT_TEMP:1', 'ok P15 B3']);
  h.feed('ok P15 B3'); // M155
  h.stream(Array.from({ length: 10 }, (_, i) => `G1 X${i + 1}`));
  assert.deepEqual(h.take(), [1, 2, 3].map((n) => numberedLine(n, `G1 X${n}`).trim()));
  h.advance(5000); // no ok at all: a tickle
  assert.deepEqual(h.take(), ['M105']);
  h.feed('ok P15 B3', 'ok P15 B3'); // N1 and N2
  assert.deepEqual(h.take(), [numberedLine(4, 'G1 X4').trim()], 'N3 and the tickle in flight, room for one');
  h.advance(1000);
  h.feed('wait'); // N3's ok and the tickle's answer were lost; N4 may still be on its way
  assert.deepEqual(h.take(), [5, 6].map((n) => numberedLine(n, `G1 X${n}`).trim()), 'N4 still counts: two more fit, not three');
});

test('Repetier: line numbers on every line and TargetExtr lines', () => {
  const h = new Harness();
  h.connect(['FIRMWARE_NAME:Repetier_1.0.3 FIRMWARE_URL:x PROTOCOL_VERSION:1.0 EXTRUDER_COUNT:1', 'ok']);
  h.engine.send('M105', h.now);
  assert.match(h.take()[0]!, /^N\d+ M105\*\d+$/);
  h.feed('TargetExtr0:210');
  assert.deepEqual(h.eventsOf('target')[0], { type: 'target', heater: 0, target: 210 });
});

test('replaying real firmware transcripts: no spurious errors, temperatures and positions seen', async () => {
  const { readFileSync } = await import('node:fs');
  const dir = new URL('../../../../shared/reference/firmware-transcripts/', import.meta.url);
  const run = (file: string) => {
    const h = new Harness();
    h.connect([]);
    let hostSpoke = false; // lines before the host's first command are the boot banner, not for a connected host
    for (const raw of readFileSync(new URL(file, dir), 'utf8').split('\n')) {
      if (/^\s*[\d.]+ > /.test(raw)) hostSpoke = true;
      const m = /^\s*[\d.]+ < (.*)$/.exec(raw);
      if (m && hostSpoke) h.feed(m[1]!);
    }
    return h;
  };
  for (const file of ['marlin-default-main.txt', 'marlin-host-main.txt', 'klipper-fakehw-main.txt', 'klipper-fakehw-quirks.txt']) {
    const h = run(file);
    const hasPositions = !file.includes('quirks');
    const fatal = h.eventsOf('fatal').filter((f) => !/kill|halted|Shutdown/i.test(f.message));
    assert.deepEqual(fatal, [], file);
    assert.ok(h.eventsOf('temperature').length > 0, `${file}: temperatures parsed`);
    if (hasPositions) assert.ok(h.eventsOf('position').length > 0, `${file}: positions parsed`);
  }
  assert.equal(run('marlin-default-quirks.txt').eventsOf('fatal')[0]?.reason, 'firmware', 'kill() called is fatal');
});

test('Smoothieware: lines that are not G/M/T commands earn no ok, so the host does not wait for one', () => {
  const h = new Harness();
  h.connect(['FIRMWARE_NAME:Smoothieware, FIRMWARE_URL:http%3A//smoothieware.org, FIRMWARE_VERSION:edge-3ba7e5e', 'ok']);
  h.engine.send('play /sd/file.g', h.now);
  h.engine.send('M105', h.now);
  assert.deepEqual(h.take(), ['play /sd/file.g', 'M105']);
  h.feed('ok T:21.4 /0.0 @0 B:21.5 /0.0 @0');
  assert.equal(h.eventsOf('temperature').at(-1)!.reading.tools.get(0)!.actual, 21.4);
});

test('Prusa firmware auto-reports with M155 even without a Cap line', () => {
  const h = new Harness();
  h.connect(['FIRMWARE_NAME:Prusa-Firmware 3.13.0 based on Marlin FIRMWARE_URL:https://github.com/prusa3d/Prusa-Firmware PROTOCOL_VERSION:1.0', 'ok']);
  // connect() took the M155 already; the next poll interval sends no M105
  h.advance(3000);
  assert.deepEqual(h.take(), []);
});

test('RepRapFirmware is identified and polled with M105', () => {
  const h = new Harness();
  h.connect(['FIRMWARE_NAME: RepRapFirmware for Duet 2 WiFi/Ethernet FIRMWARE_VERSION: 3.4.5', 'ok']);
  assert.equal(h.eventsOf('firmware')[0]!.info.flavor, 'reprapfirmware');
  h.advance(10);
  assert.deepEqual(h.take(), ['M105']);
});

test('always-checksum option numbers idle commands too', () => {
  const h = new Harness({ alwaysChecksum: true });
  h.connect();
  h.engine.send('G28', h.now);
  assert.match(h.take()[0]!, /^N\d+ G28\*\d+$/);
});

test('firmware that demands checksums (always-checksum) gets them on the timeout tickle and the emergency heaters-off too', () => {
  const h = new Harness({ alwaysChecksum: true, communicationTimeout: 1000 });
  h.connect(MARLIN_AUTOREPORT);
  h.feed('ok'); // M155
  h.engine.send('G28', h.now);
  const g28 = h.take()[0]!;
  assert.match(g28, /^N\d+ G28\*\d+$/);
  assert.ok(h.logs.includes(`> ${g28}`), 'the terminal shows the line as it went out, number and checksum included');
  h.advance(1000);
  const tickle = h.take();
  assert.equal(tickle.length, 1);
  assert.match(tickle[0]!, /^N\d+ M105\*\d+$/, 'a bare M105 would be rejected, and its ok never come');
  h.feed('ok T:20 /0 B:20 /0');
  assert.equal(h.engine.linesInFlight, 0, "the tickle's answer settles the lost ok's line too");
  h.engine.send('M112', h.now);
  const out = h.take();
  assert.equal(out[0], 'M112');
  for (const heater of ['M104 T0 S0', 'M140 S0']) assert.ok(out.some((l) => new RegExp(`^N\\d+ ${heater}\\*\\d+$`).test(l)), heater);
});

test('firmware that refuses lines without a checksum (Missing checksum, no Resend, no ok): the line goes again numbered, and so does every line after', () => {
  const h = new Harness({ communicationTimeout: 1000 });
  h.connect(MARLIN_AUTOREPORT);
  assert.deepEqual(h.take(), [], 'M155 S1 went with the handshake');
  h.feed('Error: Missing checksum'); // for the bare M155 S1 (OctoPrint's virtual printer with forceChecksum)
  const again = h.take();
  assert.equal(again.length, 1);
  assert.match(again[0]!, /^N\d+ M155 S1\*\d+$/);
  h.feed('ok');
  h.engine.send('G28', h.now);
  assert.match(h.take()[0]!, /^N\d+ G28\*\d+$/, 'from now on every line');
  h.advance(1000);
  assert.match(h.take()[0]!, /^N\d+ M105\*\d+$/, 'the timeout tickle too');
  assert.equal(h.eventsOf('fatal').length, 0);
});

test('with checksums demanded, prompt answers on the emergency path are numbered, and a line that is no G/M/T command is refused once, not again and again', () => {
  const h = new Harness();
  h.connect([...MARLIN_AUTOREPORT]);
  h.take();
  h.feed('Error: Missing checksum'); // the bare M155 S1
  h.take();
  h.feed('ok');
  h.engine.send('M876 S0', h.now);
  assert.match(h.take()[0]!, /^N\d+ M876 S0\*\d+$/);
  h.feed('ok');
  h.engine.send('!!DEBUG:action_pause', h.now);
  assert.deepEqual(h.take(), ['!!DEBUG:action_pause']);
  h.feed('Error: Missing checksum');
  assert.deepEqual(h.take(), [], 'not sent again');
  assert.match(h.eventsOf('command-error').at(-1)?.message ?? '', /numbered/);
  assert.equal(h.engine.linesInFlight, 0);
});

test('the same text after a numbered line is a bad checksum (a Resend follows): nothing changes', () => {
  const h = new Harness();
  h.connect();
  h.stream(['G1 X1', 'G1 X2']);
  h.take();
  h.feed('Error: Missing checksum', 'Resend: 1', 'ok');
  assert.deepEqual(h.take(), [numberedLine(1, 'G1 X1').trim()]);
  h.feed('ok');
  h.feed('ok');
  h.engine.send('M114', h.now);
  assert.deepEqual(h.take().slice(-1), ['M114'], 'idle lines stay unnumbered');
});

test('windowed is opt-in and needs proof: without ADVANCED_OK buffer reports, one line stays in flight', () => {
  const h = new Harness({ windowed: true, maxWindow: 4 });
  h.connect();
  h.stream(['G1 X1', 'G1 X2', 'G1 X3']);
  assert.equal(h.take().length, 1);
  h.feed('ok');
  assert.equal(h.take().length, 1);
});

test('windowed job start (real Marlin race): nothing goes out behind M110 until it is acknowledged', () => {
  const h = new Harness({ windowed: true, maxWindow: 4 });
  h.connect(['FIRMWARE_NAME:Marlin bugfix-2.1.x EXTRUDER_COUNT:1', 'ok P15 B3']);
  h.engine.stream(arraySource(['M302 P1', 'M104 S180', 'M83']), h.now);
  assert.deepEqual(h.take(), ['N0 M110 N0*125'], 'a line behind the M110 would race the renumbering (N1 ran twice)');
  h.feed('ok N0 P15 B3');
  assert.deepEqual(h.take(), [1, 2, 3].map((n) => numberedLine(n, ['M302 P1', 'M104 S180', 'M83'][n - 1]!).trim()));
});

test('windowed, a mangled ok (real Marlin: merged with a temperature report) does not leave the engine a line behind', () => {
  const h = new Harness({ windowed: true, maxWindow: 4 });
  h.connect(['FIRMWARE_NAME:Marlin bugfix-2.1.x EXTRUDER_COUNT:1', 'ok P15 B3']);
  h.stream(Array.from({ length: 12 }, (_, i) => `G1 X${i + 1}`));
  h.take();
  h.feed('ok N1 P0 B2', 'ok N2 P0 B2');
  h.take();
  // ` T:19.37 /0.00 B:19.37 /0.00` + `ok N3 P0 B2` arrived as one line; the next ok names N4
  h.feed(' T:19.37 /0.00 B:19.37 /0.00ok N3 P0 B2');
  assert.equal(h.engine.commandsInFlight <= 3, true);
  h.feed('ok N4 P0 B2');
  const inFlightLines = h.engine.commandsInFlight;
  h.feed('ok N4 P0 B2'); // a duplicate settles nothing more and sends nothing
  assert.equal(h.engine.commandsInFlight, inFlightLines);
  // the same with the merged ok lost outright: the next numbered ok settles both lines
  const before = h.engine.commandsInFlight;
  h.take();
  h.feed(`ok N${4 + before} P0 B3`);
  assert.equal(h.engine.commandsInFlight <= 3, true, 'back in step: every line through the named one is settled');
});

test('an M400 whose ok was lost: one quiet-time tickle after the communication timeout, and the job ends', () => {
  const h = new Harness({ windowed: true, maxWindow: 4, communicationTimeout: 10_000 });
  h.connect(['FIRMWARE_NAME:Marlin bugfix-2.1.x EXTRUDER_COUNT:1', 'Cap:AUTOREPORT_TEMP:1', 'ok P15 B3']);
  h.feed('ok P15 B3'); // M155
  h.stream(['G1 X1', 'M400']);
  h.take();
  h.feed('ok N1 P0 B3');
  // the M400's ok never comes; auto-reports keep arriving, as in the real 58 s hang
  for (let i = 0; i < 9; i++) {
    h.advance(1000);
    h.feed(' T:19.37 /0.00 B:19.37 /0.00 @:0 B@:0');
  }
  assert.deepEqual(h.take(), [], 'a long command may be quiet for a while');
  h.advance(1000);
  assert.deepEqual(h.take(), ['M105'], 'then one tickle');
  h.advance(30_000);
  assert.deepEqual(h.take(), [], 'only one');
  assert.equal(h.eventsOf('timeout').length, 0, 'no timeout counted against a long command');
  h.feed('ok T:19.37 /0.00 B:19.37 /0.00 @:0 B@:0');
  assert.equal(h.eventsOf('stream-done').length, 1, 'the tickle settled the lost ok: the job is done');
});

test('a Klipper that is shut down (at connect, or later): Error with its reason, the link stays up, FIRMWARE_RESTART brings it back', () => {
  const h = new Harness();
  h.connect(['ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.13.0']);
  // STATUS on a shut-down Klipper, as klippy answers it
  h.feed(
    '// Shutdown due to M112 command',
    '// Once the underlying issue is corrected, use the',
    '// "FIRMWARE_RESTART" command to reset the firmware, reload the',
    '// config, and restart the host software.',
    '// Klipper state: Not ready',
    '!! Shutdown due to M112 command',
    'ok',
  );
  assert.equal(h.eventsOf('fatal').length, 0, 'not a dead link: Klipper still answers');
  const halted = h.eventsOf('halted');
  assert.ok(halted.length >= 1);
  assert.equal(halted[halted.length - 1]!.message, 'Klipper: Shutdown due to M112 command');
  h.engine.send('FIRMWARE_RESTART', h.now);
  assert.deepEqual(h.take().filter((l) => l !== 'M105'), ['FIRMWARE_RESTART']);
  h.feed('ok', '// Klipper state: Disconnect', '// Klipper state: Ready');
  assert.equal(h.eventsOf('ready').length, 1);
  // later, mid-job: M112 from elsewhere shuts it down; the stream stops and the reason is asked for
  h.engine.stream(arraySource(['G1 X1', 'G1 X2', 'G1 X3']), h.now);
  h.take();
  h.feed('ok');
  h.take();
  h.feed('// Klipper state: Shutdown', 'ok');
  assert.equal(h.engine.isStreaming, false);
  assert.ok(h.take().includes('STATUS'));
  h.feed('// Shutdown due to M112 command', '// Klipper state: Not ready', '!! Shutdown due to M112 command', 'ok');
  assert.equal(h.eventsOf('halted').at(-1)!.message, 'Klipper: Shutdown due to M112 command');
  assert.equal(h.eventsOf('fatal').length, 0);
});

test('targets Gantry sends are reported as targets when the firmware reports none (T:24.8 alone)', () => {
  const h = new Harness();
  h.connect();
  h.engine.send('M104 S210', h.now);
  h.engine.send('M140 S60', h.now);
  h.engine.send('M109 T1 S200', h.now);
  const targets = h.eventsOf('target').map((e) => [e.heater, e.target, e.sent]);
  assert.deepEqual(targets, [[0, 210, true]], 'noted as each line goes out');
  h.feed('ok');
  h.feed('ok');
  assert.deepEqual(h.eventsOf('target').map((e) => [e.heater, e.target]), [[0, 210], ['bed', 60], [1, 200]]);
});

test('Marlin reports its volume after the caps (area:{full:…}); it is kept with the firmware', () => {
  const h = new Harness();
  h.connect([
    'FIRMWARE_NAME:Marlin bugfix-2.1.x EXTRUDER_COUNT:1',
    'Cap:EMERGENCY_PARSER:1',
    'area:{full:{min:{x:0.00,y:0.00,z:0.00},max:{x:200.00,y:200.00,z:200.00}},work:{min:{x:0.00,y:0.00,z:0.00},max:{x:200.00,y:200.00,z:200.00}}}',
    'ok',
  ]);
  assert.deepEqual(h.eventsOf('firmware')[0]!.info.area, { min: { x: 0, y: 0, z: 0 }, max: { x: 200, y: 200, z: 200 } });
});

test('a position on the ok line (M114 on firmware that answers after its ok, Smoothieware) is a position, never a temperature', () => {
  const h = new Harness();
  h.connect([]);
  h.engine.send('M114', h.now);
  h.take();
  // OctoPrint's virtual printer with its defaults; `B:12950` is a stepper count, not a bed
  h.feed('ok X:129.162 Y:129.5 Z:0.3 E:28.76049 Count: A:12916 B:12950 C:30');
  assert.deepEqual(h.eventsOf('position').at(-1), { type: 'position', position: { x: 129.162, y: 129.5, z: 0.3, e: 28.76049 } });
  assert.deepEqual(h.eventsOf('temperature'), []);
  h.engine.send('M114', h.now);
  h.take();
  h.feed('ok C: X:10.0000 Y:20.0000 Z:0.3000 E:0.0000');
  assert.deepEqual(h.eventsOf('position').at(-1), { type: 'position', position: { x: 10, y: 20, z: 0.3, e: 0 } });
  assert.deepEqual(h.eventsOf('temperature'), []);
});
