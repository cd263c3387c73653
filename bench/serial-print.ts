// A real print on a real `gantry serve` process (upload, select, print, history), timed by the job's own start and
// end, with the server process's CPU time read from /proc around it: what a user's print costs, end to end. With
// several printers (--printer), the same file printed on each at once.
import { readFile } from 'node:fs/promises';
import { type ServeOptions, type ServeProcess, startServe } from './serve-process.js';

const KEY = 'bench-serial-key-0123456789abcdefghijklmnop';
const USER_HZ = 100; // Linux reports utime/stime in ticks of 1/100 s on every architecture Gantry runs on

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // utime, stime (fields 14 and 15 of the line)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** a printer's base URL: today's for the default printer */
const baseOf = (id: string) => (id === 'printer' ? '/' : `/printers/${id}/`);

export interface PrintResult {
  seconds: number;
  cpuSeconds: number;
}

/** Prints on several printers at once: each job's start and end (ms since the epoch), the server's CPU over all. */
export interface PrintsResult {
  jobs: { printerId: string; start: number; end: number }[];
  cpuSeconds: number;
}

export class ServePrintRig {
  private constructor(private readonly serve: ServeProcess, private readonly link: string) {}

  /** `gantry serve` with its default printer on `link`; `more.args` adds printers (--printer ID=PORT) */
  static async start(dataDir: string, link: string, more: ServeOptions & { args?: string[] } = {}): Promise<ServePrintRig> {
    const serve = await startServe(dataDir, ['--serial', link, '--baud', '250000', '--api-key', KEY, '--camera', 'none', ...(more.args ?? [])], more);
    const rig = new ServePrintRig(serve, link);
    await rig.waitState((s) => s === 'Operational', 'the printer to connect');
    return rig;
  }

  get pid(): number {
    return this.serve.pid;
  }

  stop(): Promise<void> {
    return this.serve.stop();
  }

  private api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'X-Api-Key': KEY };
    if (init.json !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(this.serve.url + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  }

  async waitState(ok: (state: string) => boolean, what: string, printerId = 'printer'): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = (await (await this.api(`${baseOf(printerId)}api/connection`)).json()) as { current: { state: string } };
      if (ok(r.current.state)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (state ${r.current.state})`);
      await sleep(50);
    }
  }

  /** Uploads a file and waits for its analysis, so no analysis runs during a measured print. */
  async upload(name: string, text: string): Promise<void> {
    const form = new FormData();
    form.append('file', new Blob([text]), name);
    const r = await this.api('/api/files/local', { method: 'POST', body: form });
    if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
    const deadline = Date.now() + 120_000;
    while (!('gcodeAnalysis' in ((await (await this.api(`/api/files/local/${name}`)).json()) as object))) {
      if (Date.now() > deadline) throw new Error('analysis did not finish');
      await sleep(100);
    }
  }

  /** Connects with serial bytes through the descriptor (`false`) or serialport's stream layer (`true`). */
  async connect(streamLayer: boolean): Promise<void> {
    const r = await this.api('/api/settings', { method: 'POST', json: { serial: { streamLayer } } });
    if (!r.ok) throw new Error(`settings: ${r.status} ${await r.text()}`);
    await this.api('/api/connection', { method: 'POST', json: { command: 'connect', port: this.link, baudrate: 250000 } });
    await this.waitState((s) => s === 'Operational', 'the printer to connect');
  }

  /** Frees the port for the floor loops. */
  async disconnect(): Promise<void> {
    await this.api('/api/connection', { method: 'POST', json: { command: 'disconnect' } });
    await this.waitState((s) => s === 'Offline' || s === 'Closed', 'the printer to disconnect');
  }

  async print(name: string): Promise<PrintResult> {
    const { jobs, cpuSeconds } = await this.printOn(name, ['printer']);
    return { seconds: (jobs[0]!.end - jobs[0]!.start) / 1000, cpuSeconds };
  }

  /** Prints `name` on each of the printers at once and waits for every one of those prints to end. */
  async printOn(name: string, printerIds: string[]): Promise<PrintsResult> {
    const history = async () => (await (await this.api(`/api/gantry/history?limit=${printerIds.length}`)).json()) as { total: number; jobs: { printerId: string; start: number; end: number; result: string }[] };
    const before = (await history()).total;
    const cpu0 = await cpuSeconds(this.serve.pid);
    // the requests at once, as the floor's loops start at once (and a farm's "print on all" sends them): one after
    // another, the last printer started a few requests' time after the first and ran on alone at the end, when the
    // others were done, which the aggregate (all lines ÷ first start to last end) counts against Gantry
    await Promise.all(
      printerIds.map(async (id) => {
        const r = await this.api(`${baseOf(id)}api/files/local/${name}`, { method: 'POST', json: { command: 'select', print: true } });
        if (r.status !== 204) throw new Error(`print on ${id}: ${r.status} ${await r.text()}`);
      }),
    );
    const deadline = Date.now() + 600_000;
    for (;;) {
      await sleep(250);
      const h = await history();
      if (h.total >= before + printerIds.length) {
        const cpu1 = await cpuSeconds(this.serve.pid);
        const failed = h.jobs.find((j) => j.result !== 'success');
        if (failed) throw new Error(`the bench print on ${failed.printerId} ended: ${failed.result}`);
        return { jobs: h.jobs.map((j) => ({ printerId: j.printerId, start: j.start * 1000, end: j.end * 1000 })), cpuSeconds: cpu1 - cpu0 };
      }
      if (Date.now() > deadline) throw new Error('the bench print did not finish');
    }
  }
}
