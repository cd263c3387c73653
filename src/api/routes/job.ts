// GET/POST /api/job as OctoPrint 1.11 answers them, and Gantry's print history. Pause, resume and cancel answer
// at once: 409 when the job's state table refuses them, else 204 while the job runner carries them out in the
// background (the state changes reach push and MQTT as they happen). Host prompts (M0, M600) live next door.
import { DEFAULT_PRINTER_ID } from '../../printers/printers-file.js';
import { Hono } from 'hono/tiny';
import { octoJob } from '../../octoprint/job.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, readCommand, requireNumber } from '../http.js';
import { promptRoutes } from './prompt.js';
import { callOp } from '../ops.js';

export function jobRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { printer } = deps;

  app.get('/api/job', (c) => {
    const { job, progress } = deps.status.job();
    const body: Record<string, unknown> = { job: octoJob(job), progress, state: printer.stateText };
    if (printer.error) body['error'] = printer.error;
    return c.json(body);
  });

  app.post('/api/job', async (c) => {
    const { command, body } = await readCommand(c, ['start', 'restart', 'cancel', 'pause'] as const);
    let op: string = `job.${command}`;
    if (command === 'pause') {
      const action = body['action'] ?? 'toggle'; // Cura sends no action: toggle
      if (action !== 'pause' && action !== 'resume' && action !== 'toggle') throw badRequest('action must be pause, resume or toggle');
      op = `job.${action}`;
    }
    await callOp(deps, c, op);
    return c.body(null, 204);
  });

  app.get('/api/gantry/history', async (c) => {
    const offset = c.req.query('offset') === undefined ? 0 : Math.floor(requireNumber(c.req.query('offset'), 'offset', 0));
    const limit = c.req.query('limit') === undefined ? 50 : Math.floor(requireNumber(c.req.query('limit'), 'limit', 1, 1000));
    // every printer's prints, or one printer's with ?printer=<id> (rows from before several printers are the default's)
    const only = c.req.query('printer');
    const all = (await deps.history.all()).filter((e) => only === undefined || (e.printerId ?? DEFAULT_PRINTER_ID) === only).reverse(); // newest first
    const totals = { prints: all.length, success: 0, failed: 0, cancelled: 0, printTime: 0 };
    for (const e of all) {
      totals[e.result]++;
      totals.printTime += e.printTime;
    }
    return c.json({ jobs: all.slice(offset, offset + limit), total: all.length, offset, limit, totals });
  });

  // app.ts lists the route groups; the prompt plugin's endpoints belong with the job's
  app.route('/', promptRoutes(deps));
  return app;
}
