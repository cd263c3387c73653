// /api/printer and its heater, printhead and command sub-resources, as in OctoPrint 1.11.
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import { MAX_TARGET, heaterOf, targetLine } from '../../printer/commands.js';
import { type HeaterLayout, octoHistoryEntry, octoState, octoTemperatures } from '../../printer/octoprint-shapes.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { HttpError, badRequest, conflict, parseBool, readCommand, readJsonObject, requireNumber } from '../http.js';

export function printerRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { printer, settings } = deps;
  const layout = (): HeaterLayout => {
    const p = settings.data.printerProfile;
    return { tools: p.extruder.count, bed: p.heatedBed, chamber: p.heatedChamber };
  };
  const requireOperational = () => {
    if (!printer.operational) throw conflict('Printer is not operational');
  };
  const requireIdle = () => {
    requireOperational();
    if (printer.printing || printer.state === 'PAUSED') throw conflict('Printer is currently printing');
  };
  const send = (lines: string[]) => {
    requireOperational();
    printer.commands(lines);
  };
  const history = (c: Context, pick: (entry: Record<string, unknown>) => Record<string, unknown>) => {
    const limitRaw = c.req.query('limit');
    const limit = limitRaw === undefined ? 300 : Math.floor(requireNumber(limitRaw, 'limit', 1, 100000));
    return printer.history.samples(Math.floor(Date.now() / 1000), limit).map((s) => pick(octoHistoryEntry(s, layout())));
  };

  app.get('/api/printer', (c) => {
    requireOperational();
    const exclude = new Set((c.req.query('exclude') ?? '').split(',').map((s) => s.trim()));
    const out: Record<string, unknown> = {};
    if (!exclude.has('temperature')) {
      const temps: Record<string, unknown> = octoTemperatures(printer, layout());
      if (parseBool(c.req.query('history'))) temps['history'] = history(c, (e) => e);
      out['temperature'] = temps;
    }
    if (!exclude.has('sd')) out['sd'] = { ready: false }; // no printer SD support yet
    if (!exclude.has('state')) out['state'] = octoState(printer);
    return c.json(out);
  });

  // --- tools ---
  app.get('/api/printer/tool', (c) => {
    requireOperational();
    const all = octoTemperatures(printer, layout());
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('tool')));
    if (parseBool(c.req.query('history'))) {
      out['history'] = history(c, (e) => Object.fromEntries(Object.entries(e).filter(([k]) => k === 'time' || k.startsWith('tool'))));
    }
    return c.json(out);
  });

  app.post('/api/printer/tool', async (c) => {
    const { command, body } = await readCommand(c, ['target', 'offset', 'select', 'extrude', 'flowrate'] as const);
    // an extruder of the profile: its index, or null for `tool` (the active one) where that is allowed
    const toolIndex = (key: string, allowCurrent: boolean): number | null => {
      if (key === 'bed' || key === 'chamber') throw badRequest(`Invalid tool: ${key}`);
      let heater: string;
      try {
        heater = heaterOf(key, layout(), allowCurrent);
      } catch (err) {
        throw badRequest((err as Error).message);
      }
      return heater === 'tool' ? null : Number(heater.slice('tool'.length));
    };
    switch (command) {
      case 'target': {
        const targets = objectParam(body, 'targets');
        const lines = Object.entries(targets).map(([key, v]) => {
          const n = toolIndex(key, true);
          const t = requireNumber(v, `targets.${key}`, 0, MAX_TARGET);
          return targetLine(n === null ? 'tool' : `tool${n}`, t, printer.offsets);
        });
        send(lines);
        break;
      }
      case 'offset': {
        const offsets = objectParam(body, 'offsets');
        const parsed = Object.entries(offsets).map(([key, v]) => {
          if (toolIndex(key, false) === null) throw badRequest(`Invalid tool: ${key}`);
          return [key, requireNumber(v, `offsets.${key}`, -50, 50)] as const;
        });
        requireOperational();
        for (const [k, v] of parsed) printer.offsets.set(k, v);
        break;
      }
      case 'select': {
        const tool = body['tool'];
        if (typeof tool !== 'string') throw badRequest('tool must be a string like "tool1"');
        const n = toolIndex(tool, false);
        requireIdle();
        send([`T${n}`]);
        break;
      }
      case 'extrude': {
        const amount = requireNumber(body['amount'], 'amount', -1000, 1000);
        const speed = body['speed'] === undefined ? settings.data.printerProfile.axes.e.speed : requireNumber(body['speed'], 'speed', 1, 100000);
        requireIdle();
        send(['M83', `G1 E${amount} F${speed}`, 'M82']);
        break;
      }
      case 'flowrate': {
        let factor = requireNumber(body['factor'], 'factor');
        if (factor < 10) factor *= 100; // OctoPrint accepts 0.95 and 95
        if (factor < 75 || factor > 125) throw badRequest('factor must be between 75 and 125 percent');
        send([`M221 S${Math.round(factor)}`]);
        break;
      }
    }
    return c.body(null, 204);
  });

  // --- bed and chamber ---
  const heaterResource = (name: 'bed' | 'chamber', present: () => boolean) => {
    app.get(`/api/printer/${name}`, (c) => {
      requireOperational();
      if (!present()) throw conflict(`The printer profile has no heated ${name}`);
      const out: Record<string, unknown> = { [name]: octoTemperatures(printer, layout())[name] ?? { actual: null, target: null, offset: 0 } };
      if (parseBool(c.req.query('history'))) out['history'] = history(c, (e) => ({ time: e['time'], [name]: e[name] }));
      return c.json(out);
    });
    app.post(`/api/printer/${name}`, async (c) => {
      const { command, body } = await readCommand(c, ['target', 'offset'] as const);
      if (command === 'target') {
        const t = requireNumber(body['target'], 'target', 0, MAX_TARGET);
        requireOperational();
        if (!present()) throw conflict(`The printer profile has no heated ${name}`);
        send([targetLine(name, t, printer.offsets)]);
      } else {
        const o = requireNumber(body['offset'], 'offset', -50, 50);
        requireOperational();
        if (!present()) throw conflict(`The printer profile has no heated ${name}`);
        printer.offsets.set(name, o);
      }
      return c.body(null, 204);
    });
  };
  heaterResource('bed', () => settings.data.printerProfile.heatedBed);
  heaterResource('chamber', () => settings.data.printerProfile.heatedChamber);

  // --- printhead ---
  app.post('/api/printer/printhead', async (c) => {
    const { command, body } = await readCommand(c, ['jog', 'home', 'feedrate'] as const);
    const axes = settings.data.printerProfile.axes;
    if (command === 'jog') {
      const parts: string[] = [];
      for (const axis of ['x', 'y', 'z'] as const) {
        if (body[axis] === undefined || body[axis] === null) continue;
        const v = requireNumber(body[axis], axis, -10000, 10000);
        if (v !== 0 || parseBool(body['absolute'])) parts.push(`${axis.toUpperCase()}${v}`);
      }
      let feed: number | undefined;
      if (body['speed'] === false) feed = undefined;
      else if (body['speed'] !== undefined) feed = requireNumber(body['speed'], 'speed', 1, 100000);
      else {
        const moving = (['x', 'y', 'z'] as const).filter((a) => parts.some((p) => p.startsWith(a.toUpperCase())));
        feed = Math.min(...(moving.length ? moving : (['x', 'y'] as const)).map((a) => axes[a].speed));
      }
      requireIdle();
      if (parts.length === 0) return c.body(null, 204); // FDM Monster sends 0 for untouched axes
      const absolute = parseBool(body['absolute']);
      send([absolute ? 'G90' : 'G91', `G1 ${parts.join(' ')}${feed === undefined ? '' : ` F${feed}`}`, 'G90']);
    } else if (command === 'home') {
      const list = body['axes'];
      if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && /^[xyz]$/i.test(a))) {
        throw badRequest('axes must be a list of "x", "y", "z"');
      }
      requireIdle();
      send(['G91', `G28 ${list.map((a: string) => `${a.toUpperCase()}0`).join(' ')}`, 'G90']);
    } else {
      let factor = requireNumber(body['factor'], 'factor');
      if (factor < 10) factor *= 100;
      if (factor < 50 || factor > 200) throw badRequest('factor must be between 50 and 200 percent');
      send([`M220 S${Math.round(factor)}`]);
    }
    return c.body(null, 204);
  });

  // --- arbitrary commands ---
  app.post('/api/printer/command', async (c) => {
    const body = await readJsonObject(c);
    const one = body['command'];
    const many = body['commands'];
    if (body['script'] !== undefined) throw badRequest('Scripts are not supported yet; send commands instead');
    if ((one === undefined) === (many === undefined)) throw badRequest('Send either "command" or "commands"');
    const list = one !== undefined ? [one] : many;
    if (!Array.isArray(list) || list.length === 0 || !list.every((l) => typeof l === 'string')) {
      throw badRequest('commands must be a non-empty list of strings');
    }
    const lines = (list as string[]).flatMap((l) => l.split(/\r?\n/)).map((l) => l.trim()).filter((l) => l.length > 0);
    if (lines.length === 0) throw badRequest('No command to send');
    if (lines.some((l) => l.length > 256)) throw badRequest('A command is longer than 256 characters');
    // the terminal also works in Error while the link is open (FIRMWARE_RESTART for a shut-down Klipper)
    if (!printer.acceptsCommands) throw conflict('Printer is not operational');
    printer.commands(lines);
    return c.body(null, 204);
  });

  return app;
}

function objectParam(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = body[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0) {
    throw new HttpError(400, `${name} must be an object like {"tool0": 200}`);
  }
  return v as Record<string, unknown>;
}

