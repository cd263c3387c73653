// A small typed wrapper around spawning ffmpeg: arguments as an array (never a shell string), stderr kept short
// for error messages. fluent-ffmpeg (archived upstream) and node-webcam (unescaped shell strings) are not used.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export type CameraSource =
  | { kind: 'testsrc'; width: number; height: number; fps: number }
  | { kind: 'v4l2-mjpeg'; device: string; width: number; height: number; fps: number }
  | { kind: 'v4l2-raw'; device: string; width: number; height: number; fps: number; quality: number }
  | { kind: 'rpicam'; camera: number; width: number; height: number; fps: number };

/** ffmpeg arguments that produce `-f mpjpeg` on stdout for a source. */
export function ffmpegArgs(src: CameraSource): string[] {
  const common = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  const size = `${src.width}x${src.height}`;
  switch (src.kind) {
    case 'testsrc':
      return [...common, '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${src.fps}`, '-c:v', 'mjpeg', '-q:v', '5', '-f', 'mpjpeg', 'pipe:1'];
    case 'v4l2-mjpeg':
      // the camera already speaks JPEG: copy it through (2.3 % of a core at 720p15 against 10.7 % to encode)
      return [...common, '-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', size, '-framerate', String(src.fps), '-i', src.device, '-c:v', 'copy', '-f', 'mpjpeg', 'pipe:1'];
    case 'v4l2-raw':
      return [...common, '-f', 'v4l2', '-video_size', size, '-framerate', String(src.fps), '-i', src.device, '-c:v', 'mjpeg', '-q:v', String(src.quality), '-f', 'mpjpeg', 'pipe:1'];
    case 'rpicam':
      throw new Error('the Pi camera is captured by rpicam-vid, not ffmpeg');
  }
}

/** rpicam-vid writes bare concatenated JPEGs (no lengths): the capture cuts them with the JPEG splitter. */
export function rpicamArgs(src: Extract<CameraSource, { kind: 'rpicam' }>): string[] {
  return ['-t', '0', '-n', '--camera', String(src.camera), '--codec', 'mjpeg', '--width', String(src.width), '--height', String(src.height), '--framerate', String(src.fps), '-o', '-'];
}

/** Starts whatever produces the source's frames: ffmpeg (`-f mpjpeg`) or rpicam-vid (bare JPEGs). */
export function spawnCamera(src: CameraSource): FfmpegProcess & { framing: 'mpjpeg' | 'jpeg' } {
  if (src.kind === 'rpicam') return { ...spawnFfmpeg(rpicamArgs(src), process.env['GANTRY_RPICAM'] ?? 'rpicam-vid'), framing: 'jpeg' };
  return { ...spawnFfmpeg(ffmpegArgs(src)), framing: 'mpjpeg' };
}

export function ffmpegPath(): string {
  return process.env['GANTRY_FFMPEG'] ?? 'ffmpeg';
}

export interface FfmpegProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** the last lines ffmpeg wrote to stderr, for the log */
  stderr(): string;
}

export function spawnFfmpeg(args: string[], binary = ffmpegPath()): FfmpegProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  return { child, stderr: () => tail.trim() };
}
