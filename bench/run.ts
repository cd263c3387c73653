// make bench: figures as ratios and per-operation numbers, printed for the closing notes of each issue.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAnalysis } from './analysis.js';
import { benchIdleRss } from './idle-rss.js';
import { benchPush } from './push.js';
import { benchCamera } from './camera.js';
import { benchRender, makeBenchFrames } from './timelapse.js';
import { benchWeb } from './web.js';
import { benchSerial } from './serial.js';

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(0)} %`;
const fmt = (s: number) => `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${Math.round(s % 60)}s`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-'));
  try {
    console.log('Gantry benchmarks (this machine; the Pi Zero 2 W is slower, ratios carry over)\n');
    const s = await benchSerial(dir);
    console.log('Serial send path (host → virtual printer over a real PTY, ~20-byte lines)');
    console.log(`  bare PTY echo loop (physical limit)    ${f0(s.bareRate)} lines/s`);
    console.log(`  Gantry, one line in flight             ${f0(s.oneInFlightRate)} lines/s  = ${pct(s.oneInFlightRate / s.bareRate)} of the bare loop (target ≥ 80 %)`);
    console.log(`  Gantry, windowed (ADVANCED_OK B3)      ${f0(s.windowedRate)} lines/s  = ${pct(s.windowedRate / s.bareRate)} of the bare loop`);
    console.log(`  250,000-baud wire limit                ${f0(s.wireLimit)} lines/s; Gantry one-in-flight = ${(s.oneInFlightRate / s.wireLimit).toFixed(1)}× it`);
    console.log(`  protocol engine alone (no I/O)         ${f0(s.engineOnlyRate)} lines/s`);
    console.log(`  ok → next line latency in the host     p50 ${s.latencyP50us.toFixed(1)} µs, p99 ${s.latencyP99us.toFixed(1)} µs (target p99 < 1 ms)`);
    console.log(`  CPU per 1,000 lines (one in flight)    ${s.cpuMsPer1000.toFixed(1)} ms (bare loop: ${s.bareCpuMsPer1000.toFixed(1)} ms; both mostly serialport and syscalls)`);
    const a = await benchAnalysis();
    console.log('\nG-code analysis (shared corpus, kinematic time model)');
    console.log(`  throughput                             ${a.mbPerSecond.toFixed(0)} MB/s (aim ≥ 100 MB/s)`);
    for (const r of a.accuracy) {
      console.log(`  ${r.file.padEnd(20)} ours ${fmt(r.ours)}, PrusaSlicer ${fmt(r.slicer)}: ${((r.ours / r.slicer - 1) * 100).toFixed(2)} % (target within 5 %)`);
    }
    console.log('\nPush socket fan-out during a print (clients on the same machine; latency = serverTime stamp to arrival)');
    for (const n of [50, 200]) {
      const p = await benchPush(dir, n, 8);
      console.log(`  ${String(n).padStart(3)} clients: ${f0(p.messagesPerSecond)} current/s delivered, p50 ${p.p50ms.toFixed(1)} ms, p99 ${p.p99ms.toFixed(1)} ms; GET /api/printer p50 ${p.apiP50ms.toFixed(1)} ms, p99 ${p.apiP99ms.toFixed(1)} ms${n === 200 ? ' (aim p99 < 50 ms)' : ''}`);
    }
    console.log('\nCamera relay (ffmpeg testsrc at 15 fps; viewers on the same machine; CPU is the relay process, not ffmpeg)');
    for (const [w, h] of [[640, 480], [1280, 720]] as const) {
      for (const n of [20, 200]) {
        const r = await benchCamera(dir, n, w, h);
        console.log(`  ${r.size.padEnd(9)} ${String(n).padStart(3)} viewers: min ${r.minFps.toFixed(1)} fps, avg ${r.avgFps.toFixed(1)} fps; relay CPU ${r.cpuPercent.toFixed(1)} % of a core (${r.cpuPercentPerViewer.toFixed(3)} % per viewer); RSS ${r.rssMb.toFixed(0)} MB`);
      }
    }
    console.log('\nTimelapse render (300 noisy 1280x720 frames, worst case; Gantry\'s arguments, 1 thread; CPU and peak RSS of ffmpeg)');
    const frames = await makeBenchFrames(join(dir, 'tl'));
    for (const preset of ['veryfast', 'ultrafast'] as const) {
      const r = await benchRender(join(dir, 'tl'), frames, preset);
      console.log(`  ${r.preset.padEnd(9)} ${r.cpuSeconds.toFixed(1)} CPU-s (${((1000 * r.cpuSeconds) / r.frames).toFixed(0)} ms per frame), ${r.wallSeconds.toFixed(1)} s wall, peak RSS ${r.peakRssMb.toFixed(0)} MB, video ${r.videoMb.toFixed(1)} MB${preset === 'veryfast' ? ' (a 512 MB Pi: stay under ~150 MB)' : ''}`);
    }
    const w = await benchWeb(join(dir, 'web'));
    console.log('\nWeb page, first load at phone size with an empty cache (headless Chromium)');
    console.log(`  transferred                            ${w.transferredKb.toFixed(1)} KB compressed in ${w.requests} requests (budget ≤ 150 KB)`);
    console.log(`  live state on screen                   ${w.interactiveMs.toFixed(0)} ms; with the CPU slowed 4×: ${w.interactiveThrottledMs.toFixed(0)} ms (budget < 1 s)`);
    const m = await benchIdleRss(dir);
    console.log('\nMemory of gantry serve, idle with the printer connected');
    console.log(`  RSS 5 s after connecting               ${m.rssMb.toFixed(1)} MB (target < 60 MB)`);
    console.log(`  RSS after 30 s idle                    ${m.settledRssMb.toFixed(1)} MB`);
    console.log(`  of which private to Gantry (USS)       ${m.ussMb.toFixed(1)} MB; the rest is the node binary's shared pages`);
    console.log(`  hono + @hono/node-server, one route    ${m.httpStackRssMb.toFixed(1)} MB RSS, same flags: Gantry adds ${(m.rssMb - m.httpStackRssMb).toFixed(1)} MB to its HTTP stack`);
    console.log(`  a bare idle node process, for scale    ${m.bareNodeRssMb.toFixed(1)} MB RSS`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
