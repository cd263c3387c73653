// Every heater off after a cancel, whatever the user's cancel script says: a cancelled print must never leave
// a nozzle or bed hot (Marlin kept heating for 96 s after a cancel that reported Operational). Only what the
// script lacks is added, so a script that already does it runs exactly as written.
import { M, commandKey, param, stripComment } from '../printer/gcode.js';
import type { Printer } from '../printer/printer.js';

export interface HeaterLayout {
  /** extruders (each gets M104 T<n> S0 unless the script turns it off) */
  tools: number;
  bed: boolean;
  chamber: boolean;
}

/** The lines to append to `script` so that every heater ends at 0. */
export function missingHeatersOff(script: string[], layout: HeaterLayout): string[] {
  const offTools = new Set<number>();
  let untargetedToolOff = false;
  let bedOff = false;
  let chamberOff = false;
  for (const raw of script) {
    const line = stripComment(raw);
    const key = commandKey(line);
    const s = param(line, 'S');
    const r = param(line, 'R');
    const zero = (s === 0 && !(r > 0)) || (Number.isNaN(s) && r === 0);
    if (!zero) continue;
    if (key === M(104) || key === M(109)) {
      const t = param(line, 'T');
      if (Number.isFinite(t)) offTools.add(t);
      else untargetedToolOff = true; // the active tool: enough on a single-tool printer
    } else if (key === M(140) || key === M(190)) bedOff = true;
    else if (key === M(141) || key === M(191)) chamberOff = true;
  }
  const out: string[] = [];
  const tools = Math.max(1, layout.tools);
  if (!(tools === 1 && untargetedToolOff)) {
    for (let t = 0; t < tools; t++) if (!offTools.has(t)) out.push(`M104 T${t} S0`);
  }
  if (layout.bed && !bedOff) out.push('M140 S0');
  if (layout.chamber && !chamberOff) out.push('M141 S0');
  return out;
}

/** The profile's heaters and any the printer reports or says it has: a cancel turns every one of them off. */
export function heaterLayout(profile: HeaterLayout, printer: Printer): HeaterLayout {
  const t = printer.temperatures;
  const reported = t.tools.size === 0 ? 0 : Math.max(...t.tools.keys()) + 1;
  const fw = Number(printer.firmware?.fields['EXTRUDER_COUNT'] ?? 0);
  return { tools: Math.max(profile.tools, reported, Number.isFinite(fw) ? fw : 0), bed: profile.bed || t.bed !== undefined, chamber: profile.chamber || t.chamber !== undefined };
}
