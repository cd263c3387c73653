import { analyzeFile } from './dist/src/files/analysis/analyze.js';
for (let round = 0; round < 2; round++)
for (const f of ['ps_cube20', 'ps_sphere50', 'ps_vase', 'cura_cube20', 'cura_sphere50']) {
  const t0 = performance.now();
  const a = await analyzeFile(`/work/shared/gcode/${f}.gcode`);
  const ms = performance.now() - t0;
  const ref = a.slicer.estimatedPrintTime;
  if (round) console.log(f, 'est', a.estimatedPrintTime, 'slicer', ref, ref ? ((a.estimatedPrintTime / ref - 1) * 100).toFixed(2) + '%' : '', 'layers', a.layers.count, a.layers.layerHeight, (a.bytes / 1048576 / (ms / 1000)).toFixed(0), 'MB/s');
}
