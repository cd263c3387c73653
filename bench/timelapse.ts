// Timelapse render cost: 300 noisy 1280x720 frames (the worst case: a still printer scene compresses far better)
// rendered with Gantry's own arguments; ffmpeg's CPU seconds and peak memory read from /proc while it runs.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { concatList, renderArgs } from '../src/timelapse/render-args.js';

export interface RenderBench {
  preset: string;
  frames: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  videoMb: number;
}

async function sample(pid: number): Promise<{ ticks: number; hwmKb: number } | undefined> {
  try {
    const st = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    const hwm = /VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return { ticks: Number(st[11]) + Number(st[12]), hwmKb: Number(hwm?.[1] ?? 0) };
  } catch {
    return undefined; // exited between polls
  }
}

export async function makeBenchFrames(dir: string, n = 300): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=15', '-vf', 'noise=alls=12:allf=t', '-frames:v', String(n), '-q:v', '3', join(dir, 'frame-%06d.jpg')]);
  return (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(dir, f));
}

export async function benchRender(dir: string, frames: string[], preset: 'ultrafast' | 'veryfast'): Promise<RenderBench> {
  const list = join(dir, 'frames.txt');
  await writeFile(list, concatList(frames));
  const out = join(dir, `out-${preset}.mp4`);
  const args = renderArgs({ listFile: list, out, fps: 30, postRoll: 0, flipH: false, flipV: false, rotate90: false, encoder: 'libx264', preset, threads: 1 });
  const t0 = performance.now();
  const child = spawn('ffmpeg', args, { stdio: 'ignore' });
  let last = { ticks: 0, hwmKb: 0 };
  const timer = setInterval(() => void sample(child.pid!).then((s) => s && (last = s)), 50);
  await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  return {
    preset,
    frames: frames.length,
    wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: last.ticks / 100,
    peakRssMb: last.hwmKb / 1024,
    videoMb: (await stat(out)).size / 1024 / 1024,
  };
}
