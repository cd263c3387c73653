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
