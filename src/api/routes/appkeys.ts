// OctoPrint's appkeys plugin endpoints (Home Assistant and Cura use them to get a key without copy-paste).
// The request and the poll need no key (the app has none yet); the poll answers only to the app's own secret.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { absoluteUrl, badRequest, parseBool, readJsonObject, remoteAddress } from '../http.js';
import { printable } from '../../log.js';

const MAX_APP_NAME = 100;

export function appKeyRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { appKeys } = deps;

  app.get('/plugin/appkeys/probe', (c) => c.body(null, 204));

  app.post('/plugin/appkeys/request', async (c) => {
    const b = await readJsonObject(c);
    const name = b['app'];
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_APP_NAME) throw badRequest(`Send {"app": "<application name>"} (at most ${MAX_APP_NAME} characters)`);
    const user = typeof b['user'] === 'string' && b['user'] !== '' ? b['user'].slice(0, 64) : null;
    const remote = remoteAddress(c);
    const r = appKeys.request(name.trim(), user, remote);
    deps.log.info(`${printable(r.app)} asks for an API key${user ? ` for ${printable(user)}` : ''} from ${remote ?? 'an unknown address'} (approve it in Gantry)`);
    c.header('Location', absoluteUrl(c, `/plugin/appkeys/request/${r.pollToken}`));
    // the dialog link carries the request id approvers see, never the poll secret
    return c.json({ app_token: r.pollToken, auth_dialog: absoluteUrl(c, `/#appkeys/${r.id}`) }, 201);
  });

  app.get('/plugin/appkeys/request/:token', (c) => {
    const r = appKeys.poll(c.req.param('token'));
    if (!r) return c.json({ error: 'No such request, or it was denied or expired' }, 404);
    if (r.decision === 'granted') return c.json({ api_key: r.key });
    return c.json({ message: 'Awaiting decision' }, 202);
  });

  const decide = async (id: string, grant: boolean, approver: NonNullable<ApiEnv['Variables']['identity']>) => {
    const r = await appKeys.decide(id, grant, approver);
    deps.log.info(`API key request from ${printable(r.app)} ${grant ? 'granted' : 'denied'} by ${printable(approver.name)}${grant ? ` (a key for ${printable(r.user ?? approver.name)})` : ''}`);
  };

  // OctoPrint's decision endpoint takes the request id it pushed as `user_token`
  app.post('/plugin/appkeys/decision/:id', async (c) => {
    const b = await readJsonObject(c);
    await decide(c.req.param('id'), parseBool(b['decision']), c.get('identity')!);
    return c.body(null, 204);
  });

  app.get('/api/gantry/appkeys', (c) =>
    c.json({ pending: appKeys.pendingFor(c.get('identity')!).map((r) => ({ id: r.id, app: r.app, user: r.user, remoteAddress: r.remoteAddress, created: r.created })) }),
  );
  app.post('/api/gantry/appkeys/:id', async (c) => {
    const b = await readJsonObject(c);
    await decide(c.req.param('id'), parseBool(b['decision']), c.get('identity')!);
    return c.body(null, 204);
  });

  return app;
}
