// Memory that comes back (#14): `gantry serve` (a real process, virtual printer) idles, then runs each workload —
// analysing a 100 MB G-code file, a 500 MB upload (and the analysis it starts), 20 short prints — and its RSS is
// read at the peak and MEMORY_SETTLE_S seconds (default 70) after the workload, as a ratio to the idle RSS.
// Target: every settled ratio within 1.10. MEMORY_WORKLOADS=analyse,upload,prints picks some (default: all, in
// that order, one server: what each leaves behind adds up, as it would in a server's life).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { startServe } from './serve-process.js';
import { childrenOf, rssMb, rssSampler, smapsSplit } from './proc-memory.js';

export interface MemoryWorkload {
  workload: 'analyse 100 MB' | 'upload 500 MB' | '20 prints';
  /** how long the workload itself ran */
  seconds: number;
  peakMb: number;
  /** MEMORY_SETTLE_S after the workload */
  settledMb: number;
  peakRatio: number;
  settledRatio: number;
  /** settledRatio ≤ 1.10 */
  pass: boolean;
  /** where the settled RSS sits: the main malloc arena ([heap]) and anonymous mappings (V8's heap, other arenas) */
  settledHeapMb: number;
  settledAnonMb: number;
  /** peak RSS of the analysis process (a child of gantry serve), 0 if none ran */
  analysisPeakMb: number;
}

export interface MemoryReturn {
  idleMb: number;
  settleSeconds: number;
  workloads: MemoryWorkload[];
}

const KEY = 'memory-bench-key-0123456789abcdefghijklm';
const MB = 1 << 20;

