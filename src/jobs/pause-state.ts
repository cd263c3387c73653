// What a pause remembers so resume can put the print back: where the head was, the heater targets, and the
// heat-up a pause cut short (an M190 ended early by M108 must run again, or the file would go on with a cold bed).
import type { Position } from '../printer/parse.js';
import type { CurrentTemperatures } from '../printer/printer.js';
import type { MotionModes } from './file-line-source.js';

export interface ResumeState {
  position: Position | undefined;
  targets: { tools: Map<number, number>; bed: number | null };
}

export function targetsOf(t: CurrentTemperatures): ResumeState['targets'] {
  const targets = { tools: new Map<number, number>(), bed: t.bed?.target ?? null };
  for (const [i, h] of t.tools) if (h.target !== null) targets.tools.set(i, h.target);
  return targets;
}

/**
 * Back to the print: the aborted heat-up, temperatures, position, extrusion state and modes as they were at the
 * pause. `now` is what the heaters are set to now (the user may have cooled them while paused).
 */
export function restoreCommands(s: ResumeState | null, abortedHeatup: string | undefined, now: CurrentTemperatures, modes: MotionModes): string[] {
  const out: string[] = [];
  if (abortedHeatup) out.push(abortedHeatup);
  if (!s) return out;
  for (const [i, target] of s.targets.tools) {
    const current = now.tools.get(i);
    if (target > 0 && (current?.target ?? 0) < target) out.push(`M109 T${i} S${target}`);
  }
  if (s.targets.bed !== null && s.targets.bed > 0 && (now.bed?.target ?? 0) < s.targets.bed) out.push(`M190 S${s.targets.bed}`);
  const p = s.position;
  if (p) {
    out.push('G90', `G1 X${p.x} Y${p.y} F6000`, `G1 Z${p.z} F600`);
    out.push('M83', 'G1 E2 F2700');
    if (modes.absoluteE) out.push('M82', `G92 E${p.e}`);
  } else {
    // the printer never told where the head was (M114 unanswered): back down to the height the file had reached,
    // and its extrusion mode (a pause script's M83 would otherwise stay); its next move sets X and Y
    out.push('G90', `G1 Z${modes.z} F600`, modes.absoluteE ? 'M82' : 'M83');
  }
  out.push(modes.absoluteXYZ ? 'G90' : 'G91', `G1 F${modes.feedrate}`);
  return out;
}
