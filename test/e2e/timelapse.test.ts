// Timelapses end to end: a real ffmpeg test camera, the virtual printer, real renders checked with ffprobe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GantryEvents } from '../../src/events.js';
import { probeVideo } from '../helpers/ffprobe.js';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { commandsOf } from '../helpers/gcode.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const GCODE_DIR = new URL('../../../../shared/gcode/', import.meta.url);

interface TimelapseList {
  config: { type: string; minDelay: number; park: boolean };
  enabled: boolean;
  files: { name: string; bytes: number; size: string; url: string; thumbnail: string | null }[];
  unrendered?: { name: string; frames: number; recording: boolean; rendering: boolean; processing: boolean }[];
}

/** Three layers and no layer comments; each layer has a z-hop travel (with an unretract at the top) that must not
 * count as a layer. */
function threeLayers(): string {
  const out = ['G28', 'G90', 'M82', 'G92 E0'];
  let e = 0;
  for (let i = 1; i <= 3; i++) {
    const z = (0.2 * i).toFixed(1);
    out.push(`G1 Z${z} F600`, 'G1 X20 Y20 F3000', `G1 X40 Y20 E${(e += 1).toFixed(2)} F1200`, `G1 X40 Y40 E${(e += 1).toFixed(2)}`);
    // retract, hop, travel, unretract while still up (some slicers do), down: none of it is a layer
    out.push(`G1 E${(e - 0.5).toFixed(2)} F2700`, `G1 Z${(0.2 * i + 0.4).toFixed(1)} F600`, 'G1 X20 Y40 F3000', `G1 E${e.toFixed(2)} F2700`, `G1 Z${z} F600`);
    out.push(`G1 X20 Y20 E${(e += 1).toFixed(2)} F1200`);
  }
  return out.join('\n') + '\n';
}

