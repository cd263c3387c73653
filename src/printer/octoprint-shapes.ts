// OctoPrint's JSON shapes for printer state and temperatures, shared by every surface (REST, push, MQTT).
import type { Printer } from './printer.js';
import { type StateFlags, stateFlags } from './state.js';
import type { HeaterState, TemperatureSample } from './temperature-history.js';

export interface OctoHeater {
  actual: number | null;
  target: number | null;
  offset: number;
}

const round2 = (n: number | null | undefined): number | null => (n === null || n === undefined ? null : Math.round(n * 100) / 100);

export interface HeaterLayout {
  tools: number;
  bed: boolean;
  chamber: boolean;
}

export function octoState(printer: Printer): { text: string; error: string; flags: StateFlags } {
  return { text: printer.stateText, error: printer.error, flags: stateFlags(printer.state) };
}

/** `{tool0:{actual,target,offset}, bed:…, chamber:…}` for the heaters the profile has. */
export function octoTemperatures(printer: Printer, layout: HeaterLayout): Record<string, OctoHeater> {
  const t = printer.temperatures;
  const out: Record<string, OctoHeater> = {};
  const toolCount = Math.max(layout.tools, t.tools.size === 0 ? 0 : Math.max(...t.tools.keys()) + 1);
  const heater = (h: HeaterState | undefined, key: string): OctoHeater => ({
    actual: round2(h?.actual),
    target: round2(h?.target),
    offset: printer.offsets.get(key) ?? 0,
  });
  if (t.tools.size === 0 && !t.bed) return out; // OctoPrint sends {} until the first report
  for (let i = 0; i < toolCount; i++) out[`tool${i}`] = heater(t.tools.get(i), `tool${i}`);
  if (layout.bed) out['bed'] = heater(t.bed, 'bed');
  if (layout.chamber) out['chamber'] = heater(t.chamber, 'chamber');
  return out;
}

export function octoHistoryEntry(s: TemperatureSample, layout: HeaterLayout): Record<string, unknown> {
  const entry: Record<string, unknown> = { time: s.time };
  s.tools.forEach((h, i) => (entry[`tool${i}`] = { actual: round2(h.actual), target: round2(h.target) }));
  if (layout.bed && s.bed) entry['bed'] = { actual: round2(s.bed.actual), target: round2(s.bed.target) };
  if (layout.chamber && s.chamber) entry['chamber'] = { actual: round2(s.chamber.actual), target: round2(s.chamber.target) };
  return entry;
}
