// G-code analysis throughput over the shared corpus (in-process, warm), and its accuracy against PrusaSlicer.
import { readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../src/files/analysis/analyze.js';

const CORPUS = fileURLToPath(new URL('../../../shared/gcode/', import.meta.url));

export async function benchAnalysis(): Promise<{ mbPerSecond: number; accuracy: { file: string; ours: number; slicer: number }[] }> {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.gcode')).map((f) => CORPUS + f);
  for (const f of files) await analyzeFile(f); // warm-up
  let bytes = 0;
  const t0 = performance.now();
  const rounds = 3;
  for (let r = 0; r < rounds; r++) for (const f of files) bytes += (await stat(f)).size * (await analyzeFile(f) ? 1 : 0);
  const seconds = (performance.now() - t0) / 1000;
  const accuracy = [];
  for (const f of files.filter((x) => x.includes('/ps_'))) {
    const a = await analyzeFile(f);
    accuracy.push({ file: f.split('/').pop()!, ours: a.estimatedPrintTime, slicer: a.slicer.estimatedPrintTime ?? NaN });
  }
  return { mbPerSecond: bytes / 1048576 / seconds, accuracy };
}