describe('timelapse (ffmpeg test camera, virtual printer)', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ camera: 'testsrc' }, {}, ['--speed', '100']);
    await waitOperational(rig);
  });
  after(() => rig.close());

  const list = async (unrendered = false) => (await (await rig.api(`/api/timelapse${unrendered ? '?unrendered=true' : ''}`)).json()) as TimelapseList;
  const print = async (name: string, text: string) => {
    assert.equal((await uploadGcode(rig, name, text)).status, 201);
    await rig.gantry.analysis.whenDone(name);
    assert.equal((await rig.api(`/api/files/local/${name}`, { method: 'POST', json: { command: 'select', print: true } })).status, 204);
  };

  test('a layer-change timelapse of ps_cube20: one frame per layer, rendered to a playable MP4 that /api/timelapse lists', async () => {
    const config = await rig.api('/api/timelapse', { method: 'POST', json: { type: 'zchange', minDelay: 0, postRoll: 1, fps: 0, renderAfterPrint: 'always' } });
    assert.equal(config.status, 200);
    assert.equal(((await config.json()) as TimelapseList).config.minDelay, 0);
    const text = await readFile(new URL('ps_cube20.gcode', GCODE_DIR), 'utf8');
    const frames: number[] = [];
    const progress: number[] = [];
    const offFrame = rig.gantry.bus.on('timelapse.frame', (f) => frames.push(f.frame));
    const offRender = rig.gantry.bus.on('timelapse.render', (r) => r.state === 'progress' && progress.push(r.progress));
    const rendered = nextEvent(rig.gantry.bus, 'timelapse.render', (r) => r.state === 'done' || r.state === 'failed', 240_000);
    await print('ps_cube20.gcode', text);
    const done: GantryEvents['timelapse.render'] = await rendered;
    offFrame();
    offRender();
    assert.equal(done.state, 'done', done.error ?? '');
    const entry = (await (await rig.api('/api/files/local/ps_cube20.gcode')).json()) as { gcodeAnalysis: { layers: { count: number } } };
    const layers = entry.gcodeAnalysis.layers.count;
    assert.equal(layers, 100);
    assert.deepEqual([...frames].sort((a, b) => a - b), Array.from({ length: layers }, (_, i) => i + 1), 'one frame per layer');
    assert.ok(progress.length > 0, 'render progress reported');

    const l = await list(true);
    assert.equal(l.enabled, true);
    assert.equal(l.files.length, 1);
    const video = l.files[0]!;
    assert.match(video.name, /^ps_cube20_\d{14}\.mp4$/);
    assert.match(video.size, /^[\d.]+(B|KB|MB)$/);
    assert.deepEqual(l.unrendered, [], 'frames removed once rendered');
    const res = await rig.api(`/downloads/timelapse/${video.name}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    const file = join(rig.dir, 'download.mp4');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const info = await probeVideo(file);
    assert.equal(info.codec, 'h264');
    assert.equal(info.width, 640);
    // 100 frames fit to a 10 s video = 10 fps, plus 1 s of post-roll
    assert.equal(info.frames, 100 + 10);
    const part = await rig.api(`/downloads/timelapse/${video.name}`, { headers: { Range: 'bytes=0-99' } });
    assert.equal(part.status, 206);
    assert.equal((await part.arrayBuffer()).byteLength, 100);
    const poster = await rig.api(new URL(video.thumbnail!).pathname);
    assert.equal(poster.headers.get('content-type'), 'image/jpeg');
  });

  test('parking on a file without layer comments: three layers (z-hops ignored), the head parks for each frame, the file runs unchanged', async () => {
    const res = await rig.api('/api/timelapse', { method: 'POST', json: { park: true, minDelay: 0, renderAfterPrint: 'off' } });
    assert.equal(res.status, 200);
    const text = threeLayers();
    const before = (await rig.executed()).length;
    const frames: number[] = [];
    const off = rig.gantry.bus.on('timelapse.frame', (f) => frames.push(f.frame));
    const ended = nextEvent(rig.gantry.bus, 'job.ended', () => true, 60_000);
    await print('three_layers.gcode', text);
    assert.equal((await ended).result, 'success');
    const entry = await waitFor('the recording listed as unrendered', async () => (await list(true)).unrendered?.find((u) => u.name.startsWith('three_layers_') && !u.recording));
    off();
    assert.equal(entry.frames, 3);
    assert.equal(frames.length, 3);
    const executed = (await rig.executed()).slice(before);
    const parks = executed.filter((c) => c === 'G1 X5 Y215 F9000');
    assert.equal(parks.length, 3, 'parked once per layer');
    // every line of the file ran, in order, with the parking moves in between
    const wanted = commandsOf(text);
    let i = 0;
    for (const c of executed) if (c === wanted[i]) i++;
    assert.equal(i, wanted.length, `the file's lines ran in order (${i}/${wanted.length})`);
    // each park is followed by the way back to where the head was, at the layer's height
    for (let at = executed.indexOf('G1 X5 Y215 F9000'), n = 0; at >= 0; at = executed.indexOf('G1 X5 Y215 F9000', at + 1), n++) {
      const back = executed.slice(at + 1).find((c) => /^G1 Z[\d.]+ F600$/.test(c));
      assert.equal(back, `G1 Z${(0.2 * (n + 1)).toFixed(1).replace(/\.?0+$/, '')} F600`, `back down to layer ${n + 1}`);
    }

    // rendered on request
    const name = entry.name;
    const rendered = nextEvent(rig.gantry.bus, 'timelapse.render', (r) => r.name === name && (r.state === 'done' || r.state === 'failed'), 60_000);
    assert.equal((await rig.api(`/api/timelapse/unrendered/${name}`, { method: 'POST', json: { command: 'render' } })).status, 204);
    assert.equal((await rendered).state, 'done');
    const l = await list(true);
    assert.ok(l.files.some((f) => f.name === `${name}.mp4`));
    assert.equal((await rig.api(`/api/timelapse/${name}.mp4`, { method: 'DELETE' })).status, 200);
    assert.ok(!(await list()).files.some((f) => f.name === `${name}.mp4`), 'deleted');
    await rig.api('/api/timelapse', { method: 'POST', json: { park: false, renderAfterPrint: 'always' } });
  });

  test('timed mode: a frame every second while printing, plus the finished part', async () => {
    assert.equal((await rig.api('/api/timelapse', { method: 'POST', json: { type: 'timed', interval: 1, renderAfterPrint: 'off' } })).status, 200);
    const frames: number[] = [];
    const off = rig.gantry.bus.on('timelapse.frame', (f) => frames.push(f.frame));
    const started = nextEvent(rig.gantry.bus, 'job.started');
    const ended = nextEvent(rig.gantry.bus, 'job.ended', () => true, 120_000);
    assert.equal((await rig.api('/api/files/local/ps_cube20.gcode', { method: 'POST', json: { command: 'select', print: true } })).status, 204);
    await started;
    const t0 = Date.now();
    await ended;
    const seconds = (Date.now() - t0) / 1000;
    const entry = await waitFor('the recording listed', async () => (await list(true)).unrendered?.find((u) => u.name.startsWith('ps_cube20_') && !u.recording));
    off();
    // one a second and the finished part: never more; on a loaded machine the timer's ticks slip (a busy event
    // loop runs them late), so fewer may come, but not fewer than one every two seconds
    assert.ok(entry.frames <= Math.floor(seconds) + 2 && entry.frames >= Math.floor(seconds / 2), `${entry.frames} frames over ${seconds.toFixed(1)} s`);
    assert.equal(frames.length, entry.frames, 'every frame announced was saved');
    // listed as no longer recording only once its files are complete (the post-roll frame, job.json): a delete
    // in between raced them into the folder and failed with ENOTEMPTY
    const job = JSON.parse(await readFile(join(rig.dir, 'data', 'timelapse', 'frames', entry.name, 'job.json'), 'utf8')) as { frames: number };
    assert.equal(job.frames, entry.frames);
    assert.equal((await rig.api(`/api/timelapse/unrendered/${entry.name}`, { method: 'DELETE' })).status, 200);
    assert.ok(!(await list(true)).unrendered?.some((u) => u.name === entry.name), 'deleted');
    await rig.api('/api/timelapse', { method: 'POST', json: { type: 'zchange', renderAfterPrint: 'always' } });
  });

  test('bad requests get clear errors; names never leave the timelapse folder; the API key is required', async () => {
    const bad = await rig.api('/api/timelapse', { method: 'POST', json: { type: 'sometimes', fps: -1 } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /type must be one of off, zchange, timed; fps must be/);
    assert.equal((await rig.api('/api/timelapse/nothing.mp4', { method: 'DELETE' })).status, 404);
    assert.equal((await rig.api('/api/timelapse/unrendered/nothing', { method: 'POST', json: { command: 'render' } })).status, 404);
    assert.equal((await rig.api('/api/timelapse/unrendered/nothing', { method: 'POST', json: { command: 'explode' } })).status, 400);
    assert.equal((await rig.api('/downloads/timelapse/..%2Fsettings.json')).status, 404);
    assert.equal((await rig.api('/downloads/timelapse/%2E%2E%2Fkeys.json')).status, 404);
    assert.equal((await rig.api('/api/timelapse', { key: null })).status, 403);
    assert.equal((await rig.api('/downloads/timelapse/x.mp4', { key: null })).status, 403);
  });
});
