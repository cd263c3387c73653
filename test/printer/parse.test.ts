import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAction, parseAdvancedOk, parsePosition, parseRepetierTarget, parseResend, parseTemperatures } from '../../src/printer/parse.js';
import { detectFlavor, parseCapability, parseFirmwareLine } from '../../src/printer/firmware.js';
import { classifyError, errorText } from '../../src/printer/errors.js';

const t = (line: string) => {
  const r = parseTemperatures(line);
  assert.ok(r, line);
  return r;
};

test('Marlin temperature formats, including the heat-and-wait form and a mangled line', () => {
  const a = t('ok T:19.37 /0.00 B:19.37 /0.00 @:0 B@:0');
  assert.deepEqual(a.tools.get(0), { actual: 19.37, target: 0 });
  assert.deepEqual(a.bed, { actual: 19.37, target: 0 });
  const w = t(' T:199.09 /200.00 B:47.89 /50.00 @:11 B@:0 W:8');
  assert.deepEqual(w.tools.get(0), { actual: 199.09, target: 200 });
  // Marlin sometimes drops the T part: only the bed is updated
  const mangled = t(' B:46.05 /50.00 @:0 B@:5 W:?');
  assert.equal(mangled.tools.size, 0);
  assert.deepEqual(mangled.bed, { actual: 46.05, target: 50 });
  const vp = t('ok T:200.00/ 200.00 B:60.00/ 60.00 @:64');
  assert.deepEqual(vp.tools.get(0), { actual: 200, target: 200 });
});

test('multi-tool, Klipper, Smoothieware, Prusa and chamber formats', () => {
  const multi = t('T:200.0 /200.0 B:60.0 /60.0 T0:200.0 /200.0 T1:25.0 /0.0 @:0 B@:0 @0:0 @1:0');
  assert.deepEqual(multi.tools.get(1), { actual: 25, target: 0 });
  assert.equal(multi.tools.size, 2);
  const klipper = t('ok B:25.0 /60.0 T0:162.6 /200.0');
  assert.deepEqual(klipper.tools.get(0), { actual: 162.6, target: 200 });
  assert.deepEqual(klipper.bed, { actual: 25, target: 60 });
  const smoothie = t('ok T:21.4 /0.0 @0 B:21.5 /0.0 @0');
  assert.deepEqual(smoothie.tools.get(0), { actual: 21.4, target: 0 });
  const prusa = t('T:23.8 /0.0 B:23.9 /0.0 T0:23.8 /0.0 @:0 B@:0 P:0.0 A:30.0');
  assert.equal(prusa.extra.get('A'), 30);
  const chamber = t('T:20 /0 B:20 /0 C:35.5 /40.0');
  assert.deepEqual(chamber.chamber, { actual: 35.5, target: 40 });
  // `T:` with the active tool 1 is tool 1
  assert.deepEqual(parseTemperatures('T:210 /210 B:60 /60', 1)!.tools.get(1), { actual: 210, target: 210 });
  // Smoothieware with two tools reports `T:` (tool 0) and `T1:`, whichever tool is active
  const twoTools = parseTemperatures('T:93.46 /200.0 @0 T1:21.3 /0.0 @0 B:60.1 /60.0 @0', 1)!;
  assert.deepEqual([twoTools.tools.get(0), twoTools.tools.get(1)], [{ actual: 93.46, target: 200 }, { actual: 21.3, target: 0 }]);
});

test('Repetier targets, positions, resends, actions, ADVANCED_OK', () => {
  assert.deepEqual(parseRepetierTarget('TargetExtr0:210'), { heater: 0, target: 210 });
  assert.deepEqual(parseRepetierTarget('TargetBed:60'), { heater: 'bed', target: 60 });
  assert.deepEqual(parsePosition('X:50.00 Y:50.00 Z:10.00 E:0.00 Count X:4000 Y:4000 Z:4000'), { x: 50, y: 50, z: 10, e: 0 });
  assert.deepEqual(parsePosition('X:50.000 Y:50.000 Z:10.000 E:0.000'), { x: 50, y: 50, z: 10, e: 0 });
  assert.equal(parseTemperatures('X:50.00 Y:50.00 Z:10.00 E:0.00 Count X:4000 Y:4000 Z:4000'), undefined);
  assert.equal(parseResend('Resend: 2'), 2);
  assert.equal(parseResend('Resend:3'), 3);
  assert.equal(parseResend('rs N12'), 12);
  assert.equal(parseResend('rs 7'), 7);
  assert.equal(parseResend('Resend:N:42'), 42);
  assert.equal(parseResend('ok'), undefined);
  assert.deepEqual(parseAction('//action:pause'), { name: 'pause', params: '' });
  assert.deepEqual(parseAction('// action:prompt_begin Filament runout'), { name: 'prompt_begin', params: 'Filament runout' });
  assert.equal(parseAction('// Klipper state: Ready'), undefined);
  assert.deepEqual(parseAdvancedOk('ok N5 P14 B3'), { line: 5, planner: 14, buffer: 3 });
  assert.deepEqual(parseAdvancedOk('ok P15 B3'), { planner: 15, buffer: 3 });
});

