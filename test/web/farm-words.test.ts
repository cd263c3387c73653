// How the page words the farm queue and what its "add" form sends (public/src/farm-words.ts), in Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FarmItem, farmConstraints, farmItemLine, farmWhere } from '../../public/src/farm-words.js';

const names = new Map([
  ['printer', 'Gantry'],
  ['two', 'Printer two'],
]);
const item = (o: Partial<FarmItem>): FarmItem => ({ id: 'a', path: 'part.gcode', copies: 1, printed: 0, state: 'waiting', printing: [], addedBy: null, reason: null, ...o });

test('an item: copies printed, where it prints by the printers\' names, why the rest wait', () => {
  assert.equal(farmItemLine(item({ reason: 'no idle printer fits: two: bed not confirmed clear', addedBy: 'owner' }), names), '0 of 1 printed · waiting: no idle printer fits: two: bed not confirmed clear · added by owner');
  const printing = item({ copies: 3, printed: 1, state: 'printing', printing: [{ printer: 'two', since: 1, interrupted: false }, { printer: 'gone', since: 2, interrupted: false }], reason: 'no idle printer fits: printer: printing' });
  assert.equal(farmItemLine(printing, names), '1 of 3 printed · printing on Printer two, gone · waiting: no idle printer fits: printer: printing');
  assert.equal(farmWhere(item({ state: 'interrupted', printing: [{ printer: 'printer', since: 1, interrupted: true }] }), names), 'interrupted on Gantry: was it printed?');
  assert.equal(farmWhere(item({}), names), '');
});

test('constraints: only what is set; every printer ticked, or none, is any printer', () => {
  assert.equal(farmConstraints({ nozzle: '', filament: ' ', printers: [] }, 3), undefined);
  assert.deepEqual(farmConstraints({ nozzle: '0,6', filament: ' PETG ', printers: ['two'] }, 3), { nozzleDiameter: 0.6, filamentType: 'PETG', printers: ['two'] });
  assert.deepEqual(farmConstraints({ nozzle: 'x', filament: '', printers: ['a', 'b', 'c'] }, 3), undefined);
  assert.deepEqual(farmConstraints({ nozzle: '0.4', filament: '', printers: ['a', 'b', 'c'] }, 3), { nozzleDiameter: 0.4 });
});
