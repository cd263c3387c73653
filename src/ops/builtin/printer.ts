// Controlling the printer: heater targets and offsets, jog, home, feed and flow factors, extrude, tool select and
// raw commands. The G-code is built in src/printer/commands.ts; here the checks every surface shares: parameters
// (invalid), the printer's state (conflict), the profile's heaters.
import { HeaterError, MAX_TARGET, extrudeLines, fanLine, feedrateLine, flowrateLine, heaterOf, homeLines, jogLines, percent, selectToolLine, targetLine } from '../../printer/commands.js';
import type { HeaterLayout } from '../../printer/octoprint-shapes.js';
import { ServiceError } from '../../service-error.js';
import { type OpCall, operation } from '../operation.js';
import { boolValue, numberParam, numberValue } from '../params.js';

const invalid = (msg: string) => new ServiceError(400, msg);
const conflict = (msg: string) => new ServiceError(409, msg);

function layoutOf(c: OpCall): HeaterLayout {
  const p = c.target.settings.data.printerProfile;
  return { tools: p.extruder.count, bed: p.heatedBed, chamber: p.heatedChamber };
}
function requireOperational(c: OpCall): void {
  if (!c.target.printer.operational) throw conflict('Printer is not operational');
}
/** Moving the head, extruding, selecting a tool: not while a job prints (or pauses, resumes, cancels), but while it
 * is Paused, as OctoPrint allows (a filament change by hand), when resume puts the head back (jobs/pause-state.ts). */
function requireNotPrinting(c: OpCall): void {
  requireOperational(c);
  const { printer, jobs } = c.target;
  if (printer.printing) throw conflict('Printer is currently printing');
  if (printer.state === 'PAUSED' && !jobs.pausedWithPositionSaved) {
    throw conflict('The printer holds the print itself (it waits for you on its display); a move sent now would run only after it continues, in the middle of the print');
  }
}

/** `{"tool0": 200, "bed": 60}`: a non-empty object of numbers, each within [min, max]. */
function heaterValues(input: Record<string, unknown>, name: string, min: number, max: number): [string, number][] {
  const v = input[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0) throw invalid(`${name} must be an object like {"tool0": 200}`);
  return Object.entries(v).map(([k, n]) => [k, numberValue(n, `${name}.${k}`, min, max)] as [string, number]);
}

/** The heater a name means on this printer: an unknown name or a missing extruder is invalid; a bed or chamber the
 * profile lacks is a conflict (as OctoPrint answers for /api/printer/bed). */
function heater(c: OpCall, name: string, allowActive: boolean) {
  try {
    return heaterOf(name, layoutOf(c), allowActive);
  } catch (err) {
    if (err instanceof HeaterError && err.kind === 'absent' && (name === 'bed' || name === 'chamber')) throw conflict(err.message);
    if (err instanceof HeaterError) throw invalid(err.message);
    throw err;
  }
}

const AXES = ['x', 'y', 'z'] as const;

/** A factor in percent, {"factor": 100} (or 1.0), within [min, max] %, sent as the line `line` builds. */
function factorOp(name: string, what: string, min: number, max: number, line: (pct: number) => string) {
  return operation({
    name,
    permission: 'CONTROL',
    summary: `${what}, {"factor": 100} (${min}-${max} %, or ${min / 100}-${max / 100})`,
    parse: (i) => {
      const pct = percent(numberParam(i, 'factor'));
      if (pct < min || pct > max) throw invalid(`factor must be between ${min} and ${max} percent`);
      return { pct: Math.round(pct) };
    },
    run: (c, p) => {
      requireOperational(c);
      c.target.printer.commands([line(p.pct)]);
    },
  });
}