test('firmware detection for every flavor from real M115 lines', () => {
  const cases: [string, string][] = [
    ['FIRMWARE_NAME:Marlin bugfix-2.1.x (Nov 24 2026 00:34:42) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:SimRap 1.4 EXTRUDER_COUNT:1 UUID:cede2a2f', 'marlin'],
    ['ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.13.0-730-g84104bbbd', 'klipper'],
    ['FIRMWARE_NAME:Prusa-Firmware 3.13.0 based on Marlin FIRMWARE_URL:https://github.com/prusa3d/Prusa-Firmware PROTOCOL_VERSION:1.0 MACHINE_TYPE:Prusa i3 MK3S EXTRUDER_COUNT:1', 'prusa'],
    ['FIRMWARE_NAME:Repetier_1.0.3 COMPILED:Jan 1 2020 FIRMWARE_URL:https://github.com/repetier/Repetier-Firmware/ PROTOCOL_VERSION:1.0 MACHINE_TYPE:Mendel EXTRUDER_COUNT:1', 'repetier'],
    ['FIRMWARE_NAME:Smoothieware, FIRMWARE_URL:http%3A//smoothieware.org, X-SOURCE_CODE_URL:https://github.com/Smoothieware/Smoothieware, FIRMWARE_VERSION:edge-3ba7e5e, X-FIRMWARE_BUILD_DATE:Feb 1 2021, X-SYSTEM_CLOCK:100MHz, X-AXES:5', 'smoothieware'],
    ['FIRMWARE_NAME: RepRapFirmware for Duet 2 WiFi/Ethernet FIRMWARE_VERSION: 3.4.5 ELECTRONICS: Duet 2 WiFi FIRMWARE_DATE: 2022-11-30', 'reprapfirmware'],
  ];
  for (const [line, flavor] of cases) {
    const fields = parseFirmwareLine(line);
    assert.ok(fields, line);
    assert.equal(detectFlavor(fields['FIRMWARE_NAME']!), flavor, line);
  }
  const marlin = parseFirmwareLine(cases[0]![0])!;
  assert.equal(marlin['EXTRUDER_COUNT'], '1');
  assert.equal(marlin['MACHINE_TYPE'], 'SimRap 1.4');
  assert.equal(parseFirmwareLine(cases[4]![0])!['FIRMWARE_VERSION'], 'edge-3ba7e5e');
  assert.equal(parseFirmwareLine(cases[5]![0])!['FIRMWARE_VERSION'], '3.4.5');
  assert.deepEqual(parseCapability('Cap:AUTOREPORT_TEMP:1'), ['AUTOREPORT_TEMP', true]);
  assert.deepEqual(parseCapability('Cap:EMERGENCY_PARSER:0'), ['EMERGENCY_PARSER', false]);
});

test('error taxonomy', () => {
  const c = (line: string) => {
    const e = errorText(line)!;
    return classifyError(e.text, e);
  };
  assert.equal(c('Error:checksum mismatch, Last Line: 1'), 'resend');
  assert.equal(c('Error:Line Number is not Last Line Number+1, Last Line: 1'), 'resend');
  assert.equal(c('Error: expected line 3 got 2'), 'resend');
  assert.equal(c('Error: Missing checksum'), 'resend');
  assert.equal(c('Error:No Checksum with line number, Last Line: 4'), 'resend');
  assert.equal(c('Error: No Line Number with checksum, Last Line: 109'), 'discarded');
  assert.equal(c('Error:Printer halted. kill() called!'), 'fatal');
  assert.equal(c('Error:Thermal Runaway, system stopped! Heater_ID: 0'), 'fatal');
  assert.equal(c('Error:MAXTEMP triggered, system stopped! Heater_ID: 0'), 'fatal');
  assert.equal(c('Error: Extruder switched off. MINTEMP triggered !'), 'fatal');
  assert.equal(c('Error:0'), 'join-next');
  assert.equal(c('fatal: something broke'), 'fatal');
  assert.equal(c('!! Move out of range: 500.000 0.000 0.000 [0.000]'), 'command');
  assert.equal(c('!! Must home axis first: 500.000 0.000 0.000 [0.000]'), 'command');
  assert.equal(c("!! Lost communication with MCU 'mcu'"), 'fatal');
  assert.equal(c('!!'), 'fatal');
  assert.equal(c('Error:volume.init failed'), 'ignore');
  assert.equal(c('Error:Unknown command: "M9999"'), 'unknown-command');
});
