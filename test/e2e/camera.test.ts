// The camera relay with a real ffmpeg test source: many viewers at full rate, a stalled viewer that costs
// nothing, valid snapshots, and a capture that comes back after ffmpeg dies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type IncomingMessage, get } from 'node:http';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CameraCapture } from '../../src/camera/capture.js';
import { MpjpegSplitter } from '../../src/camera/mpjpeg-splitter.js';
import { createLogger } from '../../src/log.js';
import { tempDir } from '../helpers/tmp.js';
import { type GantryRig, TEST_KEY, gantryRig } from '../helpers/gantry-rig.js';
import { waitFor } from '../helpers/wait.js';

interface Viewer {
  frames: number[];
  res?: IncomingMessage;
  close(): void;
}

function view(url: string, stall = false): Viewer {
  const v: Viewer = { frames: [], close: () => req.destroy() };
  const splitter = new MpjpegSplitter(() => v.frames.push(Date.now()));
  const req = get(`${url}/webcam/?action=stream&apikey=${TEST_KEY}`, (res) => {
    v.res = res;
    if (stall) res.pause(); // never reads: its socket fills up
    else res.on('data', (d: Buffer) => splitter.push(d));
  });
  req.on('error', () => undefined);
  return v;
}

const fps = (v: Viewer, from: number, to: number) => v.frames.filter((t) => t >= from && t <= to).length / ((to - from) / 1000);

