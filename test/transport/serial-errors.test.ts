import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainSerialError } from '../../src/transport/serial.js';

// Pure mapping of the errors serialport raises to what a user can act on. (A real EACCES cannot be produced in CI,
// which runs as root: root opens any device file.)
test('serial errors say what to do', () => {
  const eacces = explainSerialError('/dev/ttyUSB0', new Error('Error: Permission denied, cannot open /dev/ttyUSB0'));
  assert.match(eacces.message, /dialout/);
  assert.equal(eacces.code, 'EACCES');
  assert.match(explainSerialError('/dev/ttyACM0', new Error('Error: No such file or directory, cannot open /dev/ttyACM0')).message, /does not exist/);
  assert.match(explainSerialError('/dev/ttyACM0', new Error('Error: Resource temporarily unavailable Cannot lock port')).message, /in use by another program/);
});
