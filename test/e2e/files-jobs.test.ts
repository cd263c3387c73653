// Uploads, the files API and print jobs end to end: real multipart HTTP, a real PTY, the virtual printer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type GantryRig, gantryRig, waitOperational, uploadGcode } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';
import { commandsOf } from '../helpers/gcode.js';

const GCODE_DIR = new URL('../../../../shared/gcode/', import.meta.url);

const upload = uploadGcode;

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');


describe('files and jobs', () => {
  let rig: GantryRig;
  let filesRoot: string;
  before(async () => {
    rig = await gantryRig({}, {}, ['--speed', '400']);
    filesRoot = join(rig.dir, 'data', 'files');
    await waitOperational(rig);
  });
  after(() => rig.close());

  const visibleFiles = async () => (await readdir(filesRoot, { recursive: true })).filter((n) => !n.startsWith('.tmp')).sort();
  const tempFiles = async () => readdir(join(filesRoot, '.tmp'));

  test('every slicer file in the corpus uploads byte for byte, with OctoPrint shapes and an absolute Location', async () => {
    for (const name of (await readdir(GCODE_DIR)).filter((n) => n.endsWith('.gcode'))) {
      const bytes = await readFile(new URL(name, GCODE_DIR));
      const res = await upload(rig, name, bytes, { path: 'corpus' });
      assert.equal(res.status, 201, name);
      assert.equal(res.headers.get('location'), `${rig.gantry.url.replace('localhost', '127.0.0.1')}/api/files/local/corpus/${name}`);
      const body = (await res.json()) as { files: { local: { path: string; refs: { download: string } } }; done: boolean; effectiveSelect: boolean; effectivePrint: boolean };
      assert.deepEqual([body.done, body.effectiveSelect, body.effectivePrint], [true, false, false]);
      const stored = await readFile(join(filesRoot, 'corpus', name));
      assert.equal(sha1(stored), sha1(bytes), `${name} stored intact`);
      const down = await rig.api(`/downloads/files/local/corpus/${name}`);
      assert.equal(sha1(Buffer.from(await down.arrayBuffer())), sha1(bytes), `${name} downloads intact`);
      const entry = (await (await rig.api(`/api/files/local/corpus/${name}`)).json()) as Record<string, unknown>;
      assert.equal(entry['hash'], sha1(bytes));
      assert.equal(entry['size'], bytes.length);
      assert.deepEqual(entry['typePath'], ['machinecode', 'gcode']);
    }
    const list = (await (await rig.api('/api/files?recursive=true')).json()) as { files: { name: string; type: string; date?: number; children?: unknown[] }[]; free: number; total: number };
    const corpus = list.files.find((f) => f.name === 'corpus')!;
    assert.equal(corpus.type, 'folder');
    assert.equal(corpus.children!.length, 5);
    // OctoPrint lists a folder's mtime as its date, in seconds (clients sort by it)
    const folderMtime = Math.floor((await stat(join(filesRoot, 'corpus'))).mtimeMs / 1000);
    assert.equal(corpus.date, folderMtime);
    assert.ok(Number.isInteger(list.free) && list.total >= list.free);
    assert.equal((await rig.api('/api/files/sdcard')).status, 404);
  });

  test('uploaded files are analysed in the background: estimate, filament, layers, thumbnails served as images', async () => {
    await rig.gantry.analysis.whenDone('corpus/ps_sphere50.gcode');
    const entry = (await (await rig.api('/api/files/local/corpus/ps_sphere50.gcode')).json()) as {
      gcodeAnalysis: { estimatedPrintTime: number; filament: { tool0: { length: number } }; layers: { count: number }; slicer: { estimatedPrintTime: number } };
    };
    const g = entry.gcodeAnalysis;
    assert.ok(Math.abs(g.estimatedPrintTime / g.slicer.estimatedPrintTime - 1) < 0.02);
    assert.equal(g.layers.count, 250);
    assert.ok(g.filament.tool0.length > 7000);
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const b64 = png.toString('base64');
    const text = `; thumbnail begin 1x1 ${b64.length}\n; ${b64}\n; thumbnail end\nG28\nG1 X10 Y10 E1 F1200\n`;
    assert.equal((await upload(rig, 'thumb.gcode', text)).status, 201);
    await rig.gantry.analysis.whenDone('thumb.gcode');
    const withThumb = (await (await rig.api('/api/files/local/thumb.gcode')).json()) as { thumbnail: string };
    assert.match(withThumb.thumbnail, /^api\/gantry\/thumbnails\/thumb\.gcode\?/);
    const img = await rig.api('/' + withThumb.thumbnail);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await img.arrayBuffer()), png);
    assert.equal((await rig.api('/api/gantry/thumbnails/corpus/ps_cube20.gcode')).status, 404, 'no thumbnail in that file');
    assert.equal((await rig.api('/api/files/local/thumb.gcode', { method: 'DELETE' })).status, 204);
  });

  test('folders: create, copy into, move, and refuse to clobber or escape', async () => {
    const mk = new FormData();
    mk.append('foldername', 'parts');
    mk.append('path', '');
    const res = await rig.api('/api/files/local', { method: 'POST', body: mk });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('location')!, /\/api\/files\/local\/parts$/);
    const copy = await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'copy', destination: 'parts' } });
    assert.equal(copy.status, 201);
    assert.equal(((await copy.json()) as { path: string }).path, 'parts/ps_cube20.gcode');
    assert.equal((await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'copy', destination: 'parts' } })).status, 409, 'already there');
    assert.equal((await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'move', destination: 'nowhere' } })).status, 404);
    assert.equal((await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'move', destination: '../..' } })).status, 400);
    const moved = await rig.api('/api/files/local/parts/ps_cube20.gcode', { method: 'POST', json: { command: 'move', destination: '' } });
    assert.equal(moved.status, 201);
    assert.equal((await rig.api('/api/files/local/parts/ps_cube20.gcode')).status, 404, 'moved away');
    assert.equal((await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'move', destination: '' } })).status, 409, 'a file of that name is now at the top');
    assert.equal((await rig.api('/api/files/local/ps_cube20.gcode', { method: 'DELETE' })).status, 204);
    assert.equal((await rig.api('/api/files/local/parts', { method: 'DELETE' })).status, 204);
    assert.equal((await rig.api('/api/files/local/parts')).status, 404);
    const sel = await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'select' } });
    assert.equal(sel.status, 204);
    assert.equal(((await (await rig.api('/api/job')).json()) as { job: { file: { path: string } } }).job.file.path, 'corpus/ps_cube20.gcode');
    assert.equal((await rig.api('/api/files/local/corpus/ps_cube20.gcode', { method: 'POST', json: { command: 'unselect' } })).status, 204);
  });

  test('Range downloads return the requested bytes', async () => {
    const bytes = await readFile(new URL('ps_cube20.gcode', GCODE_DIR));
    const res = await rig.api('/downloads/files/local/corpus/ps_cube20.gcode', { headers: { Range: 'bytes=100-199' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes.subarray(100, 200));
    assert.equal((await rig.api('/downloads/files/local/corpus/ps_cube20.gcode', { key: null })).status, 403, 'downloads need a key too');
  });

  test('wrong type, binary content, path traversal, oversize and duplicates get the right codes and leave nothing behind', async () => {
    const before = await visibleFiles();
    assert.equal((await upload(rig, 'model.stl', 'solid x\nendsolid x\n')).status, 415);
    const binary = Buffer.from('G28\nG1 X1\n\x00\x01\x02binary');
    assert.equal((await upload(rig, 'sneaky.gcode', binary)).status, 415);
    const up = await upload(rig, '../../escape.gcode', 'G28\n', { path: '../../..' });
    assert.equal(up.status, 400, 'a path with .. is refused');
    const named = await upload(rig, '../../escape.gcode', 'G28\n');
    assert.equal(named.status, 201, 'a file name with a path in it is reduced to its name');
    assert.equal(((await named.json()) as { files: { local: { path: string } } }).files.local.path, 'escape.gcode');
    for (const path of ['/api/files/local/%2E%2E/settings.json', '/downloads/files/local/%2E%2E/keys.json', '/api/files/local/corpus/%2E%2E%2F%2E%2E%2Fkeys.json']) {
      const res = await rig.api(path);
      assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /admin|"key"/);
    }
    await rig.gantry.settings.update((s) => (s.files.maxUploadBytes = 10_000));
    try {
      assert.equal((await upload(rig, 'big.gcode', 'G1 X1\n'.repeat(5000))).status, 413);
    } finally {
      await rig.gantry.settings.update((s) => (s.files.maxUploadBytes = 1024 * 1024 * 1024));
    }
    assert.equal((await upload(rig, 'dup.gcode', 'G28\n')).status, 201);
    assert.equal((await upload(rig, 'dup.gcode', 'G28\nG1 X1\n', { noOverwrite: 'true' })).status, 409);
    assert.equal((await upload(rig, 'dup.gcode', 'G28\nG1 X2\n')).status, 201, 'overwrite allowed by default');
    assert.equal(await readFile(join(filesRoot, 'dup.gcode'), 'utf8'), 'G28\nG1 X2\n');
    assert.deepEqual(await visibleFiles(), [...before, 'dup.gcode', 'escape.gcode'].sort());
    assert.deepEqual(await tempFiles(), []);
  });

  test('a disk without room is refused before anything is written (507)', async () => {
    const { free } = (await (await rig.api('/api/files')).json()) as { free: number };
    await rig.gantry.settings.update((s) => (s.files.maxUploadBytes = Number.MAX_SAFE_INTEGER));
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const u = new URL(rig.gantry.url);
        const req = request({ host: '127.0.0.1', port: u.port, method: 'POST', path: '/api/files/local', headers: { 'X-Api-Key': 'test-key-0123456789abcdefghijklmnopqrstu', 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': String(free + 1e9) } });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
          req.destroy();
        });
        req.on('error', reject);
        req.write('--x\r\n');
      });
      assert.equal(status, 507);
    } finally {
      await rig.gantry.settings.update((s) => (s.files.maxUploadBytes = 1024 * 1024 * 1024));
    }
    assert.deepEqual(await tempFiles(), []);
  });

  test('an upload aborted halfway leaves nothing visible and no temp file', async () => {
    const before = await visibleFiles();
    const u = new URL(rig.gantry.url);
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: u.port, method: 'POST', path: '/api/files/local', headers: { 'X-Api-Key': 'test-key-0123456789abcdefghijklmnopqrstu', 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': '10000000' } });
      req.on('error', () => resolve());
      req.write('--x\r\nContent-Disposition: form-data; name="file"; filename="half.gcode"\r\nContent-Type: application/octet-stream\r\n\r\n');
      req.write('G1 X1\n'.repeat(50_000), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await waitFor('temp file cleaned up', async () => (await tempFiles()).length === 0, 5000);
    assert.deepEqual(await visibleFiles(), before);
    assert.equal((await rig.api('/api/gantry/health')).status, 200);
  });

  test('PrusaSlicer-style upload with print=true prints ps_cube20 to the end; the printer executes exactly the file', async () => {
    const version = (await (await rig.api('/api/version')).json()) as { text: string };
    assert.ok(version.text.startsWith('OctoPrint'));
    const text = await readFile(new URL('ps_cube20.gcode', GCODE_DIR), 'utf8');
    const recordedBefore = (await rig.executed()).length;
    // analysed first, as a slicer upload usually is by the time anyone looks: the job then has its estimate
    assert.equal((await upload(rig, 'ps_cube20.gcode', text)).status, 201);
    await rig.gantry.analysis.whenDone('ps_cube20.gcode');
    const res = await upload(rig, 'ps_cube20.gcode', text, { path: '', print: 'true' });
    await rig.gantry.analysis.whenDone('ps_cube20.gcode');
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { effectivePrint: boolean }).effectivePrint, true);
    const seen: number[] = [];
    const origins = new Set<string>();
    const job = await waitFor('the print to finish', async () => {
      const j = (await (await rig.api('/api/job')).json()) as {
        state: string;
        progress: { completion: number | null; printTime: number | null; printTimeLeft: number | null; printTimeLeftOrigin: string | null };
        job: { file: { path: string } };
      };
      if (j.progress.completion !== null) seen.push(j.progress.completion);
      if (j.state === 'Printing' && j.progress.printTimeLeftOrigin) {
        origins.add(j.progress.printTimeLeftOrigin);
        assert.ok(j.progress.printTimeLeft !== null && j.progress.printTimeLeft >= 0);
      }
      return j.state === 'Operational' && seen.length > 0 ? j : undefined;
    }, 120_000, 100);
    assert.equal(job.job.file.path, 'ps_cube20.gcode');
    const finished = (await (await rig.api('/api/job')).json()) as { job: { estimatedPrintTime: number; filament: { tool0: { length: number } } } };
    assert.ok(Math.abs(finished.job.estimatedPrintTime - 1232) < 25, `estimate ${finished.job.estimatedPrintTime}`);
    assert.ok(finished.job.filament.tool0.length > 1200);
    assert.equal(job.progress.completion, 100);
    assert.ok(seen.some((c) => c > 0 && c < 100), 'progress was reported along the way');
    assert.ok(origins.has('mixed-analysis') || origins.has('analysis'), `time left came from the analysis: ${[...origins].join(', ')}`);
    const executed = (await rig.executed()).slice(recordedBefore);
    assert.deepEqual(executed, [...commandsOf(text), 'M400'], 'the file exactly, then the M400 that holds Finishing until the last move ran (as OctoPrint)');
    const history = (await (await rig.api('/api/gantry/history')).json()) as { jobs: { result: string; file: { path: string }; hash: string }[]; totals: { success: number } };
    assert.equal(history.jobs[0]!.result, 'success');
    assert.equal(history.jobs[0]!.file.path, 'ps_cube20.gcode');
    assert.equal(history.jobs[0]!.hash, createHash('sha1').update(text).digest('hex'));
    const last = history.jobs[0] as unknown as { estimatedPrintTime: number; filament: { tool0: { length: number } }; printTime: number };
    assert.ok(Math.abs(last.estimatedPrintTime - 1232) < 25, 'estimated time recorded next to the actual one');
    assert.ok(last.filament.tool0.length > 1200);
    assert.equal(typeof last.printTime, 'number');
    assert.ok(history.totals.success >= 1);
    const entry = (await (await rig.api('/api/files/local/ps_cube20.gcode')).json()) as { prints: { success: number } };
    assert.equal(entry.prints.success, 1);
    // a file selected anew (the same one too) starts with no progress, not the last print's 100 %, as in OctoPrint
    assert.equal((await rig.api('/api/files/local/ps_cube20.gcode', { method: 'POST', json: { command: 'select' } })).status, 204);
    const reselected = (await (await rig.api('/api/job')).json()) as { progress: { completion: number | null; printTime: number | null } };
    assert.deepEqual([reselected.progress.completion, reselected.progress.printTime], [null, null]);
    // the selected file replaced by an upload of the same name: the job shows the new file (OctoPrint reselects it)
    const shorter = 'G28\nG1 X5 Y5 F3000\n';
    assert.equal((await upload(rig, 'ps_cube20.gcode', shorter)).status, 201);
    const replaced = (await (await rig.api('/api/job')).json()) as { job: { file: { path: string; size: number }; user: string | null } };
    assert.deepEqual([replaced.job.file.path, replaced.job.file.size], ['ps_cube20.gcode', shorter.length]);
    assert.equal(typeof replaced.job.user, 'string', 'who selected it, before any print starts (as OctoPrint)');
  });

  test('pause, resume (Cura toggle) and cancel mid-print run their scripts; 409 rules hold', async () => {
    const post = (json: unknown) => rig.api('/api/job', { method: 'POST', json });
    const state = async () => ((await (await rig.api('/api/job')).json()) as { state: string }).state;
    assert.equal((await post({ command: 'pause', action: 'pause' })).status, 409, 'nothing to pause');
    assert.equal((await post({ command: 'cancel' })).status, 409, 'nothing to cancel');
    assert.equal((await post({ command: 'pause', action: 'sideways' })).status, 400);
    // a slower printer for this test, so the job is still running when we act
    assert.equal((await rig.api('/api/files/local/corpus/ps_sphere50.gcode', { method: 'POST', json: { command: 'select', print: true } })).status, 204);
    await waitFor('printing', async () => (await state()) === 'Printing');
    await waitFor('some progress', async () => ((await (await rig.api('/api/job')).json()) as { progress: { completion: number } }).progress.completion > 2, 60_000);
    assert.equal((await post({ command: 'start' })).status, 409, 'already printing');
    assert.equal((await rig.api('/api/files/local/corpus/ps_sphere50.gcode', { method: 'DELETE' })).status, 409, 'cannot delete the file being printed');
    assert.equal((await upload(rig, 'ps_sphere50.gcode', 'G28\n', { path: 'corpus' })).status, 409, 'cannot overwrite it either');
    assert.equal((await post({ command: 'restart' })).status, 409, 'restart needs a paused job');

    const mark = (await rig.executed()).length;
    assert.equal((await post({ command: 'pause', action: 'pause' })).status, 204);
    await waitFor('paused', async () => (await state()) === 'Paused', 30_000);
    const paused = (await rig.executed()).slice(mark);
    assert.deepEqual(paused.slice(-7), ['M400', 'M114', 'M83', 'G1 E-2 F2700', 'G90', paused.at(-2)!, 'G1 X5 Y215 F6000']);
    assert.match(paused.at(-2)!, /^G1 Z[\d.]+ F600$/);
    const progressAtPause = ((await (await rig.api('/api/job')).json()) as { progress: { filepos: number } }).progress.filepos;
    assert.equal((await post({ command: 'pause' })).status, 204, 'Cura: pause without action toggles to resume');
    await waitFor('printing again', async () => (await state()) === 'Printing', 30_000);
    // the state turns Printing as the resume script goes out: wait for the simulator's record of it, not a race
    await rig.waitExecuted('the resume script', (e) => e.length >= mark + paused.length + 2);
    const resumed = (await rig.executed()).slice(mark + paused.length);
    assert.equal(resumed[0], 'G90');
    assert.match(resumed[1]!, /^G1 X[\d.-]+ Y[\d.-]+ F6000$/, 'back over the part');
    await waitFor('progress after resume', async () => ((await (await rig.api('/api/job')).json()) as { progress: { filepos: number } }).progress.filepos > progressAtPause);

    assert.equal((await post({ command: 'cancel' })).status, 204);
    await waitFor('operational after cancel', async () => (await state()) === 'Operational', 30_000);
    const all = await rig.executed();
    await rig.waitExecuted('cancel script', (e) => e.at(-1) === 'M84');
    assert.deepEqual((await rig.executed()).slice(-4), ['M104 S0', 'M140 S0', 'M106 S0', 'M84']);
    assert.ok(all.length > 0);
    // the printer's own host action commands drive the job too (Marlin M118 A1 prints //action:…)
    assert.equal((await rig.api('/api/files/local/corpus/ps_sphere50.gcode', { method: 'POST', json: { command: 'select', print: true } })).status, 204);
    await waitFor('printing', async () => (await state()) === 'Printing');
    await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M118 A1 action:pause' } });
    await waitFor('paused by the printer', async () => (await state()) === 'Paused', 30_000);
    await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M118 A1 action:resume' } });
    await waitFor('resumed by the printer', async () => (await state()) === 'Printing', 30_000);
    await rig.api('/api/printer/command', { method: 'POST', json: { command: 'M118 A1 action:cancel' } });
    await waitFor('cancelled by the printer', async () => (await state()) === 'Operational', 30_000);
    const history = (await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string; reason: string }[]; total: number };
    assert.equal(history.jobs.length, 1);
    assert.equal(history.jobs[0]!.result, 'cancelled');
    assert.equal((await rig.api('/api/files/local/corpus/ps_sphere50.gcode', { method: 'DELETE' })).status, 204);
  });
});
