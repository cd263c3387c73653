// A whole Gantry (HTTP server, printer model, virtual printer child process) on a free loopback port.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServeConfig } from '../../src/config/cli-config.js';
import { createLogger } from '../../src/log.js';
import { type Gantry, type StartOptions, startGantry } from '../../src/main.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const TEST_KEY = 'test-key-0123456789abcdefghijklmnopqrstu';

export interface GantryRig {
  gantry: Gantry;
  dir: string;
  recordFile: string;
  logs: string[];
  /** fetch relative to the server, with the API key unless `key: null` */
  api(path: string, init?: RequestInit & { key?: string | null; json?: unknown }): Promise<Response>;
  /** Commands the virtual printer executed, minus the host's housekeeping. */
  executed(): Promise<string[]>;
  /** the same, for the printer with this id (each has a simulator of its own) */
  executedBy(printerId: string): Promise<string[]>;
  waitExecuted(what: string, pred: (cmds: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  /** Stops Gantry and starts it again on the same data directory (a service restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function gantryRig(overrides: Partial<ServeConfig> = {}, start: StartOptions = {}, simArgs: string[] = []): Promise<GantryRig> {
  const { dir, cleanup } = await tempDir();
  const recordFile = join(dir, 'executed.gcode');
  const recordFileOf = (id: string) => join(dir, `executed-${id}.gcode`);
  const logs: string[] = [];
  const cfg: ServeConfig = {
    dataDir: join(dir, 'data'),
    host: '127.0.0.1',
    port: 0,
    serial: 'VIRTUAL',
    baud: undefined,
    apiKey: TEST_KEY,
    mqtt: undefined,
    camera: undefined,
    avahiService: undefined,
    virtualFallback: false,
    printers: [],
    printApiKey: false,
    logLevel: 'debug',
    ...overrides,
  };
  const startOpts: StartOptions = {
    log: createLogger('debug', 'test', (l) => logs.push(l)),
    // each printer's simulator records what it executed in a file of its own
    virtualPrinterArgs: (id) => ['--speed', '200', '--record', id === 'printer' ? recordFile : recordFileOf(id), ...simArgs],
    ...start,
  };
  let gantry = await startGantry(cfg, startOpts);
  const executedBy = async (id = 'printer') => {
    const text = await readFile(id === 'printer' ? recordFile : recordFileOf(id), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l && !/^M(105|110|115|155)\b/.test(l));
  };
  const executed = () => executedBy();
  return {
    get gantry() {
      return gantry;
    },
    dir,
    recordFile,
    logs,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.key !== null) headers.set('X-Api-Key', init.key ?? gantry.apiKey);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('Content-Type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(gantry.url + path, { ...init, headers, body: body ?? null });
    },
    executed,
    executedBy,
    waitExecuted: (what, pred, timeoutMs = 10_000) =>
      waitFor(what, async () => {
        const e = await executed();
        return pred(e) ? e : undefined;
      }, timeoutMs),
    async restart() {
      await gantry.stop();
      gantry = await startGantry({ ...cfg, port: new URL(gantry.url).port ? Number(new URL(gantry.url).port) : 0 }, startOpts);
    },
    async close() {
      await gantry.stop();
      await cleanup();
    },
  };
}

export async function waitOperational(rig: GantryRig, timeoutMs = 15_000): Promise<void> {
  await waitFor('printer operational with firmware', () => rig.gantry.printer.operational && rig.gantry.printer.firmware !== undefined, timeoutMs);
}

/** Uploads a file as a slicer does (multipart `file` plus form fields such as print=true). */
export async function uploadGcode(rig: GantryRig, name: string, content: Buffer | string, fields: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([content]), name);
  return rig.api('/api/files/local', { method: 'POST', body: form });
}
