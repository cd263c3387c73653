// make bench: figures as ratios and per-operation numbers, printed for the closing notes of each issue.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAnalysis } from './analysis.js';
import { benchIdleRss } from './idle-rss.js';
import { benchApiDuringPrint, benchColdStart, benchReadFloor } from './leads.js';
import { benchPush } from './push.js';
import { benchCamera } from './camera.js';
import { benchRender, makeBenchFrames } from './timelapse.js';
import { benchWeb } from './web.js';
import { benchUpload } from './upload.js';
import { benchMemoryReturn } from './memory.js';
import { benchPrintPaths, benchSerialHost, type Spread } from './serial.js';
import { benchMultiPrinter } from './multi-printer.js';

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(0)} %`;
const fmt = (s: number) => `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${Math.round(s % 60)}s`;

/** The sections, in the order they run. BENCH_ONLY=upload,memory (`make bench BENCH_ONLY=upload`) runs some of them;
 * unset, all. UPLOAD_ROUNDS sets the upload section's rounds (default 5). */
const SECTIONS = ['serial', 'printers', 'analysis', 'push', 'camera', 'timelapse', 'upload', 'startup', 'web', 'idle', 'memory'] as const;
type Section = (typeof SECTIONS)[number];
const only = (process.env['BENCH_ONLY'] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
for (const o of only) if (!(SECTIONS as readonly string[]).includes(o)) throw new Error(`BENCH_ONLY: no section ${o} (sections: ${SECTIONS.join(', ')})`);
const want = (s: Section) => only.length === 0 || only.includes(s);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-'));
  try {
    console.log('Gantry benchmarks (this machine; the Pi Zero 2 W is slower, ratios carry over)\n');
    const r3 = (x: Spread, f: (n: number) => string) => `${f(x.min)} / ${f(x.median)} / ${f(x.max)}`;
    const f1 = (n: number) => n.toFixed(1);
    const fr = (n: number) => n.toFixed(2);
    const mb = (n: number) => n.toFixed(1);
    if (want('serial')) {
      console.log('Serial send path: one line in flight over a real PTY to an instant-ok printer; a real print on gantry serve');
      console.log('(min / median / max over alternating rounds; the floors move the same lines on the same PTY in the same run;');
      console.log(' both warm: the raw-fd loop and Gantry each run the file once first)');
      for (const w of await benchPrintPaths(dir)) {
        console.log(`  ${w.name}, ${f0(w.lines)} lines`);
        console.log(`    raw-fd Node loop (floor)               ${r3(w.rawFd.linesPerSecond, f0)} lines/s, CPU ${r3(w.rawFd.cpuMsPer1000, f1)} ms per 1,000 lines`);
        console.log(`    serialport loop (floor)                ${r3(w.serialport.linesPerSecond, f0)} lines/s, CPU ${r3(w.serialport.cpuMsPer1000, f1)} ms per 1,000 lines`);
        console.log(`    Gantry printing                        ${r3(w.gantry.linesPerSecond, f0)} lines/s, CPU ${r3(w.gantry.cpuMsPer1000, f1)} ms per 1,000 lines`);
        console.log(`    Gantry, serialport stream layer (old)  ${r3(w.gantryStreamLayer.linesPerSecond, f0)} lines/s, CPU ${r3(w.gantryStreamLayer.cpuMsPer1000, f1)} ms per 1,000 lines`);
        console.log(`    rate ÷ raw-fd loop                     ${r3(w.rateVsRawFd, fr)} (target ≥ 0.85); ÷ serialport loop ${r3(w.rateVsSerialport, fr)}`);
        console.log(`    CPU per line ÷ old transport           ${r3(w.cpuVsStreamLayer, fr)} (target ≤ 0.50); ÷ raw-fd loop ${r3(w.cpuVsRawFd, fr)}`);
      }
      const s = await benchSerialHost(dir);
      console.log(`  windowed (ADVANCED_OK B3), in-process   ${f0(s.windowedRate)} lines/s`);
      console.log(`  250,000-baud wire limit                 ${f0(s.wireLimit)} lines/s`);
      console.log(`  protocol engine alone (no I/O)          ${f0(s.engineOnlyRate)} lines/s`);
      console.log(`  ok → next line latency in the host      p50 ${s.latencyP50us.toFixed(1)} µs, p99 ${s.latencyP99us.toFixed(1)} µs (target p99 < 1 ms)`);
    }
    if (want('printers')) {
      const mp = await benchMultiPrinter(dir);
      console.log(`\nSeveral printers streaming at once through one gantry serve: N instant-ok simulators on PTYs, one line in flight each, ${f0(mp.linesPerPrinter)} lines each`);
      console.log(`(${mp.rounds} alternating rounds, min / median / max. The floor: N raw-fd loops at once in one Node process on the same`);
      console.log(` simulators. Both warm, as in a long print: the file first (the floor once, each server two prints on every printer).`);
      console.log(` This machine has 2 cores: the N simulators, their N PTY relays and the host share them, Gantry and floor alike.`);
      console.log(` The 4-printer latency is taken on an untimed pass on both sides, so no timed run carries its probe)`);
      for (const c of mp.counts) {
        const what = `${c.printers} printer${c.printers > 1 ? 's' : ' '}`;
        console.log(`  ${what}  Gantry ${r3(c.gantry, f0)} lines/s, CPU ${r3(c.gantryCpuMsPer1000, f1)} ms per 1,000 lines`);
        console.log(`              floor  ${r3(c.floor, f0)} lines/s, CPU ${r3(c.floorCpuMsPer1000, f1)} ms per 1,000 lines`);
        console.log(`              Gantry ÷ parallel floor: rate ${r3(c.vsFloor, fr)}${c.printers > 1 ? ' (goal ≥ 0.90)' : ''}, CPU per line ${r3(c.cpuVsFloor, fr)}; rate ÷ Gantry with 1 printer ${r3(c.vsOne, fr)} (the floor ÷ 1 loop: ${r3(c.floorVsOne, fr)})`);
        if (c.printers > 1) console.log(`              first to last start / end, ms: Gantry ${r3(c.startSkewMs.gantry, f0)} / ${r3(c.endSkewMs.gantry, f0)}; floor ${r3(c.startSkewMs.floor, f0)} / ${r3(c.endSkewMs.floor, f0)}`);
      }
      console.log(`  ok → next line, 4 printers       Gantry p50 ${r3(mp.p50.gantry, f0)} µs, p99 ${r3(mp.p99.gantry, f0)} µs (target p99 < 1 ms); floor loops p50 ${r3(mp.p50.floor, f0)}, p99 ${r3(mp.p99.floor, f0)} µs`);
      console.log(`  RSS of gantry serve, idle        ${mp.counts.map((c) => `${c.printers}: ${r3(c.idleRssMb, mb)} MB`).join('; ')}`);
      console.log(`  RSS peak while all print         ${mp.counts.map((c) => `${c.printers}: ${r3(c.printingRssMb, mb)} MB`).join('; ')}`);
      console.log(`  RSS per extra printer (4 vs 1)   idle ${r3(mp.rssPerExtraPrinterMb.idle, mb)} MB, printing ${r3(mp.rssPerExtraPrinterMb.printing, mb)} MB (goal < 4 MB each)`);
    }
    if (want('analysis')) {
      const a = await benchAnalysis();
      console.log('\nG-code analysis (shared corpus, kinematic time model)');
      const readFloor = await benchReadFloor();
      console.log(`  throughput                             ${a.mbPerSecond.toFixed(0)} MB/s (aim ≥ 100 MB/s) = ${pct(a.mbPerSecond / readFloor)} of reading and splitting the same files (${readFloor.toFixed(0)} MB/s)`);
      for (const r of a.accuracy) {
        console.log(`  ${r.file.padEnd(20)} ours ${fmt(r.ours)}, PrusaSlicer ${fmt(r.slicer)}: ${((r.ours / r.slicer - 1) * 100).toFixed(2)} % (target within 5 %)`);
      }
    }
    if (want('push')) {
      console.log('\nPush socket fan-out during a print (clients on the same machine; latency = serverTime stamp to arrival)');
      for (const n of [50, 200]) {
        const p = await benchPush(dir, n, 8);
        console.log(`  ${String(n).padStart(3)} clients: ${f0(p.messagesPerSecond)} current/s delivered, p50 ${p.p50ms.toFixed(1)} ms, p99 ${p.p99ms.toFixed(1)} ms; GET /api/printer p50 ${p.apiP50ms.toFixed(1)} ms, p99 ${p.apiP99ms.toFixed(1)} ms${n === 200 ? ' (aim p99 < 50 ms)' : ''}`);
      }
    }
    if (want('camera')) {
      console.log('\nCamera relay (ffmpeg testsrc at 15 fps; viewers on the same machine; CPU is the relay process, not ffmpeg)');
      for (const [w, h] of [[640, 480], [1280, 720]] as const) {
        for (const n of [20, 200]) {
          const r = await benchCamera(dir, n, w, h);
          console.log(`  ${r.size.padEnd(9)} ${String(n).padStart(3)} viewers: min ${r.minFps.toFixed(1)} fps, avg ${r.avgFps.toFixed(1)} fps; relay CPU ${r.cpuPercent.toFixed(1)} % of a core (${r.cpuPercentPerViewer.toFixed(3)} % per viewer); RSS ${r.rssMb.toFixed(0)} MB`);
        }
      }
    }
    if (want('timelapse')) {
      console.log('\nTimelapse render (300 noisy 1280x720 frames, worst case; Gantry\'s arguments, 1 thread; CPU and peak RSS of ffmpeg)');
      const frames = await makeBenchFrames(join(dir, 'tl'));
      for (const preset of ['veryfast', 'ultrafast'] as const) {
        const r = await benchRender(join(dir, 'tl'), frames, preset);
        console.log(`  ${r.preset.padEnd(9)} ${r.cpuSeconds.toFixed(1)} CPU-s (${((1000 * r.cpuSeconds) / r.frames).toFixed(0)} ms per frame), ${r.wallSeconds.toFixed(1)} s wall, peak RSS ${r.peakRssMb.toFixed(0)} MB, video ${r.videoMb.toFixed(1)} MB${preset === 'veryfast' ? ' (a 512 MB Pi: stay under ~150 MB)' : ''}`);
      }
    }
    if (want('upload')) {
      const u = await benchUpload(join(dir, 'upload'), 100, Number(process.env['UPLOAD_ROUNDS'] ?? 5));
      console.log(`\nUploads: ${u.fileMb} MB G-code by ${u.client} over loopback, ${u.rounds} rounds (min / median / max), each next to plain node:http servers (Gantry's flags and environment) piping the body to a file and dropping it`);
      console.log(`  Gantry (multipart, hashed, checked, fsynced)  ${r3(u.gantryMBps, (n) => n.toFixed(0))} MB/s (target ≥ 350; OctoPrint here: 0.28 s = 357 MB/s)`);
      console.log(`  Gantry, the next file into the same server    ${r3(u.gantryNextMBps, (n) => n.toFixed(0))} MB/s (a fresh server pays for its first: code compiled, memory mapped)`);
      console.log(`  plain node:http pipe (floor, no fsync)        ${r3(u.floorMBps, (n) => n.toFixed(0))} MB/s; cp of the file ${r3(u.cpMBps, (n) => n.toFixed(0))} MB/s`);
      console.log(`  plain node:http dropping the body (ceiling)   ${r3(u.discardMBps, (n) => n.toFixed(0))} MB/s`);
      console.log(`  Gantry ÷ floor, per round                     ${r3(u.ratioToFloor, (n) => n.toFixed(2))}; ÷ ceiling ${r3(u.ratioToDiscard, (n) => n.toFixed(2))}`);
      console.log(`  peak extra RSS during the upload              ${r3(u.gantryPeakExtraRssMb, (n) => n.toFixed(1))} MB (target < 20; the floor: ${r3(u.floorPeakExtraRssMb, (n) => n.toFixed(1))} MB); with the analysis after it ${r3(u.gantryPeakExtraRssWithAnalysisMb, (n) => n.toFixed(1))} MB`);
    }
    if (want('startup')) {
      const start = await benchColdStart(dir);
      const api = await benchApiDuringPrint(dir);
      console.log('\nStart-up and API, next to anchors measured in the same run (OctoPrint 1.11.8, measured on this machine earlier: start 3.3 s, idle 86 MB)');
      console.log(`  cold start to listening                ${start.gantryMs.toFixed(0)} ms = ${(start.gantryMs / start.bareNodeMs).toFixed(1)}× a bare node start (${start.bareNodeMs.toFixed(0)} ms)`);
      console.log(`  GET /api/printer, 50 req/s, printing   p50 ${api.p50ms.toFixed(2)} ms, p99 ${api.p99ms.toFixed(2)} ms = ${(api.p50ms / api.floorP50ms).toFixed(2)}× / ${(api.p99ms / api.floorP99ms).toFixed(2)}× the bare HTTP stack answering one route (p50 ${api.floorP50ms.toFixed(2)}, p99 ${api.floorP99ms.toFixed(2)} ms)`);
    }
    if (want('web')) {
      const w = await benchWeb(join(dir, 'web'));
      console.log('\nWeb page, first load at phone size with an empty cache (headless Chromium)');
      console.log(`  transferred                            ${w.transferredKb.toFixed(1)} KB compressed in ${w.requests} requests (budget ≤ 150 KB)`);
      console.log(`  live state on screen                   ${w.interactiveMs.toFixed(0)} ms; with the CPU slowed 4×: ${w.interactiveThrottledMs.toFixed(0)} ms (budget < 1 s)`);
    }
    if (want('idle')) {
      const m = await benchIdleRss(dir);
      console.log('\nMemory of gantry serve, idle with the printer connected');
      console.log(`  RSS 5 s after connecting               ${m.rssMb.toFixed(1)} MB (target < 60 MB) = ${(m.rssMb / m.bareNodeRssMb).toFixed(2)}× a bare idle node`);
      console.log(`  RSS after 30 s idle                    ${m.settledRssMb.toFixed(1)} MB`);
      console.log(`  of which private to Gantry (USS)       ${m.ussMb.toFixed(1)} MB; the rest is the node binary's shared pages`);
      console.log(`  hono + @hono/node-server, one route    ${m.httpStackRssMb.toFixed(1)} MB RSS, same flags: Gantry adds ${(m.rssMb - m.httpStackRssMb).toFixed(1)} MB to its HTTP stack`);
      console.log(`  a bare idle node process, for scale    ${m.bareNodeRssMb.toFixed(1)} MB RSS`);
    }
    if (want('memory')) {
      const back = await benchMemoryReturn(join(dir, 'memory'));
      console.log(`\nMemory that comes back: gantry serve idle at ${back.idleMb.toFixed(1)} MB, then each workload in turn; RSS ${back.settleSeconds} s after it (target ≤ 1.10× idle)`);
      for (const w of back.workloads) {
        console.log(`  ${w.workload.padEnd(16)} peak ${w.peakMb.toFixed(1)} MB (${w.peakRatio.toFixed(2)}×), after ${w.settledMb.toFixed(1)} MB = ${w.settledRatio.toFixed(2)}× idle ${w.pass ? 'ok' : 'OVER'}${w.analysisPeakMb > 0 ? `; the analysis process peaked at ${w.analysisPeakMb.toFixed(0)} MB and exited` : ''}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
