// Several printers streaming at once through one `gantry serve` (#16): aggregate lines/s with 1, 2 and 4 printers
// (one line in flight each, instant-ok simulators on PTYs, a real print on each), against the bare raw-fd loop run
// the same way (N loops at once in one Node process, on the same simulators); ok → next-line latency with 4; RSS of
// the server with 1, 2 and 4 printers, connected and idle, and printing. Alternating rounds: on a loaded machine
// drift hits Gantry and its floor alike.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { LatencyHistogram } from './latency-histogram.js';
import { rssMb, rssSampler } from './proc-memory.js';
import { type LoopRun, rawFdLoop } from './serial-floors.js';
import { ServePrintRig } from './serial-print.js';
import { LINE, type Spread, commandLines, spread } from './serial.js';
import { simProcess, stopSim } from './sim-process.js';

const PROBE = fileURLToPath(new URL('./latency-probe.js', import.meta.url));
export const PRINTER_COUNTS = [1, 2, 4] as const;
/** prints on every printer before the measured one (why two: benchMultiPrinter) */
const WARM_PRINTS = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CountFigures {
  printers: number;
  /** lines/s summed over the printers: all lines ÷ (last end − first start) */
  gantry: Spread;
  floor: Spread;
  /** per round: Gantry ÷ the parallel floor; Gantry ÷ Gantry with one printer; the floor ÷ one floor loop */
  vsFloor: Spread;
  vsOne: Spread;
  floorVsOne: Spread;
  /** the server's CPU per 1,000 lines, all printers' lines together: flat from 1 to 4 printers when a printer costs
   * nothing on another's lines */
  gantryCpuMsPer1000: Spread;
  /** the floor loops' process, the same way; and Gantry ÷ floor per round */
  floorCpuMsPer1000: Spread;
  cpuVsFloor: Spread;
  /** RSS of gantry serve with this many printers connected, idle; and its peak while they all print */
  idleRssMb: Spread;
  printingRssMb: Spread;
  /** first start to last start, and first end to last end, of the printers' runs, ms: the time one or some of them
   * ran without the others, which the aggregate counts; Gantry's and the floor's */
  startSkewMs: { gantry: Spread; floor: Spread };
  endSkewMs: { gantry: Spread; floor: Spread };
}

export interface MultiFigures {
  linesPerPrinter: number;
  rounds: number;
  counts: CountFigures[];
  /** ok → next-line latency with 4 printers streaming, µs: in gantry serve, and in the 4 floor loops */
  p50: { gantry: Spread; floor: Spread };
  p99: { gantry: Spread; floor: Spread };
  /** (RSS with 4 printers − RSS with 1) ÷ 3, per round */
  rssPerExtraPrinterMb: { idle: Spread; printing: Spread };
}

const aggregate = (lines: number, spans: { start: number; end: number }[]) =>
  (lines * spans.length) / ((Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start))) / 1000);
const skew = (spans: { start: number; end: number }[]) => ({
  start: Math.max(...spans.map((s) => s.start)) - Math.min(...spans.map((s) => s.start)),
  end: Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.end)),
});
const idsFor = (n: number) => ['printer', ...Array.from({ length: n - 1 }, (_, i) => `p${i + 2}`)];

/** RSS after the server has sat idle a while: the median of a few readings, past the bumps of a collection */
async function idleRss(pid: number): Promise<number> {
  await sleep(Number(process.env['MULTI_IDLE_S'] ?? 5) * 1000);
  const xs: number[] = [];
  for (let i = 0; i < 5; i++, await sleep(200)) xs.push(await rssMb(pid));
  return spread(xs).median;
}

