// Where an interrupted print can pick up again: written (durably) at every layer change, removed when the job
// ends. If Gantry starts and finds one, the job was cut short (restart, crash, power loss).
import type { MotionModes } from './file-line-source.js';

export interface Checkpoint {
  path: string;
  hash: string;
  user: string | null;
  startedAt: number;
  layer: number;
  /** byte offset of the line that starts the layer */
  filepos: number;
  z: number;
  e: number;
  absoluteE: boolean;
  fan: number;
  targets: { tools: Record<string, number>; bed: number | null };
  savedAt: number;
}

export interface CheckpointFile {
  checkpoint: Checkpoint | null;
}

export function checkpointFrom(base: Omit<Checkpoint, 'layer' | 'filepos' | 'z' | 'e' | 'absoluteE' | 'fan' | 'savedAt'>, layer: number, filepos: number, m: MotionModes): Checkpoint {
  return { ...base, layer, filepos, z: m.z, e: m.e, absoluteE: m.absoluteE, fan: m.fan, savedAt: Date.now() };
}

/** The G-code that brings the printer back to the checkpoint: heat, home X/Y only (a part is on the bed), restore Z, E, fan. */
export function recoveryPreamble(cp: Checkpoint, liftTo: number): string[] {
  const out: string[] = [];
  const tools = Object.entries(cp.targets.tools).filter(([, t]) => t > 0);
  if (cp.targets.bed) out.push(`M140 S${cp.targets.bed}`);
  for (const [i, t] of tools) out.push(`M104 T${i} S${t}`);
  if (cp.targets.bed) out.push(`M190 S${cp.targets.bed}`);
  for (const [i, t] of tools) out.push(`M109 T${i} S${t}`);
  out.push('G90', `G92 Z${cp.z}`, `G1 Z${Math.max(cp.z, liftTo)} F600`, 'G28 X Y', `G1 Z${cp.z} F600`); // lift clear of the part before homing
  out.push(cp.absoluteE ? 'M82' : 'M83', `G92 E${cp.e}`);
  out.push(cp.fan > 0 ? `M106 S${cp.fan}` : 'M107');
  return out;
}
