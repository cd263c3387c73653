// The camera relay with a real ffmpeg test source: many viewers at full rate, a stalled viewer that costs
// nothing, valid snapshots, and a capture that comes back after ffmpeg dies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type IncomingMessage, get } from 'node:http';
import { MpjpegSplitter } from '../../src/camera/mpjpeg-splitter.js';
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
    rig = await gantryRig({ serial: 'none', camera: 'testsrc' });
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
    assert.equal(settings.webcam.streamUrl, '/webcam/?action=stream');
  });

  test('20 viewers each get ≥ 14 fps while a stalled viewer holds at most a frame or two', async () => {
    const stalled = view(rig.gantry.url, true);
    const viewers = Array.from({ length: 20 }, () => view(rig.gantry.url));
    try {
      await waitFor('everyone streaming', () => viewers.every((v) => v.frames.length > 5), 15_000);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      const t1 = Date.now();
      for (const v of viewers) assert.ok(fps(v, t0, t1) >= 14, `viewer at ${fps(v, t0, t1).toFixed(1)} fps`);
      const frame = rig.gantry.camera!.capture.latest!.length;
      assert.ok(rig.gantry.camera!.relay.maxQueuedBytes < 3 * frame + 4096, `at most one frame queued per viewer (max ${rig.gantry.camera!.relay.maxQueuedBytes} bytes, frame ${frame})`);
      assert.equal(rig.gantry.camera!.relay.viewerCount, 21);
    } finally {
      for (const v of [...viewers, stalled]) v.close();
    }
    await waitFor('viewers gone', () => rig.gantry.camera!.relay.viewerCount === 0);
  });

  test('ffmpeg killed: the stream resumes by itself', async () => {
    const v = view(rig.gantry.url);
    try {
      await waitFor('streaming', () => v.frames.length > 5, 10_000);
      rig.gantry.camera!.capture.killProcess();
      const killedAt = Date.now();
      await waitFor('frames again after the restart', () => v.frames.some((t) => t > killedAt + 200), 10_000);
      await waitFor('steady again', () => v.frames.filter((t) => t > killedAt).length > 20, 10_000);
      assert.ok(rig.logs.some((l) => /ffmpeg exited/.test(l)));
    } finally {
      v.close();
    }
  });
});
