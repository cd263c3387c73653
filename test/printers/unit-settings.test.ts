// A printer's settings view: its own sections over the Gantry-wide ones, each change saved where it lives.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Settings, defaultSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log.js';
import { UnitSettings } from '../../src/printers/unit-settings.js';
import type { PrintersFile } from '../../src/printers/printers-file.js';
import { JsonStore } from '../../src/store/json-store.js';
import { tempDir } from '../helpers/tmp.js';

test('a printer reads its own sections and the shared ones; a change goes to the file it belongs to', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const log = createLogger('silent');
    const global = await JsonStore.open<Settings>(join(dir, 'settings.json'), defaultSettings(), log);
    const d = defaultSettings();
    const own = { appearance: { name: 'Voron' }, serial: { ...d.serial, port: '/dev/ttyACM1' }, printerProfile: d.printerProfile, scripts: d.scripts, queue: d.queue, camera: { ...d.camera, source: 'none' }, timelapse: d.timelapse };
    const printers = await JsonStore.open<PrintersFile>(join(dir, 'printers.json'), { printers: [{ id: 'voron', created: 1, settings: own }] }, log);
    const view = new UnitSettings(global, printers, 'voron');
    assert.equal(view.data.appearance.name, 'Voron');
    assert.equal(view.data.serial.port, '/dev/ttyACM1');
    assert.equal(view.data.mqtt.baseTopic, 'gantry', 'the shared sections come from settings.json');
    assert.equal(view.data, view.data, 'one object while nothing changed');

    await view.update((s) => {
      s.serial.baudrate = 115200;
      s.mqtt.baseTopic = 'farm';
    });
    assert.equal(view.data.serial.baudrate, 115200);
    assert.equal(global.data.serial.baudrate, 0, 'the default printer keeps its own serial settings');
    assert.equal(global.data.mqtt.baseTopic, 'farm', 'a shared section changed for every printer');
    const saved = JSON.parse(await readFile(join(dir, 'printers.json'), 'utf8')) as PrintersFile;
    assert.equal(saved.printers[0]!.settings.serial.baudrate, 115200);
    assert.equal((JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as Settings).mqtt.baseTopic, 'farm');

    // a change that throws changes nothing anywhere
    await assert.rejects(view.update((s) => {
      s.serial.port = '/dev/other';
      throw new Error('refused');
    }), /refused/);
    assert.equal(view.data.serial.port, '/dev/ttyACM1');
  } finally {
    await cleanup();
  }
});
