// Camera detection parsing (pure): ffmpeg's v4l2 format list, rpicam-hello's camera list, and the choice of
// capture per camera.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRpicamCameras, parseV4l2Formats, pickSize, sourceFor } from '../../src/camera/detect.js';

// what ffmpeg 5.1 prints for a common UVC webcam (Logitech C270)
const UVC = `[video4linux2,v4l2 @ 0x55d0c6a1c640] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 160x120 176x144 320x176 320x240 352x288 432x240 544x288 640x360 752x416 800x448 800x600 864x480 960x544 960x720 1024x576 1184x656 1280x720 1280x960
[video4linux2,v4l2 @ 0x55d0c6a1c640] Compressed:       mjpeg :          Motion-JPEG : 640x480 160x120 176x144 320x176 320x240 352x288 432x240 544x288 640x360 752x416 800x448 800x600 864x480 960x544 960x720 1024x576 1184x656 1280x720 1280x960
/dev/video0: Immediate exit requested`;

test('a UVC camera: both formats with their sizes; MJPEG is copied through at the wanted size', () => {
  const f = parseV4l2Formats(UVC)!;
  assert.equal(f.length, 2);
  assert.deepEqual(f.map((x) => [x.pixfmt, x.compressed]), [['yuyv422', false], ['mjpeg', true]]);
  assert.equal(f[1]!.sizes.length, 19);
  assert.deepEqual(sourceFor({ kind: 'v4l2', device: '/dev/video0', name: 'C270', formats: f }, { width: 1280, height: 720, fps: 15 }), {
    kind: 'v4l2-mjpeg', device: '/dev/video0', width: 1280, height: 720, fps: 15,
  });
});

test('a Pi codec node is not a capture device and is left out', () => {
  assert.equal(parseV4l2Formats('[video4linux2,v4l2 @ 0x5581] Not a video capture device.\n/dev/video10: No such device'), null);
});

test('a raw-only camera is encoded, at the largest size that fits the wanted one', () => {
  const f = parseV4l2Formats('[video4linux2,v4l2 @ 0x1] Raw       :     yuyv422 :           YUYV 4:2:2 : 320x240 800x600 1600x1200')!;
  const s = sourceFor({ kind: 'v4l2', device: '/dev/video2', name: 'old', formats: f }, { width: 1280, height: 720, fps: 10 });
  assert.deepEqual(s, { kind: 'v4l2-raw', device: '/dev/video2', width: 800, height: 600, fps: 10, quality: 5 });
  assert.deepEqual(pickSize([{ width: 1920, height: 1080 }, { width: 3840, height: 2160 }], { width: 640, height: 480 }), { width: 1920, height: 1080 }, 'nothing fits: the smallest');
});

test('rpicam-hello --list-cameras: one entry per camera; none when it says so', () => {
  const text = `Available cameras
-----------------
0 : imx708 [4608x2592 10-bit RGGB] (/base/soc/i2c0mux/i2c@1/imx708@1a)
    Modes: 'SRGGB10_CSI2P' : 1536x864 [120.13 fps - (768, 432)/3072x1728 crop]
1 : ov5647 [2592x1944 10-bit GBRG] (/base/soc/i2c0mux/i2c@0/ov5647@36)
`;
  assert.deepEqual(parseRpicamCameras(text), [{ index: 0, name: 'imx708' }, { index: 1, name: 'ov5647' }]);
  assert.deepEqual(parseRpicamCameras('No cameras available!'), []);
});
