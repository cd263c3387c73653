// OctoPrint's appkeys plugin endpoints (Home Assistant and Cura use them to get a key without copy-paste).
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { absoluteUrl, badRequest, parseBool, readJsonObject } from '../http.js';

export function appKeyRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { appKeys } = deps;

  app.get('/plugin/appkeys/probe', (c) => c.body(null, 204));

  app.post('/plugin/appkeys/request', async (c) => {
    const b = await readJsonObject(c);
    const name = b['app'];
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw badRequest('Send {"app": "<application name>"}');
    const user = typeof b['user'] === 'string' ? b['user'] : null;
    const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? null;
    const r = appKeys.request(name.trim(), user, remote);
    deps.log.info(`${name} asks for an API key (approve it in Gantry)`);
    c.header('Location', absoluteUrl(c, `/plugin/appkeys/request/${r.token}`));
    return c.json({ app_token: r.token, auth_dialog: absoluteUrl(c, `/#appkeys/${r.token}`) }, 201);
  });

  app.get('/plugin/appkeys/request/:token', (c) => {
    const r = appKeys.poll(c.req.param('token'));
    if (!r) return c.json({ error: 'No such request, or it was denied or expired' }, 404);
    if (r.decision === 'granted') return c.json({ api_key: r.key });
    return c.json({ message: 'Awaiting decision' }, 202);
  });

  const decide = async (token: string, grant: boolean, approver: string) => {
    if (!(await appKeys.decide(token, grant, approver))) return false;
    deps.log.info(`API key request ${grant ? 'granted' : 'denied'} by ${approver}`);
    return true;
  };

  app.post('/plugin/appkeys/decision/:token', async (c) => {
    const b = await readJsonObject(c);
    const ok = await decide(c.req.param('token'), parseBool(b['decision']), c.get('user')!);
    return ok ? c.body(null, 204) : c.json({ error: 'No such pending request' }, 404);
  });

  app.get('/api/gantry/appkeys', (c) =>
    c.json({ pending: appKeys.pending().map((r) => ({ token: r.token, app: r.app, user: r.user, remoteAddress: r.remoteAddress, created: r.created })) }),
  );
  app.post('/api/gantry/appkeys/:token', async (c) => {
    const b = await readJsonObject(c);
    const ok = await decide(c.req.param('token'), parseBool(b['decision']), c.get('user')!);
    return ok ? c.body(null, 204) : c.json({ error: 'No such pending request' }, 404);
  });

  return app;
}
