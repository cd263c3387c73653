// Which cameras this machine has, and how to capture each. Only capture devices count: on a Pi, /dev/video*
// also holds codec and ISP nodes (memory-to-memory devices) that ffmpeg refuses as "Not a video capture
// device". The Pi camera (CSI) is found with rpicam-hello. Parsing is pure; probing spawns the tools.
import { spawn } from 'node:child_process';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { type CameraSource, ffmpegPath } from './ffmpeg.js';

export interface V4l2Format {
  /** ffmpeg's name: mjpeg, yuyv422, h264, … */
  pixfmt: string;
  compressed: boolean;
  sizes: { width: number; height: number }[];
}

export interface DetectedCamera {
  kind: 'v4l2' | 'rpicam';
  /** a /dev path (stable by-id path when there is one), or the rpicam index */
  device: string;
  name: string;
  formats: V4l2Format[];
}

/** Parses `ffmpeg -f v4l2 -list_formats all -i DEV` (stderr). Null when the device cannot capture. */
export function parseV4l2Formats(text: string): V4l2Format[] | null {
  if (/Not a video capture device|Inappropriate ioctl|No such device/i.test(text)) return null;
  const out: V4l2Format[] = [];
  for (const line of text.split('\n')) {
    const m = /\]\s*(Compressed|Raw)\s*:\s*(\S+)\s*:\s*[^:]*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const sizes = [...m[3]!.matchAll(/(\d+)x(\d+)/g)].map((s) => ({ width: Number(s[1]), height: Number(s[2]) }));
    out.push({ pixfmt: m[2]!, compressed: m[1] === 'Compressed', sizes });
  }
  return out;
}

/** Parses `rpicam-hello --list-cameras`: "0 : imx708 [4608x2592 10-bit RGGB] (/base/…)" per camera. */
export function parseRpicamCameras(text: string): { index: number; name: string }[] {
  const out: { index: number; name: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s*:\s*(\S+)\s*\[/.exec(line);
    if (m) out.push({ index: Number(m[1]), name: m[2]! });
  }
  return out;
}

/** The size closest to the wanted one without going over it (else the smallest offered). */
export function pickSize(sizes: { width: number; height: number }[], want: { width: number; height: number }): { width: number; height: number } {
  if (sizes.length === 0) return want;
  const fits = sizes.filter((s) => s.width <= want.width && s.height <= want.height);
  const pool = fits.length ? fits : sizes;
  const area = (s: { width: number; height: number }) => s.width * s.height;
  return fits.length ? pool.reduce((a, b) => (area(b) > area(a) ? b : a)) : pool.reduce((a, b) => (area(b) < area(a) ? b : a));
}

/** How to capture a detected camera: its own MJPEG copied through first, then raw frames encoded, then rpicam. */
export function sourceFor(cam: DetectedCamera, want: { width: number; height: number; fps: number }): CameraSource | undefined {
  if (cam.kind === 'rpicam') return { kind: 'rpicam', camera: Number(cam.device), width: want.width, height: want.height, fps: want.fps };
  const mjpeg = cam.formats.find((f) => f.pixfmt === 'mjpeg');
  if (mjpeg) return { kind: 'v4l2-mjpeg', device: cam.device, ...pickSize(mjpeg.sizes, want), fps: want.fps };
  const raw = cam.formats.find((f) => !f.compressed);
  if (raw) return { kind: 'v4l2-raw', device: cam.device, ...pickSize(raw.sizes, want), fps: want.fps, quality: 5 };
  return undefined;
}

function run(cmd: string, args: string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', () => {
      clearTimeout(timer);
      resolve('');
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export async function probeV4l2(device: string): Promise<V4l2Format[] | null> {
  const text = await run(ffmpegPath(), ['-hide_banner', '-f', 'v4l2', '-list_formats', 'all', '-i', device]);
  const formats = parseV4l2Formats(text);
  return formats && formats.length ? formats : null;
}

/** Every camera that can capture, by-id paths preferred (they survive re-plugging into another port). */
export async function detectCameras(): Promise<DetectedCamera[]> {
  const byId = new Map<string, string>();
  for (const n of await readdir('/dev/v4l/by-id').catch(() => [] as string[])) {
    const real = await realpath(`/dev/v4l/by-id/${n}`).catch(() => undefined);
    if (real && !byId.has(real)) byId.set(real, `/dev/v4l/by-id/${n}`);
  }
  const nodes = (await readdir('/dev').catch(() => [] as string[])).filter((n) => /^video\d+$/.test(n)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const cams: DetectedCamera[] = [];
  for (const n of nodes) {
    const dev = `/dev/${n}`;
    const name = (await readFile(`/sys/class/video4linux/${n}/name`, 'utf8').catch(() => n)).trim();
    const formats = await probeV4l2(dev);
    if (formats) cams.push({ kind: 'v4l2', device: byId.get(dev) ?? dev, name, formats });
  }
  for (const c of parseRpicamCameras(await run(process.env['GANTRY_RPICAM_HELLO'] ?? 'rpicam-hello', ['--list-cameras']))) {
    cams.push({ kind: 'rpicam', device: String(c.index), name: c.name, formats: [{ pixfmt: 'mjpeg', compressed: true, sizes: [] }] });
  }
  return cams;
}

/** The capture for a configured source: testsrc, auto (the first camera found), a /dev path, or rpicam[:N]. */
export async function resolveSource(source: string, want: { width: number; height: number; fps: number }): Promise<{ source: CameraSource; label: string } | { error: string }> {
  if (source === 'testsrc') return { source: { kind: 'testsrc', ...want }, label: 'test pattern' };
  if (source === 'auto') {
    for (const cam of await detectCameras()) {
      const s = sourceFor(cam, want);
      if (s) return { source: s, label: `${cam.name} (${cam.device})` };
    }
    return { error: 'no camera found' };
  }
  const rpi = /^rpicam(?::(\d+))?$/.exec(source);
  if (rpi) return { source: { kind: 'rpicam', camera: Number(rpi[1] ?? 0), ...want }, label: `Pi camera ${rpi[1] ?? 0}` };
  const formats = await probeV4l2(source);
  if (!formats) return { error: `${source} is not a camera that can capture (or cannot be opened)` };
  const s = sourceFor({ kind: 'v4l2', device: source, name: basename(source), formats }, want);
  return s ? { source: s, label: source } : { error: `${source} offers no format Gantry can stream` };
}
