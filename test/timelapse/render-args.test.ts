import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatList, renderArgs, timelapseFps, x264Preset } from '../../src/timelapse/render-args.js';
import { timelapseName, validTimelapseName } from '../../src/timelapse/library.js';

test('frame rate: fixed when set, else fitted to the target length within 5-60 fps', () => {
  assert.equal(timelapseFps(300, 25, 10), 25);
  assert.equal(timelapseFps(300, 0, 10), 30);
  assert.equal(timelapseFps(12, 0, 10), 5);
  assert.equal(timelapseFps(5000, 0, 10), 60);
});

test('render arguments: concat input at the frame rate, x264 with the Pi-safe settings, flips as filters', () => {
  const a = renderArgs({ listFile: '/t/l.txt', out: '/t/o.mp4', fps: 10, postRoll: 2, flipH: true, flipV: false, rotate90: true, encoder: 'libx264', preset: 'veryfast', threads: 1 });
  const s = a.join(' ');
  assert.match(s, /-f concat -safe 0 -r 10 -i \/t\/l\.txt/);
  assert.match(s, /-c:v libx264 -preset veryfast -crf 23 -maxrate 6M -bufsize 12M -threads 1/);
  assert.match(a[a.indexOf('-vf') + 1]!, /tpad=stop_mode=clone:stop_duration=2,hflip,transpose=2,format=yuv420p$/);
  assert.ok(!s.includes('vflip'));
  const hw = renderArgs({ listFile: 'l', out: 'o', fps: 10, postRoll: 0, flipH: false, flipV: false, rotate90: false, encoder: 'h264_v4l2m2m', preset: 'veryfast', threads: 1 });
  assert.ok(hw.includes('h264_v4l2m2m') && !hw.includes('libx264') && !hw.join(' ').includes('tpad'));
});

test('the automatic preset: ultrafast on a 512 MB Pi Zero 2 W, veryfast with more memory; a chosen preset stays', () => {
  const mb = 1024 * 1024;
  assert.equal(x264Preset('auto', 512 * mb), 'ultrafast');
  assert.equal(x264Preset('auto', 4096 * mb), 'veryfast');
  assert.equal(x264Preset('superfast', 512 * mb), 'superfast');
});

test('concat list quotes names the way the demuxer unquotes them', () => {
  assert.equal(concatList(['/a/frame-000001.jpg', "/it's/x.jpg"]), "file '/a/frame-000001.jpg'\nfile '/it'\\''s/x.jpg'\n");
});

test('timelapse names: the G-code name and a timestamp, only safe characters; unsafe names refused', () => {
  assert.equal(timelapseName('parts/My Part (v2).gcode', new Date(2026, 10, 24, 5, 6, 7)), 'My_Part_v2__20261124050607');
  assert.equal(timelapseName('../.hidden.gcode', new Date(2026, 0, 1, 0, 0, 0)), 'hidden_20260101000000');
  for (const bad of ['../x', '.x.mp4', 'a/b', '', 'x..mp4']) assert.equal(validTimelapseName(bad), false, bad);
  assert.equal(validTimelapseName('cube_20261124050607.mp4'), true);
});
