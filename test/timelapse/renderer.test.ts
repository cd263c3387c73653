// Rendering with a real ffmpeg: gaps and damaged frames do not end the video, the post-roll holds the last frame,
// a failure keeps the frames, and the size budget removes the oldest first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log.js';
import { TimelapseLibrary } from '../../src/timelapse/library.js';
import { TimelapseRenderer } from '../../src/timelapse/renderer.js';
import { makeFrames, probeVideo } from '../helpers/ffprobe.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

function renderer(lib: TimelapseLibrary, overrides: Partial<ReturnType<typeof defaultSettings>['timelapse']> = {}) {
  const events: string[] = [];
  let finished: (v: string) => void;
  const done = new Promise<string>((r) => (finished = r));
  const r = new TimelapseRenderer({
    library: lib,
    settings: () => ({ ...defaultSettings().timelapse, ...overrides }),
    camera: () => ({ flipH: false, flipV: false, rotate90: false }),
    log: createLogger('error'),
    events: {
      started: (n) => events.push(`started ${n}`),
      progress: (_n, p) => events.push(`progress ${p}`),
      done: (n) => finished(`done ${n}`),
      failed: (n, e) => finished(`failed ${n}: ${e}`),
    },
  });
  return { r, events, done };
}

test('12 frames with one missing and one cut short render to 10 pictures plus the post-roll; frames removed after', async () => {
  const lib = new TimelapseLibrary(join(dir, 'a'));
  await lib.init();
  const frames = lib.framesDir('cube_20261124');
  await mkdir(frames);
  await makeFrames(frames, 12);
  await unlink(join(frames, 'frame-000005.jpg'));
  await truncate(join(frames, 'frame-000008.jpg'), 300);
  const { r, events, done } = renderer(lib, { fps: 5, postRoll: 1 });
  r.enqueue('cube_20261124');
  assert.equal(await done, 'done cube_20261124');
  assert.equal(events[0], 'started cube_20261124');
  const info = await probeVideo(join(lib.root, 'cube_20261124.mp4'));
  assert.equal(info.codec, 'h264');
  assert.equal(info.frames, 10 + 5, '10 good frames and 1 s of post-roll at 5 fps');
  assert.deepEqual((await lib.videos()).map((v) => [v.name, v.thumbnail]), [['cube_20261124.mp4', 'cube_20261124.jpg']]);
  assert.deepEqual(await lib.frameSets(), [], 'frames deleted after a good render');
  assert.deepEqual((await readdir(lib.root)).filter((f) => f.startsWith('.')), [], 'no partial video left behind');
  // a render cut short by a power cut leaves its hidden part file: the next start removes it
  await writeFile(join(lib.root, '.cube_2.mp4.part'), 'half a video');
  await new TimelapseLibrary(lib.root).init();
  assert.deepEqual((await readdir(lib.root)).filter((f) => f.startsWith('.')), []);
});

test('a recording with no usable frame fails, keeps its frames and publishes nothing', async () => {
  const lib = new TimelapseLibrary(join(dir, 'b'));
  await lib.init();
  await mkdir(lib.framesDir('broken'));
  await writeFile(join(lib.framesDir('broken'), 'frame-000001.jpg'), 'not a jpeg');
  const { r, done } = renderer(lib);
  r.enqueue('broken');
  assert.match(await done, /^failed broken: no usable frames/);
  assert.equal((await lib.frameSets())[0]?.name, 'broken');
  assert.deepEqual(await lib.videos(), []);
});

test('over the budget, the oldest videos and frame sets go first; the one in use stays', async () => {
  const lib = new TimelapseLibrary(join(dir, 'c'));
  await lib.init();
  const mb = Buffer.alloc(1024 * 1024, 1);
  const day = 86_400;
  const now = Date.now() / 1000;
  const put = async (path: string, age: number) => {
    await writeFile(path, mb);
    await utimes(path, now - age * day, now - age * day);
  };
  await put(join(lib.root, 'old.mp4'), 5);
  await put(join(lib.root, 'mid.mp4'), 3);
  await mkdir(lib.framesDir('oldest_frames'));
  await put(join(lib.framesDir('oldest_frames'), 'frame-000001.jpg'), 9);
  await mkdir(lib.framesDir('recording'));
  await put(join(lib.framesDir('recording'), 'frame-000001.jpg'), 10);
  await put(join(lib.root, 'new.mp4'), 1);
  const removed = await lib.prune(2.5 * 1024 * 1024, new Set(['recording']));
  assert.deepEqual(removed, ['oldest_frames', 'old.mp4', 'mid.mp4']);
  assert.deepEqual((await lib.videos()).map((v) => v.name), ['new.mp4']);
  assert.deepEqual((await lib.frameSets()).map((f) => f.name), ['recording']);
});

test('stopped mid-render (Gantry stopping): once stop() resolves ffmpeg is gone, no partial video is left and the frames are kept', async () => {
  const lib = new TimelapseLibrary(join(dir, 'd'));
  await lib.init();
  await mkdir(lib.framesDir('long'));
  await makeFrames(lib.framesDir('long'), 60);
  // a long post-roll: seconds of encoding, time enough to stop it halfway
  const { r, events } = renderer(lib, { fps: 30, postRoll: 120 });
  r.enqueue('long');
  // ffmpeg probes the 60 frames before it opens its output: seconds on a machine busy with other work
  await waitFor('the render writing its partial video', async () => (await readdir(lib.root)).includes('.long.mp4.part'), 60_000);
  await r.stop();
  assert.deepEqual((await readdir(lib.root)).filter((f) => f.startsWith('.') || f.endsWith('.mp4')), [], 'no partial or finished video');
  assert.equal((await lib.frameSets())[0]?.name, 'long', 'the frames are kept, to render later');
  assert.ok(!events.some((e) => e.startsWith('failed')), 'a stop is not a failed render');
});