describe('camera relay (ffmpeg testsrc at 15 fps)', () => {
  let rig: GantryRig;
  before(async () => {
    rig = await gantryRig({ serial: 'NONE', camera: 'testsrc' });
  });
  after(() => rig.close());

  test('a snapshot is a valid JPEG, at the mjpg-streamer URL and at /downloads/camera/current', async () => {
    for (const path of ['/webcam/?action=snapshot', '/downloads/camera/current']) {
      const res = await rig.api(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      const jpeg = Buffer.from(await res.arrayBuffer());
      assert.deepEqual([jpeg[0], jpeg[1]], [0xff, 0xd8]);
      assert.deepEqual([jpeg.at(-2), jpeg.at(-1)], [0xff, 0xd9]);
    }
    assert.equal((await rig.api('/webcam/?action=snapshot', { key: null })).status, 403, 'the camera follows the API auth');
    const settings = (await (await rig.api('/api/settings')).json()) as { webcam: { webcamEnabled: boolean; streamUrl: string } };
    assert.equal(settings.webcam.webcamEnabled, true);
    assert.match(settings.webcam.streamUrl, /^\/webcam\/\?action=stream&token=[A-Za-z0-9_-]{43}$/);
  });

  test('Home Assistant and slicers: the camera URLs from the settings work without a key, grant nothing else, and a new token revokes them', async () => {
    type View = { webcam: { streamUrl: string; snapshotUrl: string } };
    const { webcam } = (await (await rig.api('/api/settings')).json()) as View;
    // fetched as HA fetches them: relative to the base URL, no key
    const snap = await rig.api(webcam.snapshotUrl, { key: null });
    assert.equal(snap.status, 200);
    assert.equal(snap.headers.get('content-type'), 'image/jpeg');
    const stream = await fetch(rig.gantry.url + webcam.streamUrl);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /multipart\/x-mixed-replace/);
    await stream.body!.cancel();
    const token = new URL(webcam.streamUrl, rig.gantry.url).searchParams.get('token')!;
    assert.equal((await rig.api(`/downloads/camera/current?token=${token}`, { key: null })).status, 200);
    for (const path of ['/api/printer', '/api/settings', '/api/files', '/api/job', '/downloads/files/local/x.gcode', '/api/timelapse']) {
      assert.equal((await rig.api(`${path}?token=${token}`, { key: null })).status, 403, `${path}: the camera token grants the camera only`);
    }
    assert.equal((await rig.api(`/webcam/?action=snapshot&token=${token.slice(0, -1)}x`, { key: null })).status, 403, 'a wrong token');
    assert.equal((await rig.api('/api/settings', { key: null })).status, 403, 'no key, no settings: the token is never handed out anonymously');
    // one click in settings: a new token, the old links stop working
    const renewed = (await (await rig.api('/api/settings', { method: 'POST', json: { gantry: { camera: { newToken: true } } } })).json()) as View;
    assert.notEqual(renewed.webcam.snapshotUrl, webcam.snapshotUrl);
    assert.equal((await rig.api(webcam.snapshotUrl, { key: null })).status, 403, 'the old link is revoked');
    assert.equal((await rig.api(renewed.webcam.snapshotUrl, { key: null })).status, 200);
    // opened to the LAN on purpose: plain URLs
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { gantry: { camera: { lanOpen: true } } } })).status, 200);
    try {
      const open = (await (await rig.api('/api/settings')).json()) as View;
      assert.equal(open.webcam.streamUrl, '/webcam/?action=stream');
      assert.equal((await rig.api(open.webcam.snapshotUrl, { key: null })).status, 200);
    } finally {
      await rig.api('/api/settings', { method: 'POST', json: { gantry: { camera: { lanOpen: false } } } });
    }
  });

  test('20 viewers each get ≥ 14 fps while a stalled viewer holds at most a frame or two', async () => {
    const stalled = view(rig.gantry.url, true);
    const viewers = Array.from({ length: 20 }, () => view(rig.gantry.url));
    try {
      await waitFor('everyone streaming', () => viewers.every((v) => v.frames.length > 5), 15_000);
      // as mjpg-streamer sends it: one raw multipart body, no chunk framing around each frame
      assert.equal(viewers[0]!.res!.headers['content-type'], 'multipart/x-mixed-replace; boundary=boundarydonotcross');
      assert.equal(viewers[0]!.res!.headers['transfer-encoding'], undefined);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      const t1 = Date.now();
      for (const v of viewers) assert.ok(fps(v, t0, t1) >= 14, `viewer at ${fps(v, t0, t1).toFixed(1)} fps`);
      const frame = rig.gantry.camera.capture!.latest!.length;
      assert.ok(rig.gantry.camera.relay!.maxQueuedBytes < 3 * frame + 4096, `at most one frame queued per viewer (max ${rig.gantry.camera.relay!.maxQueuedBytes} bytes, frame ${frame})`);
      assert.equal(rig.gantry.camera.relay!.viewerCount, 21);
    } finally {
      for (const v of [...viewers, stalled]) v.close();
    }
    await waitFor('viewers gone', () => rig.gantry.camera.relay!.viewerCount === 0);
  });

  test('ffmpeg killed: the stream resumes by itself', async () => {
    const v = view(rig.gantry.url);
    try {
      await waitFor('streaming', () => v.frames.length > 5, 10_000);
      rig.gantry.camera.capture!.killProcess();
      const killedAt = Date.now();
      await waitFor('frames again after the restart', () => v.frames.some((t) => t > killedAt + 200), 10_000);
      await waitFor('steady again', () => v.frames.filter((t) => t > killedAt).length > 20, 10_000);
      assert.ok(rig.logs.some((l) => /ffmpeg exited/.test(l)));
    } finally {
      v.close();
    }
  });
});

const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b.at(-2) === 0xff && b.at(-1) === 0xd9;

