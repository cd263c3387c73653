// OctoPrint's system commands: restart Gantry, reboot or shut down the Pi (commands from settings, run
// without a shell).
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import { ServiceError } from '../../service-error.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { absoluteUrl } from '../http.js';

const CORE = [
  { action: 'shutdown', name: 'Shutdown system', confirm: 'You are about to shut down the system.' },
  { action: 'reboot', name: 'Reboot system', confirm: 'You are about to reboot the system.' },
  { action: 'restart', name: 'Restart Gantry', confirm: 'You are about to restart Gantry.' },
];

export function systemRoutes(deps: ApiDeps): Hono<ApiEnv & { Bindings: HttpBindings }> {
  const app = new Hono<ApiEnv & { Bindings: HttpBindings }>();
  const list = (c: Context) => CORE.map((x) => ({ ...x, source: 'core', resource: absoluteUrl(c, `/api/system/commands/core/${x.action}`) }));
  app.get('/api/system/commands', (c) => c.json({ core: list(c), custom: [] }));
  app.get('/api/system/commands/core', (c) => c.json(list(c)));
  app.get('/api/system/commands/custom', (c) => c.json([]));
  app.post('/api/system/commands/:source/:action', async (c) => {
    const source = c.req.param('source');
    const action = c.req.param('action');
    if (source !== 'core' || !CORE.some((x) => x.action === action)) throw new ServiceError(404, `No system command ${source}/${action}`);
    deps.log.warn(`system command ${action} requested by ${c.get('user')}`);
    if (action === 'restart') {
      setTimeout(() => deps.restart(), 200).unref();
      return c.body(null, 204);
    }
    const argv = action === 'reboot' ? deps.settings.data.system.rebootCommand : deps.settings.data.system.shutdownCommand;
    // systemd stops Gantry as soon as the command has asked it to, often before this answer is written
    if (c.env?.outgoing) deps.answerBeforeStop(c.env.outgoing);
    const code = await deps.runSystemCommand(argv);
    if (code !== 0) return c.json({ error: `${argv.join(' ')} failed with exit code ${code}` }, 500);
    return c.body(null, 204);
  });
  return app;
}
