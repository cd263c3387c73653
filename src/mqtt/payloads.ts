// MQTT's JSON payloads, translated from a printer's status model (src/status/types.ts) like every other surface's.
import type { PrinterStatus } from '../status/types.js';

/** `<base>/<printer>/job`: what is printing, how far, when it ends; nothing between jobs. */
export function jobPayload(s: PrinterStatus, now: number): Record<string, unknown> {
  const active = s.job.active && s.job.file !== null;
  const left = active ? s.progress.printTimeLeft : null;
  return {
    file: active ? s.job.file!.display : null,
    path: active ? s.job.file!.path : null,
    progress: active ? s.progress.completion : null,
    printTime: active ? s.progress.printTime : null,
    printTimeLeft: left,
    // only a real estimate makes a finish time
    eta: active && left !== null && s.state.id === 'PRINTING' ? new Date(now + left * 1000).toISOString() : null,
    // the job's own: the layer it is on and the Z it reached it at; nothing between jobs
    z: active ? (s.layer?.z ?? null) : null,
    layer: active ? (s.layer?.layer ?? null) : null,
  };
}