describe('camera sources and settings', () => {
  test('the Pi camera: rpicam-vid\'s bare JPEG stream is cut into frames and relayed', async () => {
    // stands in for rpicam-vid: records its arguments and writes concatenated JPEGs with no framing, as it does
    const { dir, cleanup } = await tempDir();
    const fake = join(dir, 'rpicam-vid');
    await writeFile(fake, `#!/bin/sh\necho "$@" > "${dir}/args"\nexec ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=15 -c:v mjpeg -q:v 5 -f mjpeg pipe:1\n`);
    await chmod(fake, 0o755);
    process.env['GANTRY_RPICAM'] = fake;
    const rig = await gantryRig({ serial: 'NONE', camera: 'rpicam' });
    try {
      const snap = Buffer.from(await (await rig.api('/webcam/?action=snapshot')).arrayBuffer());
      assert.ok(isJpeg(snap), 'a whole JPEG');
      assert.match(await readFile(join(dir, 'args'), 'utf8'), /--codec mjpeg --width 640 --height 480 --framerate 15 -o -/);
      const v = view(rig.gantry.url);
      try {
        await waitFor('frames from the bare stream', () => v.frames.length >= 10, 10_000);
      } finally {
        v.close();
      }
    } finally {
      delete process.env['GANTRY_RPICAM'];
      await rig.close();
      await cleanup();
    }
  });

  test('a camera that stops sending without exiting is restarted by the frame watchdog', async () => {
    const { dir, cleanup } = await tempDir();
    const fake = join(dir, 'rpicam-vid');
    // three pictures, then silence with the process still alive (a hung driver)
    await writeFile(fake, '#!/bin/sh\nffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i testsrc2=size=160x120:rate=15 -frames:v 3 -c:v mjpeg -f mjpeg pipe:1\nexec sleep 60\n');
    await chmod(fake, 0o755);
    process.env['GANTRY_RPICAM'] = fake;
    const logs: string[] = [];
    const capture = new CameraCapture({ kind: 'rpicam', camera: 0, width: 160, height: 120, fps: 15 }, createLogger('debug', 'test', (l) => logs.push(l)), 1_000);
    const release = capture.acquire();
    try {
      await waitFor('pictures from a second run of the camera', () => capture.frameNo >= 6, 15_000);
      assert.ok(logs.some((l) => /no picture for 1 s; restarting/.test(l)));
    } finally {
      release();
      await capture.close();
      delete process.env['GANTRY_RPICAM'];
      await cleanup();
    }
  });

  test('auto with no camera attached: says so, and the API reports no webcam', async () => {
    const rig = await gantryRig({ serial: 'NONE', camera: 'auto' });
    try {
      assert.ok(rig.logs.some((l) => /camera: auto: no camera found/.test(l)));
      const s = (await (await rig.api('/api/settings')).json()) as { webcam: { webcamEnabled: boolean } };
      assert.equal(s.webcam.webcamEnabled, false);
      const snap = await rig.api('/webcam/?action=snapshot');
      assert.equal(snap.status, 404);
      assert.match(((await snap.json()) as { error: string }).error, /No camera/);
      assert.deepEqual(((await (await rig.api('/api/gantry/cameras')).json()) as { cameras: unknown[] }).cameras, []);
    } finally {
      await rig.close();
    }
  });

  test('flip and rotate are saved from /api/settings webcam.*; choosing the test camera in settings starts it', async () => {
    const rig = await gantryRig({ serial: 'NONE' });
    try {
      const res = await rig.api('/api/settings', { method: 'POST', json: { webcam: { flipH: true, rotate90: true }, gantry: { camera: { source: 'testsrc', width: 320, height: 240 } } } });
      assert.equal(res.status, 200);
      const s = (await res.json()) as { webcam: { flipH: boolean; flipV: boolean; rotate90: boolean } };
      assert.deepEqual([s.webcam.flipH, s.webcam.flipV, s.webcam.rotate90], [true, false, true]);
      const snap = await waitFor('the camera to start', async () => {
        const r = await rig.api('/webcam/?action=snapshot');
        return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : undefined;
      }, 30_000); // ffmpeg's start: seconds on a busy machine
      assert.ok(isJpeg(snap));
      const bad = await rig.api('/api/settings', { method: 'POST', json: { gantry: { camera: { source: '/etc/../dev/sda; rm', fps: 500 } } } });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /camera.source .*camera.fps/s);
    } finally {
      await rig.close();
    }
  });
});
