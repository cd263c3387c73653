// A printer's own settings live in printers.json, Gantry's in settings.json. One save that changes both (the
// printer's name and the MQTT client id, from one settings form) lands in both files or in neither: when either file
// cannot be written, when Gantry is killed before the save's commit point, and when it is killed after it (the next
// start finishes it). Removing a printer saves printers.json before the printer stops, so a crash at that moment
// does not bring back a printer the user removed, and a save that fails leaves it listed and running.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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
      // the file's staged copy cannot be written (each save stages under a name of its own, so no blocker can be put
      // in its way beforehand: the store's stage fails as a full or broken disk fails it)
      const store = file === 'settings.json' ? rig.gantry.settings : (rig.gantry.printers as unknown as { file: typeof rig.gantry.settings }).file;
      const adapter = (store as unknown as { db: { adapter: { stage?: (d: object) => Promise<unknown> } } }).db.adapter;
      adapter.stage = () => Promise.reject(Object.assign(new Error(`EIO: i/o error, open '${join(data(), file)}.tmp-x-commit'`), { code: 'EIO' }));
      try {
        const res = await save('Half', 'half');
        assert.equal(res.status, 500, file);
        assert.match(((await res.json()) as { error: string }).error, new RegExp(`Could not save ${file.replace('.', '\\.')}.*nothing was changed`));
        assert.deepEqual(await shown(), ['Two', 'first'], `live, ${file} failing`);
        assert.deepEqual(await onDisk(), ['Two', 'first'], `on disk, ${file} failing`);
      } finally {
        delete adapter.stage;
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
    const entry = (name: string, content: string) => ({ tmp: join(data(), `${name}.tmp-99999-1a2b3c-commit`), path: join(data(), name), content, sha256: createHash('sha256').update(content).digest('hex') });
    const staged = [entry('printers.json', JSON.stringify(printers)), entry('settings.json', JSON.stringify(settings))];
    await writeFile(staged[0]!.tmp, staged[0]!.content);
    await writeFile(staged[1]!.tmp, staged[1]!.content);
    // killed after the journal was written, and after the first file was put in place
    if (stage === 'committed') {
      await writeFile(join(data(), 'settings-commit.json'), JSON.stringify({ staged }));
      await writeFile(staged[0]!.path, staged[0]!.content);
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

  test('while the removal is saved the printer is off the list and no print can start on it', async () => {
    await add('held');
    const unit = rig.gantry.printers.get('held')!;
    // printers.json's save held open: the window between the removal's checks and the printer's stop
    const adapter = (rig.gantry.printers as unknown as { file: { db: { adapter: { write?: (d: object) => Promise<void> } } } }).file.db.adapter;
    const write = adapter.write!.bind(adapter);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const writing = new Promise<void>((r) => (entered = r));
    adapter.write = async (d) => {
      entered();
      await held;
      return write(d);
    };
    let removal: Promise<Response> | undefined;
    try {
      removal = rig.api('/api/gantry/printers/held', { method: 'DELETE' });
      await writing;
      assert.equal(rig.gantry.printers.get('held'), undefined, 'off the list while saving');
      assert.ok(!rig.gantry.printers.all().includes(unit), 'the farm dispatcher does not see it');
      await assert.rejects(unit.jobs.start(null), /Printer "held" is being removed/, 'its queue, MQTT and the farm start through here');
      assert.equal((await rig.api('/printers/held/api/job', { method: 'POST', json: { command: 'start' } })).status, 404);
      // its own queue holds its items back (not dropped as unprintable: the removal may yet fail)
      await unit.queue.takeBed();
      await unit.queue.add('queued.gcode', 1, null);
      // the bed confirmed clear: the queue's start, awaited
      await unit.queue.confirmBedClear();
      assert.deepEqual(unit.queue.data.items.map((i) => i.path), ['queued.gcode']);
    } finally {
      release();
      delete adapter.write;
    }
    assert.equal((await removal).status, 204);
    assert.deepEqual(listedInFile(), []);
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
    await assert.rejects(rig.gantry.printers.get('stays')!.jobs.start(null), /No file selected/, 'and able to print again');
    assert.deepEqual(listedInFile(), ['stays']);
    assert.equal(((await (await rig.api('/printers/stays/api/job')).json()) as { state: string }).state, 'Operational', 'still answering at its URL');
    // and removed once the file can be written
    assert.equal((await rig.api('/api/gantry/printers/stays', { method: 'DELETE' })).status, 204);
    assert.deepEqual(listedInFile(), []);
  });
});