export async function benchMultiPrinter(dir: string, rounds = Number(process.env['BENCH_ROUNDS'] ?? 3)): Promise<MultiFigures> {
  const linesPerPrinter = Number(process.env['MULTI_LINES'] ?? 20_000);
  const links = [1, 2, 3, 4].map((i) => join(dir, `multi-tty${i}`));
  const sims: ChildProcess[] = [];
  try {
    for (const link of links) sims.push(await simProcess(link, ['--ok-only']));
    const text = Array.from({ length: linesPerPrinter }, (_, i) => LINE(i)).join('\n') + '\n';
    const lines = commandLines(text);
    // one data dir per printer count (default printer on link 1, --printer p2.. on the next), the file uploaded and
    // analysed before any round: no analysis, upload or first-run write inside a measurement
    const dataDir = (n: number) => join(dir, `multi-${n}`);
    const start = (n: number, more: { nodeFlags?: string[]; env?: Record<string, string> } = {}) =>
      ServePrintRig.start(dataDir(n), links[0]!, { ...more, args: idsFor(n).slice(1).flatMap((id, i) => ['--printer', `${id}=${links[i + 1]}`]) });
    // both sides are measured warm, as a real print (hours of lines) runs: the floor loop runs the file once below,
    // and each server prints it twice on every printer before the measured print. A fresh process's first pass runs
    // partly in V8's interpreter and baseline code (20-30 % more CPU per line over a 20,000-line print, measured; a
    // 2,000-line warm-up left the first measured thousands of lines still slow). And this file is uniform (G1 lines
    // only), so the code optimized during the first print has never seen a job's start (M110 N0, an M code): the
    // second print's start throws it away and it runs in slower tiers until optimized again (V8's deopt log: 0.3 to
    // 4.8 s, most of a 20,000-line print). A real file (fans, temperatures, retractions) teaches it those lines in
    // its first minutes; the third print here is that steady state.
    for (const n of PRINTER_COUNTS) {
      const rig = await start(n);
      await rig.upload('multi.gcode', text);
      await rig.stop();
    }
    await rawFdLoop(links[0]!, lines); // warm-up

    const latencyFile = join(dir, 'multi-latency.json');
    /** the probe's histogram so far (and a new one begun); `unwrap`: the probe also takes itself out of the path */
    const dumpLatency = async (pid: number, unwrap = false): Promise<LatencyHistogram> => {
      await rm(latencyFile, { force: true });
      if (unwrap) await writeFile(`${latencyFile}.off`, '');
      else await rm(`${latencyFile}.off`, { force: true });
      process.kill(pid, 'SIGUSR2');
      const deadline = Date.now() + 10_000;
      for (;;) {
        const text = await readFile(latencyFile, 'utf8').catch(() => undefined);
        if (text !== undefined) return LatencyHistogram.fromPairs(JSON.parse(text) as [number, number][]);
        if (Date.now() > deadline) throw new Error('the latency probe did not answer');
        await sleep(20);
      }
    };

    const per = new Map<number, { gantry: number[]; floor: number[]; cpu: number[]; floorCpu: number[]; idle: number[]; printing: number[]; skews: { gantry: { start: number; end: number }[]; floor: { start: number; end: number }[] } }>(
      PRINTER_COUNTS.map((n) => [n, { gantry: [], floor: [], cpu: [], floorCpu: [], idle: [], printing: [], skews: { gantry: [], floor: [] } }]),
    );
    const lat = { gantryP50: [] as number[], gantryP99: [] as number[], floorP50: [] as number[], floorP99: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const n of PRINTER_COUNTS) {
        const fig = per.get(n)!;
        const floorLatency = new LatencyHistogram();
        // the floor: n bare loops at once in this process, on the same simulators. With 4, a first untimed run
        // takes the latency, as Gantry's is taken on its last warm print: neither timed run carries a probe
        const floor = async () => {
          if (n === 4) await Promise.all(links.slice(0, n).map((l) => rawFdLoop(l, lines, floorLatency)));
          const cpu0 = process.cpuUsage();
          const runs: LoopRun[] = await Promise.all(links.slice(0, n).map((l) => rawFdLoop(l, lines)));
          const cpu = process.cpuUsage(cpu0);
          const spans = runs.map((x) => ({ start: x.startedAt, end: x.endedAt }));
          fig.floor.push(aggregate(lines.length, spans));
          fig.skews.floor.push(skew(spans));
          fig.floorCpu.push((cpu.user + cpu.system) / (lines.length * n));
        };
        // Gantry: a server with n printers, idle a while, then printing the file on all n at once
        const gantry = async () => {
          // latency is measured with 4 printers, on both sides, on an untimed pass; with 1 and 2 the probe is loaded
          // (the same RSS) but wraps nothing
          const probed = n === 4;
          const rig = await start(n, { nodeFlags: ['--import', PROBE], env: probed ? { BENCH_LATENCY_FILE: latencyFile } : {} });
          try {
            for (const id of idsFor(n)) await rig.waitState((s) => s === 'Operational', `printer ${id} to connect`, id);
            fig.idle.push(await idleRss(rig.pid));
            for (let w = 0; w < WARM_PRINTS; w++) {
              // the last warm print's lines only make the latency histogram, and then the probe leaves the path
              if (probed && w === WARM_PRINTS - 1) await dumpLatency(rig.pid);
              await rig.printOn('multi.gcode', idsFor(n));
            }
            if (probed) {
              const h = await dumpLatency(rig.pid, true);
              lat.gantryP50.push(h.quantile(0.5));
              lat.gantryP99.push(h.quantile(0.99));
            }
            const sampler = rssSampler(rig.pid, 100);
            const done = await rig.printOn('multi.gcode', idsFor(n));
            fig.printing.push(sampler.stop());
            fig.gantry.push(aggregate(lines.length, done.jobs));
            fig.skews.gantry.push(skew(done.jobs));
            fig.cpu.push((done.cpuSeconds * 1e6) / (lines.length * n));
          } finally {
            await rig.stop();
          }
        };
        // which goes first alternates too: neither always gets the quieter moment
        if (r % 2 === 0) await floor().then(gantry);
        else await gantry().then(floor);
        if (n === 4) {
          lat.floorP50.push(floorLatency.quantile(0.5));
          lat.floorP99.push(floorLatency.quantile(0.99));
        }
      }
    }
    const one = per.get(1)!;
    const four = per.get(4)!;
    return {
      linesPerPrinter: lines.length,
      rounds,
      counts: PRINTER_COUNTS.map((n) => {
        const f = per.get(n)!;
        return {
          printers: n,
          gantry: spread(f.gantry),
          floor: spread(f.floor),
          vsFloor: spread(f.gantry.map((g, i) => g / f.floor[i]!)),
          vsOne: spread(f.gantry.map((g, i) => g / one.gantry[i]!)),
          floorVsOne: spread(f.floor.map((g, i) => g / one.floor[i]!)),
          gantryCpuMsPer1000: spread(f.cpu),
          floorCpuMsPer1000: spread(f.floorCpu),
          cpuVsFloor: spread(f.cpu.map((c, i) => c / f.floorCpu[i]!)),
          idleRssMb: spread(f.idle),
          printingRssMb: spread(f.printing),
          startSkewMs: { gantry: spread(f.skews.gantry.map((x) => x.start)), floor: spread(f.skews.floor.map((x) => x.start)) },
          endSkewMs: { gantry: spread(f.skews.gantry.map((x) => x.end)), floor: spread(f.skews.floor.map((x) => x.end)) },
        };
      }),
      p50: { gantry: spread(lat.gantryP50), floor: spread(lat.floorP50) },
      p99: { gantry: spread(lat.gantryP99), floor: spread(lat.floorP99) },
      rssPerExtraPrinterMb: {
        idle: spread(four.idle.map((x, i) => (x - one.idle[i]!) / 3)),
        printing: spread(four.printing.map((x, i) => (x - one.printing[i]!) / 3)),
      },
    };
  } finally {
    for (const s of sims) await stopSim(s);
  }
}
