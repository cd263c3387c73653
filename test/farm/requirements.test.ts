// What a file needs of a printer, and the words a mismatch is reported in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSettings } from '../../src/config/settings.js';
import type { StoredAnalysis } from '../../src/files/analysis/analysis-queue.js';
import { misfit, requirementsOf } from '../../src/farm/requirements.js';

const profile = (change: (p: ReturnType<typeof defaultSettings>['printerProfile']) => void = () => undefined) => {
  const p = defaultSettings().printerProfile;
  change(p);
  return p;
};
const analysis = (area: [number, number, number, number, number], settings: Record<string, string> = {}) =>
  ({ printingArea: { minX: area[0], maxX: area[1], minY: area[2], maxY: area[3], minZ: 0.2, maxZ: area[4] }, slicer: { settings } }) as unknown as StoredAnalysis;

test('the first tool of a multi-extruder file decides; what the item asks wins over the file', () => {
  const r = requirementsOf(analysis([0, 100, 0, 100, 20], { nozzle_diameter: '0.6,0.4', filament_type: 'PETG;PLA', printer_model: 'MK4' }), {});
  assert.equal(r.nozzleDiameter, 0.6);
  assert.equal(r.filamentType, 'PETG');
  assert.equal(r.slicedFor, 'MK4');
  const asked = requirementsOf(analysis([0, 100, 0, 100, 20], { nozzle_diameter: '0.6' }), { nozzleDiameter: 0.4, filamentType: 'ASA' });
  assert.deepEqual([asked.nozzleDiameter, asked.filamentType], [0.4, 'ASA']);
  const none = requirementsOf(undefined, {});
  assert.deepEqual([none.area, none.nozzleDiameter, none.filamentType, none.printers], [null, null, null, null]);
});

test('bed, height, nozzle and filament misfits say what is there and what is needed', () => {
  const req = (a: [number, number, number, number, number], s: Record<string, string> = {}, c = {}) => requirementsOf(analysis(a, s), c);
  assert.equal(misfit('p', profile(), req([5, 200, 5, 210, 20])), null);
  assert.equal(misfit('p', profile(), req([5, 235.2, 5, 205, 20])), 'bed 220×220 < 235×205 needed');
  assert.equal(misfit('p', profile(), req([5, 220.3, 5, 220.4, 20])), null, 'half a millimetre over is a skirt, not a misfit');
  assert.equal(misfit('p', profile(), req([5, 100, 5, 100, 260])), 'height 250 < 260 needed');
  assert.equal(misfit('p', profile(), req([5, 100, -3, 100, 20])), null, "a purge line just off the bed's front edge");
  assert.equal(misfit('p', profile(), req([-90, 90, -80, 80, 20])), 'bed origin lower-left, the file prints from X-90 Y-80 (sliced for a centred origin)');
  // centre origin (deltas, some CoreXY): the farthest point either way
  assert.equal(misfit('p', profile((p) => (p.volume.origin = 'center')), req([-90, 90, -120, 50, 20])), 'bed 220×220 < 180×240 needed');
  assert.equal(misfit('p', profile((p) => Object.assign(p.volume, { formFactor: 'circular', origin: 'center', width: 200, depth: 200 })), req([-80, 80, -80, 80, 20])), 'bed ⌀200 < ⌀226 needed');
  assert.equal(misfit('p', profile(), req([5, 50, 5, 50, 20], { nozzle_diameter: '0.6' })), 'nozzle 0.4 mm, 0.6 mm needed');
  // a printer that says nothing of its filament takes any; one that does, only that (in any case)
  assert.equal(misfit('p', profile(), req([5, 50, 5, 50, 20], { filament_type: 'PETG' })), null);
  assert.equal(misfit('p', profile((p) => (p.filamentType = 'PLA')), req([5, 50, 5, 50, 20], { filament_type: 'PETG' })), 'PLA loaded, PETG needed');
  assert.equal(misfit('p', profile((p) => (p.filamentType = 'petg')), req([5, 50, 5, 50, 20], { filament_type: 'PETG' })), null);
  assert.equal(misfit('p', profile(), req([5, 50, 5, 50, 20], {}, { printers: ['q'] })), 'not one of the printers the item asks for');
});
