// /api/printer and its heater, printhead and command sub-resources, as in OctoPrint 1.11.
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import { type HeaterLayout, octoHistoryEntry, octoState, octoTemperatures } from '../../printer/octoprint-shapes.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, conflict, parseBool, readCommand, readJsonObject, requireNumber } from '../http.js';
import { callOp } from '../ops.js';

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
    // this resource's heaters are the extruders: a bed or chamber here is an invalid tool
    const toolsOnly = (name: 'targets' | 'offsets') => {
      const v = body[name];
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) for (const k of Object.keys(v)) if (!k.startsWith('tool')) throw badRequest(`Invalid tool: ${k}`);
    };
    switch (command) {
      case 'target':
        toolsOnly('targets');
        await callOp(deps, c, 'printer.setTarget', { targets: body['targets'] });
        break;
      case 'offset':
        toolsOnly('offsets');
        await callOp(deps, c, 'printer.setOffset', { offsets: body['offsets'] });
        break;
      case 'select':
        await callOp(deps, c, 'printer.selectTool', { tool: body['tool'] });
        break;
      case 'extrude':
        await callOp(deps, c, 'printer.extrude', { amount: body['amount'], speed: body['speed'] });
        break;
      case 'flowrate':
        await callOp(deps, c, 'printer.flowrate', { factor: body['factor'] });
        break;
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
      if (command === 'target') await callOp(deps, c, 'printer.setTarget', { targets: { [name]: body['target'] } });
      else await callOp(deps, c, 'printer.setOffset', { offsets: { [name]: body['offset'] } });
      return c.body(null, 204);
    });
  };
  heaterResource('bed', () => settings.data.printerProfile.heatedBed);
  heaterResource('chamber', () => settings.data.printerProfile.heatedChamber);

  // --- printhead ---
  app.post('/api/printer/printhead', async (c) => {
    const { command, body } = await readCommand(c, ['jog', 'home', 'feedrate'] as const);
    if (command === 'jog') await callOp(deps, c, 'printer.jog', body);
    else if (command === 'home') await callOp(deps, c, 'printer.home', { axes: body['axes'] });
    else await callOp(deps, c, 'printer.feedrate', { factor: body['factor'] });
    return c.body(null, 204);
  });

  // --- arbitrary commands ---
  app.post('/api/printer/command', async (c) => {
    const body = await readJsonObject(c);
    const one = body['command'];
    const many = body['commands'];
    if (body['script'] !== undefined) throw badRequest('Scripts are not supported yet; send commands instead');
    if ((one === undefined) === (many === undefined)) throw badRequest('Send either "command" or "commands"');
    await callOp(deps, c, 'printer.gcode', { commands: one !== undefined ? [one] : many });
    return c.body(null, 204);
  });

  return app;
}
