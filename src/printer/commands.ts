// G-code for the printer operations that more than one surface offers (the REST API, MQTT), built in one place so
// the surfaces cannot disagree: a heater's target has the printer's offset added whichever way it was set. Pure.
import type { HeaterLayout } from './octoprint-shapes.js';

/** the highest target any surface accepts, in °C */
export const MAX_TARGET = 500;

/** `tool<n>`, `tool` (the active extruder), `bed` or `chamber` */
export type HeaterName = `tool${number}` | 'tool' | 'bed' | 'chamber';

/** Why a heater cannot be set: `unknown` (not a heater name), `absent` (the printer profile has no such heater). */
export class HeaterError extends Error {
  constructor(
    readonly kind: 'unknown' | 'absent',
    message: string,
  ) {
    super(message);
  }
}

/** Reads a heater name ("tool1", "bed") and checks the profile has that heater; `tool` (the active extruder) only
 * when `allowActive`. */
export function heaterOf(name: string, layout: HeaterLayout, allowActive = false): HeaterName {
  if (name === 'bed' || name === 'chamber') {
    if (!layout[name]) throw new HeaterError('absent', `The printer profile has no heated ${name}`);
    return name;
  }
  const m = /^tool(\d*)$/.exec(name);
  if (!m || (!allowActive && m[1] === '')) throw new HeaterError('unknown', `Invalid tool: ${name}`);
  if (m[1] !== '' && Number(m[1]) >= layout.tools) throw new HeaterError('absent', `Invalid tool: ${name} (the printer profile has ${layout.tools})`);
  return name as HeaterName;
}

/** The line that sets a heater's target, the printer's offset for it added (OctoPrint's rule: 0 stays 0, off is
 * off; the active extruder `tool` has no offset of its own). */
export function targetLine(heater: HeaterName, target: number, offsets: ReadonlyMap<string, number>): string {
  const offset = heater === 'tool' ? 0 : (offsets.get(heater) ?? 0);
  const s = target === 0 ? 0 : target + offset;
  if (heater === 'bed') return `M140 S${s}`;
  if (heater === 'chamber') return `M141 S${s}`;
  const n = heater.slice('tool'.length);
  return n === '' ? `M104 S${s}` : `M104 T${n} S${s}`;
}

/** Axis speeds from the printer profile (mm/min). */
export interface AxisSpeeds {
  x: { speed: number };
  y: { speed: number };
  z: { speed: number };
}

/** A jog: relative moves (or an absolute position), at `speed` mm/min, or the slowest moving axis's profile speed,
 * or no feed at all (`speed: false`, as OctoPrint allows). An axis given 0 in a relative jog does not move (FDM
 * Monster sends 0 for untouched axes): no lines at all when nothing moves. */
export function jogLines(move: { x?: number; y?: number; z?: number; absolute: boolean; speed: number | false | undefined }, axes: AxisSpeeds): string[] {
  const moving = (['x', 'y', 'z'] as const).filter((a) => move[a] !== undefined && (move[a] !== 0 || move.absolute));
  if (moving.length === 0) return [];
  const parts = moving.map((a) => `${a.toUpperCase()}${move[a]}`);
  const feed = move.speed === false ? undefined : (move.speed ?? Math.min(...moving.map((a) => axes[a].speed)));
  return [move.absolute ? 'G90' : 'G91', `G1 ${parts.join(' ')}${feed === undefined ? '' : ` F${feed}`}`, 'G90'];
}

/** Homes the given axes (OctoPrint's form: relative mode around G28 with a 0 per axis). */
export function homeLines(axes: readonly ('x' | 'y' | 'z')[]): string[] {
  return ['G91', `G28 ${axes.map((a) => `${a.toUpperCase()}0`).join(' ')}`, 'G90'];
}

/** A factor in percent: OctoPrint accepts 0.95 and 95 alike. */
export const percent = (factor: number): number => (factor < 10 ? factor * 100 : factor);

export const feedrateLine = (pct: number): string => `M220 S${pct}`;
export const flowrateLine = (pct: number): string => `M221 S${pct}`;

/** Extrudes (or retracts, negative) `amount` mm at `speed` mm/min, in relative extrusion, back to absolute after. */
export const extrudeLines = (amount: number, speed: number): string[] => ['M83', `G1 E${amount} F${speed}`, 'M82'];

export const selectToolLine = (index: number): string => `T${index}`;

/** The part-cooling fan (or fan `index`) at `percent` % (M106 takes 0-255; 0 is M107, off). */
export function fanLine(percent: number, index?: number): string {
  const p = index === undefined ? '' : ` P${index}`;
  return percent === 0 ? `M107${p}` : `M106${p} S${Math.round((percent * 255) / 100)}`;
}
