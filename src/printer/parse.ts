// Parsers for what firmware prints back. Each takes one received line and returns a plain value or undefined.
// Formats covered: Marlin (`T:a /t B:a /t @:p`), multi-tool Marlin (`T0: T1:`), Klipper (`ok B: T0:`),
// Repetier (`TargetExtr0:`), Smoothieware (`T:a /t @0`), Prusa (extra `P:` / `A:` sensors).

export interface HeaterReading {
  actual: number;
  /** undefined when the line carried no target; keep the last known one */
  target: number | undefined;
}

export interface TemperatureReading {
  tools: Map<number, HeaterReading>;
  bed?: HeaterReading;
  chamber?: HeaterReading;
  /** Other sensors (Prusa `P` pinda, `A` ambient), actual only. */
  extra: Map<string, number>;
}

const TEMP_RE = /(?:^|\s|ok)(T\d*|B|C|P|A):\s*(-?\d+(?:\.\d+)?)(?:\s*\/\s*(-?\d+(?:\.\d+)?))?/g;

/** True when the line looks like a temperature report (cheap pre-check before the regex). */
export function looksLikeTemperature(line: string): boolean {
  return line.includes('T:') || line.includes('B:') || line.includes('T0:') || line.includes('C:');
}

/**
 * Parses a temperature report. `T:` alone is the active tool; when `T0:`… are present they win, since
 * multi-tool Marlin repeats the active tool as `T:`.
 */
export function parseTemperatures(line: string, activeTool = 0): TemperatureReading | undefined {
  if (line.trimStart().startsWith('X:') || line.includes('Count')) return undefined; // a position report (M114)
  const tools = new Map<number, HeaterReading>();
  const extra = new Map<string, number>();
  let bed: HeaterReading | undefined;
  let chamber: HeaterReading | undefined;
  let plainT: HeaterReading | undefined;
  let found = false;
  TEMP_RE.lastIndex = 0;
  for (let m = TEMP_RE.exec(line); m; m = TEMP_RE.exec(line)) {
    const key = m[1]!;
    const actual = Number(m[2]);
    if (!Number.isFinite(actual)) continue;
    const target = m[3] === undefined ? undefined : Number(m[3]);
    const reading: HeaterReading = { actual, target: Number.isFinite(target) ? target : undefined };
    found = true;
    if (key === 'T') plainT = reading;
    else if (key === 'B') bed = reading;
    else if (key === 'C') chamber = reading;
    else if (key === 'P' || key === 'A') extra.set(key, actual);
    else tools.set(Number(key.slice(1)), reading);
  }
  if (!found) return undefined;
  // `T:` alone is the active tool; beside `T1:`… without a `T0:` (Smoothieware) it is tool 0, as OctoPrint reads it
  if (plainT && tools.size === 0) tools.set(activeTool, plainT);
  else if (plainT && !tools.has(0)) tools.set(0, plainT);
  const out: TemperatureReading = { tools, extra };
  if (bed) out.bed = bed;
  if (chamber) out.chamber = chamber;
  return out;
}

/** Repetier prints targets on their own lines: `TargetExtr0:210`, `TargetBed:60`. */
export function parseRepetierTarget(line: string): { heater: 'bed' | number; target: number } | undefined {
  const m = /^TargetExtr(\d+):\s*(-?\d+(?:\.\d+)?)/.exec(line);
  if (m) return { heater: Number(m[1]), target: Number(m[2]) };
  const b = /^TargetBed:\s*(-?\d+(?:\.\d+)?)/.exec(line);
  if (b) return { heater: 'bed', target: Number(b[1]) };
  return undefined;
}

export interface Position {
  x: number;
  y: number;
  z: number;
  e: number;
}

/** M114 answer: `X:50.00 Y:50.00 Z:10.00 E:0.00 Count X:4000 …` (the part after `Count` is steps). */
export function parsePosition(line: string): Position | undefined {
  if (!line.startsWith('X:')) return undefined;
  const cut = line.indexOf(' Count');
  const text = cut >= 0 ? line.slice(0, cut) : line;
  const m = /X:\s*(-?[\d.]+)\s+Y:\s*(-?[\d.]+)\s+Z:\s*(-?[\d.]+)(?:\s+E\d?:\s*(-?[\d.]+))?/.exec(text);
  if (!m) return undefined;
  const pos = { x: Number(m[1]), y: Number(m[2]), z: Number(m[3]), e: m[4] === undefined ? 0 : Number(m[4]) };
  if (!Number.isFinite(pos.x) || !Number.isFinite(pos.y) || !Number.isFinite(pos.z)) return undefined;
  return pos;
}

export interface HostAction {
  name: string;
  params: string;
}

/** `//action:pause`, `// action:prompt_begin Filament runout`. */
export function parseAction(line: string): HostAction | undefined {
  let rest: string;
  if (line.startsWith('//action:')) rest = line.slice(9);
  else if (line.startsWith('// action:')) rest = line.slice(10);
  else return undefined;
  rest = rest.trim();
  const sp = rest.indexOf(' ');
  return sp < 0 ? { name: rest, params: '' } : { name: rest.slice(0, sp), params: rest.slice(sp + 1).trim() };
}

/** `Resend: 12`, `Resend:N:12`, `rs N12`, `rs 12`; the line number or undefined. */
export function parseResend(line: string): number | undefined {
  const lower = line.slice(0, 6).toLowerCase();
  if (!lower.startsWith('resend') && !lower.startsWith('rs')) return undefined;
  const m = /^(?:resend|rs)[:\s]*(?:N:?)?\s*(\d+)/i.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** ADVANCED_OK: `ok N12 P15 B3`. Returns the buffer fields when present. */
export function parseAdvancedOk(line: string): { line?: number; planner?: number; buffer?: number } | undefined {
  if (line.length < 4 || !line.includes(' B')) return undefined;
  const m = /^ok(?:\s+N(\d+))?\s+P(\d+)\s+B(\d+)/.exec(line);
  if (!m) return undefined;
  const out: { line?: number; planner?: number; buffer?: number } = { planner: Number(m[2]), buffer: Number(m[3]) };
  if (m[1] !== undefined) out.line = Number(m[1]);
  return out;
}
