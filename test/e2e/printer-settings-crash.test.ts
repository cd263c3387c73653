// A printer's own settings live in printers.json, Gantry's in settings.json. One save that changes both (the
// printer's name and the MQTT client id, from one settings form) lands in both files or in neither: when either file
// cannot be written, when Gantry is killed before the save's commit point, and when it is killed after it (the next
// start finishes it). Removing a printer saves printers.json before the printer stops, so a crash at that moment
// does not bring back a printer the user removed, and a save that fails leaves it listed and running.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

interface Shown {
  appearance: { name: string };
  gantry: { mqtt: { clientId: string } };
}

describe("a save that spans a printer's settings and Gantry's", () => {
  let rig: GantryRig;
  const data = () => join(rig.dir, 'data');
  const save = (name: string, clientId: string) => rig.api('/printers/two/api/settings', { method: 'POST', json: { appearance: { name }, gantry: { mqtt: { clientId } } } });
  const shown = async () => {
    const s = (await (await rig.api('/printers/two/api/settings')).json()) as Shown;
    return [s.appearance.name, s.gantry.mqtt.clientId];
  };
  const onDisk = async () => {
    const printers = JSON.parse(await readFile(join(data(), 'printers.json'), 'utf8')) as { printers: { id: string; settings: { appearance: { name: string } } }[] };
    const settings = JSON.parse(await readFile(join(data(), 'settings.json'), 'utf8')) as { mqtt: { clientId: string } };
    return [printers.printers.find((p) => p.id === 'two')?.settings.appearance.name, settings.mqtt.clientId];
  };
  const leftovers = async () => (await readdir(data())).filter((n) => /\.tmp-|commit/.test(n));

  before(async () => {
    rig = await gantryRig({ camera: 'none' });
    await waitOperational(rig);
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id: 'two', name: 'Two', serial: { port: 'virtual' } } })).status, 201);
    assert.equal((await save('Two', 'first')).status, 200);
    assert.deepEqual(await onDisk(), ['Two', 'first']);
  });
  after(() => rig?.close());

  test('either file cannot be written: neither changes, live or on disk, and nothing is left behind', async () => {
    for (const file of ['printers.json', 'settings.json']) {
      // a directory where the file's staged copy goes: that file cannot be written
      const blocker = join(data(), `${file}.tmp-${process.pid}-commit`);
      await mkdir(blocker);
      try {
        const res = await save('Half', 'half');
        assert.equal(res.status, 500, file);
        assert.match(((await res.json()) as { error: string }).error, new RegExp(`Could not save ${file.replace('.', '\\.')}.*nothing was changed`));
        assert.deepEqual(await shown(), ['Two', 'first'], `live, ${file} failing`);
        assert.deepEqual(await onDisk(), ['Two', 'first'], `on disk, ${file} failing`);
      } finally {
        await rmdir(blocker);
      }
      assert.deepEqual(await leftovers(), []);
    }
    // room again: the same save lands in both
    assert.equal((await save('Both', 'both')).status, 200);
    assert.deepEqual(await shown(), ['Both', 'both']);
    assert.deepEqual(await onDisk(), ['Both', 'both']);
  });

  /** Stops Gantry, leaves the data folder as a save killed at `stage` leaves it, and starts Gantry again. */
  const killedAt = async (stage: 'staged' | 'committed', name: string, clientId: string) => {
    await rig.gantry.stop();
    const printers = JSON.parse(await readFile(join(data(), 'printers.json'), 'utf8')) as { printers: { id: string; settings: { appearance: { name: string } } }[] };
    printers.printers.find((p) => p.id === 'two')!.settings.appearance.name = name;
    const settings = JSON.parse(await readFile(join(data(), 'settings.json'), 'utf8')) as { mqtt: { clientId: string } };
    settings.mqtt.clientId = clientId;
    // the staged copies, as the killed process (another pid) wrote them
    const staged = [
      { tmp: join(data(), 'printers.json.tmp-99999-commit'), path: join(data(), 'printers.json') },
      { tmp: join(data(), 'settings.json.tmp-99999-commit'), path: join(data(), 'settings.json') },
    ];
    await writeFile(staged[0]!.tmp, JSON.stringify(printers));
    await writeFile(staged[1]!.tmp, JSON.stringify(settings));
    // killed after the journal was written, and after the first file was put in place
    if (stage === 'committed') {
      await writeFile(join(data(), 'settings-commit.json'), JSON.stringify({ staged }));
      await writeFile(staged[0]!.path, JSON.stringify(printers));
      await (await import('node:fs/promises')).unlink(staged[0]!.tmp);
    }
    await rig.restart();
    await waitOperational(rig);
  };

  test('killed before the commit point: after a restart both files have the old values', async () => {
    await killedAt('staged', 'Lost', 'lost');
    assert.deepEqual(await shown(), ['Both', 'both']);
    assert.deepEqual(await onDisk(), ['Both', 'both']);
    assert.deepEqual(await leftovers(), []);
  });

  test('killed after the commit point, one file in place: the next start puts the other in place too', async () => {
    await killedAt('committed', 'Kept', 'kept');
    assert.deepEqual(await shown(), ['Kept', 'kept']);
    assert.deepEqual(await onDisk(), ['Kept', 'kept']);
    assert.deepEqual(await leftovers(), []);
    assert.ok(rig.logs.some((l) => /finished a save cut short by a stop: printers\.json and settings\.json/.test(l)));
  });
});