export const printerOps = [
  operation({
    name: 'printer.setTarget',
    permission: 'CONTROL',
    summary: 'heater targets, {"targets": {"tool0": 210, "bed": 60}}, each with its offset added',
    parse: (i) => ({ targets: heaterValues(i, 'targets', 0, MAX_TARGET) }),
    run: (c, p) => {
      // extruder names are checked before the state (a wrong name is the caller's mistake whatever the printer
      // does); a missing bed or chamber after it, as OctoPrint answers /api/printer/bed
      for (const [name] of p.targets) if (name !== 'bed' && name !== 'chamber') heater(c, name, true);
      requireOperational(c);
      c.target.printer.commands(p.targets.map(([name, t]) => targetLine(heater(c, name, true), t, c.target.printer.offsets)));
    },
  }),
  operation({
    name: 'printer.setOffset',
    permission: 'CONTROL',
    summary: 'temperature offsets, {"offsets": {"tool0": 5, "bed": -2}}, added to every target set after',
    parse: (i) => ({ offsets: heaterValues(i, 'offsets', -50, 50) }),
    run: (c, p) => {
      for (const [name] of p.offsets) if (name !== 'bed' && name !== 'chamber') heater(c, name, false);
      requireOperational(c);
      for (const [name, v] of p.offsets) c.target.printer.offsets.set(heater(c, name, false), v);
    },
  }),
  operation({
    name: 'printer.jog',
    permission: 'CONTROL',
    summary: 'move the head, {"x", "y", "z", "absolute", "speed"}',
    parse: (i) => {
      const move: { x?: number; y?: number; z?: number; absolute: boolean; speed: number | false | undefined } = { absolute: boolValue(i['absolute']), speed: undefined };
      for (const a of AXES) if (i[a] !== undefined && i[a] !== null) move[a] = numberParam(i, a, -10000, 10000);
      if (i['speed'] === false) move.speed = false;
      else if (i['speed'] !== undefined) move.speed = numberParam(i, 'speed', 1, 100000);
      return move;
    },
    run: (c, p) => {
      requireNotPrinting(c);
      const lines = jogLines(p, c.target.settings.data.printerProfile.axes);
      if (lines.length > 0) c.target.printer.commands(lines);
    },
  }),
  operation({
    name: 'printer.home',
    permission: 'CONTROL',
    summary: 'home axes, {"axes": ["x", "y", "z"]}',
    parse: (i) => {
      const list = i['axes'];
      if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && /^[xyz]$/i.test(a))) throw invalid('axes must be a list of "x", "y", "z"');
      return { axes: (list as string[]).map((a) => a.toLowerCase() as 'x' | 'y' | 'z') };
    },
    run: (c, p) => {
      requireNotPrinting(c);
      c.target.printer.commands(homeLines(p.axes));
    },
  }),
  factorOp('printer.feedrate', 'speed factor', 50, 200, feedrateLine),
  factorOp('printer.flowrate', 'flow factor', 75, 125, flowrateLine),
  operation({
    name: 'printer.fan',
    permission: 'CONTROL',
    summary: 'fan speed, {"speed": 0-100 (%), "fan": index (optional)}',
    parse: (i) => ({ speed: numberParam(i, 'speed', 0, 100), fan: i['fan'] === undefined ? undefined : Math.round(numberParam(i, 'fan', 0, 7)) }),
    run: (c, p) => {
      requireOperational(c);
      c.target.printer.commands([fanLine(p.speed, p.fan)]);
    },
  }),
  operation({
    name: 'printer.extrude',
    permission: 'CONTROL',
    summary: 'extrude (or retract, negative) {"amount": mm, "speed": mm/min}',
    parse: (i) => ({ amount: numberParam(i, 'amount', -1000, 1000), speed: i['speed'] === undefined ? undefined : numberParam(i, 'speed', 1, 100000) }),
    run: (c, p) => {
      requireNotPrinting(c);
      c.target.printer.commands(extrudeLines(p.amount, p.speed ?? c.target.settings.data.printerProfile.axes.e.speed));
    },
  }),
  operation({
    name: 'printer.selectTool',
    permission: 'CONTROL',
    summary: 'make an extruder the active one, {"tool": "tool1"}',
    parse: (i) => {
      if (typeof i['tool'] !== 'string') throw invalid('tool must be a string like "tool1"');
      return { tool: i['tool'] };
    },
    run: (c, p) => {
      // only extruders are tools: a bed is an invalid tool whether or not the profile has one
      if (!p.tool.startsWith('tool')) throw invalid(`Invalid tool: ${p.tool}`);
      const h = heater(c, p.tool, false);
      requireNotPrinting(c);
      c.target.printer.commands([selectToolLine(Number(h.slice('tool'.length)))]);
    },
  }),
  operation({
    name: 'printer.gcode',
    permission: 'CONTROL',
    summary: 'send commands, {"commands": ["G28", "M114"]}; replies appear in the terminal',
    parse: (i) => {
      const list = i['commands'];
      if (!Array.isArray(list) || !list.every((l) => typeof l === 'string')) throw invalid('commands must be a list of strings');
      // an empty list (a macro button with nothing in it) sends nothing and succeeds, as in OctoPrint
      const lines = (list as string[]).flatMap((l) => l.split(/\r?\n/)).map((l) => l.trim()).filter((l) => l.length > 0);
      if (lines.some((l) => l.length > 256)) throw invalid('A command is longer than 256 characters');
      return { lines };
    },
    run: (c, p) => {
      // the terminal also works in Error while the link is open (FIRMWARE_RESTART for a shut-down Klipper)
      if (!c.target.printer.acceptsCommands) throw conflict('Printer is not operational');
      if (p.lines.length > 0) c.target.printer.commands(p.lines);
    },
  }),
];
