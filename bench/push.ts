// Push fan-out: N WebSocket clients on a real `gantry serve` during a print; delivery latency of `current`
// (serverTime stamp → arrival) and the latency of GET /api/printer meanwhile.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { WebSocket as WsSocket } from 'ws';
import { startServe } from './serve-process.js';

const WebSocket = createRequire(import.meta.url)('ws') as typeof WsSocket;
const KEY = 'bench-key-0123456789abcdefghijklmnopqrstu';

export interface PushBench {
  clients: number;
  messagesPerSecond: number;
  p50ms: number;
  p99ms: number;
  apiP50ms: number;
  apiP99ms: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
};

export async function benchPush(dir: string, clients: number, seconds: number): Promise<PushBench> {
  const serve = await startServe(join(dir, `push-${clients}`), ['--serial', 'virtual', '--api-key', KEY]);
  const url = serve.url;
  const sockets: WsSocket[] = [];
  try {
    const deadline = Date.now() + 20_000;
    const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { 'X-Api-Key': KEY, ...(init.headers ?? {}) } });
    while ((await api('/api/printer')).status !== 200) {
      if (Date.now() > deadline) throw new Error('printer did not connect');
      await sleep(100);
    }
    const login = (await (await api('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"passive":true}' })).json()) as { name: string; session: string };
    const latencies: number[] = [];
    let messages = 0;
    let measuring = false;
    for (let i = 0; i < clients; i++) {
      const ws = new WebSocket(url.replace(/^http/, 'ws') + '/sockjs/websocket');
      sockets.push(ws);
      ws.on('message', (d) => {
        if (!measuring) return;
        const text = d.toString();
        if (!text.startsWith('{"current"')) return;
        messages++;
        const t = /"serverTime":([\d.]+)/.exec(text);
        if (t) latencies.push(Date.now() - Number(t[1]) * 1000);
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ auth: `${login.name}:${login.session}` }));
    }
    // a long print so the whole window is "during a print"
    const form = new FormData();
    form.append('print', 'true');
    form.append('file', new Blob(['G28\n' + 'G1 X100 Y100 F1200\nG1 X0 Y0 F1200\n'.repeat(400)]), 'bench.gcode');
    await api('/api/files/local', { method: 'POST', body: form });
    await sleep(1000);
    measuring = true;
    const apiTimes: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      const s = performance.now();
      await api('/api/printer');
      apiTimes.push(performance.now() - s);
      await sleep(20);
    }
    measuring = false;
    const elapsed = (Date.now() - t0) / 1000;
    return { clients, messagesPerSecond: messages / elapsed, p50ms: pct(latencies, 0.5), p99ms: pct(latencies, 0.99), apiP50ms: pct(apiTimes, 0.5), apiP99ms: pct(apiTimes, 0.99) };
  } finally {
    for (const ws of sockets) ws.terminate();
    await serve.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
