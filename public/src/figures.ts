// A printer's figures as the page words them: heater names and readings (the dashboard's temperature card, the
// farm view's cards) and the colour of a state. Pure (no DOM): the unit tests run it in Node.

export interface Heater {
  actual: number | null;
  target: number | null;
}

export function heaterName(key: string): string {
  return key === 'bed' ? 'Bed' : key === 'chamber' ? 'Chamber' : key === 'tool0' ? 'Nozzle' : `Nozzle ${key.slice(4)}`;
}

/** 'Nozzle 205/210 °C · Bed 60/60 °C': each heater's reading (whole degrees) and its target when one is set;
 * nozzles first, then the bed and the chamber. */
export function heatersLine(temps: Record<string, Heater> | undefined): string {
  const order = (k: string) => (k.startsWith('tool') ? 0 : k === 'bed' ? 1 : 2);
  return Object.entries(temps ?? {})
    .filter(([k, v]) => /^(tool\d+|bed|chamber)$/.test(k) && v && typeof v === 'object')
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([k, v]) => `${heaterName(k)} ${v.actual === null ? '–' : Math.round(v.actual)}${v.target ? `/${Math.round(v.target)}` : ''} °C`)
    .join(' · ');
}

/** the states in which a printer answers its printer API (temperatures, jog, …) */
const LINKED = new Set(['OPERATIONAL', 'STARTING', 'PRINTING', 'PAUSING', 'PAUSED', 'RESUMING', 'CANCELLING', 'FINISHING']);

export function isLinked(state: string): boolean {
  return LINKED.has(state);
}

/** the pill's colour for a state id (GET /api/gantry/printers `state`), as the dashboard colours its own */
export function stateClass(state: string): string {
  if (state === 'ERROR' || state === 'CLOSED_WITH_ERROR') return 'bad';
  if (state === 'PAUSED') return 'warn';
  if (state === 'OPERATIONAL') return 'ok';
  return LINKED.has(state) ? 'busy' : '';
}

export interface ProgressFigures {
  /** completion, 0–100 (0 before the first report) */
  pct: number;
  /** seconds left, as the status model's progress.printTimeLeft has them; null when not known */
  left: number | null;
  /** when it ends at this pace; null unless a print is on (printing or paused) and its time left is known */
  endsAt: Date | null;
}

/** A print's figures as both the dashboard's job card and the farm view's cards show them, from the same status
 * model's progress, so the two never disagree about one print. */
export function progressFigures(
  p: { completion: number | null; printTimeLeft: number | null },
  flags: { printing: boolean; paused: boolean },
  now = Date.now(),
): ProgressFigures {
  const pct = p.completion === null ? 0 : Math.min(100, Math.max(0, p.completion));
  const left = p.printTimeLeft;
  return { pct, left, endsAt: left !== null && (flags.printing || flags.paused) ? new Date(now + left * 1000) : null };
}