describe('removing a printer', () => {
  let rig: GantryRig;
  const listedInFile = () => (JSON.parse(readFileSync(join(rig.dir, 'data', 'printers.json'), 'utf8')) as { printers: { id: string }[] }).printers.map((p) => p.id);
  const add = async (id: string) => {
    assert.equal((await rig.api('/api/gantry/printers', { method: 'POST', json: { id, serial: { port: 'virtual' } } })).status, 201);
    await waitFor(`${id} operational`, () => rig.gantry.printers.get(id)?.printer.state === 'OPERATIONAL', 20_000);
  };
  before(async () => {
    rig = await gantryRig({ camera: 'none' });
    await waitOperational(rig);
  });
  after(() => rig?.close());

  test('printers.json says it is gone before the printer stops: a crash while it stops does not bring it back', async () => {
    await add('gone');
    // the moment the printer's stop begins, what a restart (after a crash then) would read
    const unit = rig.gantry.printers.get('gone')!;
    const stop = unit.stop.bind(unit);
    let fileAtStop: string[] | undefined;
    let listedAtStop: boolean | undefined;
    unit.stop = () => {
      fileAtStop ??= listedInFile();
      listedAtStop ??= rig.gantry.printers.get('gone') !== undefined;
      return stop();
    };
    assert.equal((await rig.api('/api/gantry/printers/gone', { method: 'DELETE' })).status, 204);
    assert.equal(listedAtStop, false, 'off the list (a 404) before it stops');
    assert.ok(fileAtStop, 'the printer was stopped by the removal');
    assert.deepEqual(fileAtStop, [], 'printers.json no longer listed it when it stopped');
    await rig.restart();
    await waitOperational(rig);
    assert.equal(rig.gantry.printers.get('gone'), undefined);
  });

  test('printers.json cannot be written: the removal is refused and the printer stays, listed and running', async () => {
    await add('stays');
    const blocker = join(rig.dir, 'data', `printers.json.tmp-${process.pid}`);
    await mkdir(blocker);
    try {
      const res = await rig.api('/api/gantry/printers/stays', { method: 'DELETE' });
      assert.equal(res.status, 500);
      assert.match(((await res.json()) as { error: string }).error, /Could not save printers\.json/);
    } finally {
      await rmdir(blocker);
    }
    assert.equal(rig.gantry.printers.get('stays')?.printer.state, 'OPERATIONAL', 'still running');
    assert.deepEqual(listedInFile(), ['stays']);
    assert.equal(((await (await rig.api('/printers/stays/api/job')).json()) as { state: string }).state, 'Operational', 'still answering at its URL');
    // and removed once the file can be written
    assert.equal((await rig.api('/api/gantry/printers/stays', { method: 'DELETE' })).status, 204);
    assert.deepEqual(listedInFile(), []);
  });
});
