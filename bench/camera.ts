// Camera relay: N viewers of `gantry serve --camera testsrc` at 15 fps; frames per second each viewer got, the
// server's CPU (the relay: ffmpeg is a separate process) per viewer, and its RSS.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { type ClientRequest, get } from 'node:http';
import { join } from 'node:path';
import { startServe } from './serve-process.js';

const KEY = 'camera-bench-key-0123456789abcdefghijklm';
const MARK = Buffer.from('--boundarydonotcross');

export interface CameraBench {
  viewers: number;
  size: string;
  minFps: number;
  avgFps: number;
  cpuPercentPerViewer: number;
  cpuPercent: number;
  rssMb: number;
}

async function cpuTicks(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
}

export async function benchCamera(dir: string, viewers: number, width: number, height: number, seconds = 5): Promise<CameraBench> {
  const data = join(dir, `cam-${viewers}-${width}`);
  await mkdir(data, { recursive: true });
  await writeFile(join(data, 'settings.json'), JSON.stringify({ camera: { source: 'testsrc', width, height, fps: 15 } }));
  const serve = await startServe(data, ['--serial', 'none', '--api-key', KEY]);
  const { url } = serve;
  const reqs: ClientRequest[] = [];
  try {
    const counts = new Array<number>(viewers).fill(0);
    let measuring = false;
    for (let i = 0; i < viewers; i++) {
      reqs.push(
        get(`${url}/webcam/?action=stream&apikey=${KEY}`, (res) => {
          res.on('data', (d: Buffer) => {
            if (!measuring) return;
            for (let at = d.indexOf(MARK); at >= 0; at = d.indexOf(MARK, at + MARK.length)) counts[i]!++;
          });
        }).on('error', () => undefined),
      );
    }
    await sleep(2500); // ffmpeg up, everyone streaming
    const c0 = await cpuTicks(serve.pid);
    const t0 = Date.now();
    measuring = true;
    await sleep(seconds * 1000);
    measuring = false;
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = ((await cpuTicks(serve.pid)) - c0) / 100 / elapsed;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${serve.pid}/status`, 'utf8'))![1]) / 1024;
    const fps = counts.map((n) => n / elapsed);
    return {
      viewers,
      size: `${width}x${height}`,
      minFps: Math.min(...fps),
      avgFps: fps.reduce((a, b) => a + b, 0) / fps.length,
      cpuPercent: cpu * 100,
      cpuPercentPerViewer: (cpu * 100) / viewers,
      rssMb: rss,
    };
  } finally {
    for (const r of reqs) r.destroy();
    await serve.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