/** Realistic slicer output: layer comments, short extruding moves with three-decimal coordinates. */
export async function writeGcode(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  for (let layer = 1; written < bytes; layer++) {
    const z = (0.2 * layer).toFixed(2);
    let s = `;LAYER_CHANGE\n;Z:${z}\nG1 Z${z} F720\n`;
    for (let i = 0; i < 2000; i++) {
      s += `G1 X${(100 + 50 * Math.sin(i / 100)).toFixed(3)} Y${(100 + 50 * Math.cos(i / 97)).toFixed(3)} E${(0.01 + (i % 7) * 0.003).toFixed(5)} F1800\n`;
    }
    written += s.length;
    if (!out.write(s)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** Streams a multipart upload of `bytes` of G-code without holding it: the bench process stays small too. `salt`
 * goes into a first comment line, so that uploads of the same size differ (and are analysed again). */
export function uploadStream(url: string, key: string, name: string, bytes: number, fields: Record<string, string> = {}, salt = ''): Promise<number> {
  const target = new URL(url);
  const line = Buffer.from('G1 X12.345 Y67.890 E0.01234 F1800\n');
  const chunk = Buffer.concat(Array.from({ length: Math.floor(MB / line.length) }, () => line));
  const chunks = Math.ceil(bytes / chunk.length);
  const head = Buffer.from(
    Object.entries(fields)
      .map(([k, v]) => `--b\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') + `--b\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n; ${salt}\n`,
  );
  const tail = Buffer.from('\r\n--b--\r\n');
  return new Promise<number>((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      method: 'POST',
      path: '/api/files/local',
      headers: { 'X-Api-Key': key, 'Content-Type': 'multipart/form-data; boundary=b', 'Content-Length': String(head.length + chunk.length * chunks + tail.length) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.write(head);
    let i = 0;
    const pump = () => {
      while (i < chunks) {
        i++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
}

export async function benchMemoryReturn(dir: string): Promise<MemoryReturn> {
  const settleSeconds = Number(process.env['MEMORY_SETTLE_S'] ?? 70);
  const only = new Set((process.env['MEMORY_WORKLOADS'] ?? 'analyse,upload,prints').split(','));
  const data = join(dir, 'memory-data');
  await mkdir(join(data, 'files'), { recursive: true });
  // written before the server starts: page cache is not the server's RSS, but writing it costs the bench time
  await writeGcode(join(data, 'files', 'big100.gcode'), 100 * MB);
  const serve = await startServe(data, ['--serial', 'virtual', '--api-key', KEY, '--camera', 'none']);
  const api = (path: string, init: RequestInit = {}) => fetch(serve.url + path, { ...init, headers: { 'X-Api-Key': KEY, 'Content-Type': 'application/json', ...(init.headers ?? {}) } });
  const poll = async (what: string, probe: () => Promise<boolean>, timeoutS = 600) => {
    const deadline = Date.now() + timeoutS * 1000;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`memory bench: timed out waiting for ${what}`);
      await sleep(200);
    }
  };
  const analysed = (path: string) => async () => Boolean(((await (await api(`/api/files/local/${path}`)).json()) as { gcodeAnalysis?: unknown }).gcodeAnalysis);
  try {
    await poll('the printer to connect', async () => (await api('/api/printer')).status === 200, 30);
    await sleep(settleSeconds * 1000);
    const idleMb = await rssMb(serve.pid);
    const workloads: MemoryWorkload[] = [];
    const run = async (workload: MemoryWorkload['workload'], body: () => Promise<void>) => {
      const sampler = rssSampler(serve.pid, 100);
      const analysis = rssSampler(serve.pid, 100, async () => (await childrenOf(serve.pid)).filter((c) => c.cmdline.includes('analysis')).map((c) => c.pid));
      const t0 = Date.now();
      await body();
      const seconds = (Date.now() - t0) / 1000;
      await sleep(settleSeconds * 1000);
      const peakMb = sampler.stop();
      const analysisPeakMb = analysis.stop();
      const settledMb = await rssMb(serve.pid);
      const split = await smapsSplit(serve.pid);
      const settledRatio = settledMb / idleMb;
      workloads.push({ workload, seconds, peakMb, settledMb, peakRatio: peakMb / idleMb, settledRatio, pass: settledRatio <= 1.1, settledHeapMb: split.heapMb, settledAnonMb: split.anonMb, analysisPeakMb });
    };

    if (only.has('analyse')) await run('analyse 100 MB', async () => {
      // as the app finds a file copied in by hand: the listing adopts (hashes) it and queues its analysis
      await api('/api/files/local/big100.gcode');
      await poll('the 100 MB analysis', analysed('big100.gcode'));
    });
    if (only.has('upload')) await run('upload 500 MB', async () => {
      const status = await uploadStream(serve.url, KEY, 'big500.gcode', 500 * MB);
      if (status !== 201) throw new Error(`memory bench: the 500 MB upload answered ${status}`);
      await poll('the 500 MB file\'s analysis', analysed('big500.gcode')); // part of what an upload sets off
    });
    for (const f of ['big100.gcode', 'big500.gcode']) await api(`/api/files/local/${f}`, { method: 'DELETE' });
    if (only.has('prints')) await run('20 prints', async () => {
      const moves = Array.from({ length: 300 }, (_, i) => `G1 X${(10 + (i % 20)).toFixed(1)} Y${(10 + (i % 13)).toFixed(1)} E0.05 F6000\n`).join('');
      const form = new FormData();
      form.append('file', new Blob([`;LAYER_CHANGE\n;Z:0.2\nM104 S0\nG28\nG92 E0\n${moves}`]), 'short.gcode');
      if ((await fetch(serve.url + '/api/files/local', { method: 'POST', body: form, headers: { 'X-Api-Key': KEY } })).status !== 201) throw new Error('memory bench: upload of the print file failed');
      const done = async () => ((await (await api('/api/gantry/history?limit=1')).json()) as { total: number }).total;
      const before = await done();
      for (let i = 1; i <= 20; i++) {
        const r = await api('/api/files/local/short.gcode', { method: 'POST', body: JSON.stringify({ command: 'select', print: true }) });
        if (r.status !== 204) throw new Error(`memory bench: print ${i} answered ${r.status}: ${await r.text()}`);
        const t = Date.now();
        await poll(`print ${i} to finish`, async () => (await done()) >= before + i && ((await (await api('/api/job')).json()) as { state: string }).state === 'Operational', 300);
        if (process.env['MEMORY_VERBOSE']) console.log(`print ${i}: ${Date.now() - t} ms, RSS ${(await rssMb(serve.pid)).toFixed(1)} MB`);
      }
    });
    return { idleMb, settleSeconds, workloads };
  } finally {
    await serve.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
