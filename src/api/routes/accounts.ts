// Login (active with a password, passive with a key for push-socket clients), logout, the current user,
// first-run setup, users and keys.
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { type Role, groupsOf, permissionsOf } from '../../accounts/permissions.js';
import type { Identity } from '../../accounts/users.js';
import { ServiceError } from '../../service-error.js';
import { SESSION_COOKIE } from '../auth.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { badRequest, parseBool, readJsonObject, remoteAddress } from '../http.js';
import { isAllowedHost } from '../allowed-host.js';
import { printable } from '../../log.js';
import { hostname } from 'node:os';

const ROLES: Role[] = ['admin', 'user', 'readonly'];

export function accountRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { accounts, sessions } = deps;
  const failures = new Map<string, number[]>(); // remote address → failed login times

  const userRecord = (name: string, roles: Role[], session: string, mechanism: string) => {
    const permissions = permissionsOf(roles);
    const groups = groupsOf(roles);
    return {
      name,
      active: true,
      user: true,
      admin: roles.includes('admin'),
      apikey: null,
      settings: {},
      groups,
      permissions,
      roles: roles.includes('admin') ? ['user', 'admin'] : ['user'],
      needs: { role: permissions.map((p) => p.toLowerCase()), group: groups },
      session,
      _is_external_client: false,
      _login_mechanism: mechanism,
      _credentials_seen: false,
    };
  };

  const body = async (c: Context): Promise<Record<string, unknown>> => {
    const type = c.req.header('content-type') ?? '';
    if (/^application\/x-www-form-urlencoded/i.test(type)) return Object.fromEntries(new URLSearchParams(await c.req.text()));
    return readJsonObject(c);
  };

  const remote = (c: Context) => remoteAddress(c) ?? 'unknown';

  app.post('/api/login', async (c) => {
    const b = await body(c);
    const identity = c.get('identity');
    if (parseBool(b['passive'])) {
      if (!identity) return c.json({ needs: { role: [], group: ['guests'] }, _is_external_client: false });
      const s = sessions.create(identity.name, identity.roles, false, identity.key?.key);
      return c.json(userRecord(identity.name, identity.roles, s.id, identity.via === 'apikey' ? 'apikey' : 'session'));
    }
    const user = b['user'];
    const pass = b['pass'];
    if (typeof user !== 'string' || typeof pass !== 'string') throw badRequest('Send {"user", "pass"} to log in, or {"passive": true} with an API key');
    const addr = remote(c);
    const bucket = `${addr} ${user}`; // per address and name: one user's typos never lock out another
    const recent = (failures.get(bucket) ?? []).filter((t) => Date.now() - t < 60_000);
    if (recent.length >= 5) return c.json({ error: 'Too many failed logins; wait a minute' }, 429);
    const u = await accounts.byPassword(user, pass);
    if (!u) {
      failures.set(bucket, [...recent, Date.now()]);
      if (failures.size > 10_000) failures.clear();
      deps.log.warn(`failed login for "${printable(user)}" from ${addr}`);
      return c.json({ error: 'Wrong user name or password' }, 403);
    }
    failures.delete(bucket);
    const s = sessions.create(u.name, u.roles, true);
    setCookie(c, SESSION_COOKIE, s.id, { httpOnly: true, sameSite: 'Lax', path: '/', ...(parseBool(b['remember']) ? { maxAge: 30 * 24 * 3600 } : {}) });
    setCookie(c, 'gantry_csrf', s.csrf, { sameSite: 'Lax', path: '/' });
    return c.json({ ...userRecord(u.name, u.roles, s.id, 'password'), csrf: s.csrf });
  });

  app.post('/api/logout', (c) => {
    const id = c.get('sessionId');
    if (id) sessions.end(id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    deleteCookie(c, 'gantry_csrf', { path: '/' });
    return c.body(null, 204);
  });

  app.get('/api/currentuser', (c) => {
    const id: Identity | null = c.get('identity');
    if (!id) return c.json({ name: null, permissions: [], groups: ['guests'] });
    return c.json({ name: id.name, permissions: permissionsOf(id.roles), groups: groupsOf(id.roles) });
  });

  // First run: the first admin account. Without a key only on a fresh install whose operator set none (see
  // Accounts.setupOpen); otherwise the admin key may still create it (a headless install started with --api-key).
  // Only under Gantry's own host names, so a DNS-rebinding page elsewhere cannot claim the printer.
  const hostAllowed = (c: Context) => isAllowedHost(c.req.header('host'), deps.settings.data.server.allowedHosts);
  app.get('/api/gantry/setup', (c) =>
    c.json({ needed: accounts.data.users.length === 0, keyRequired: !accounts.setupOpen(), hostAllowed: hostAllowed(c) }),
  );
  let settingUp = false; // two setups at once must not both create an admin
  app.post('/api/gantry/setup', async (c) => {
    if (!hostAllowed(c)) {
      throw new ServiceError(403, `Setup answers only at this printer's own address (an IP address, ${hostname()}, *.local); add other names in settings server.allowedHosts`);
    }
    const b = await readJsonObject(c);
    if (typeof b['name'] !== 'string' || typeof b['password'] !== 'string') throw badRequest('Send {"name", "password"}');
    // checked after the last await before the account is made, so a second setup racing this one sees the flag
    if (accounts.data.users.length > 0 || settingUp) throw new ServiceError(403, 'Gantry is already set up; log in instead');
    const caller = c.get('identity');
    if (!accounts.setupOpen() && !caller?.roles.includes('admin')) {
      throw new ServiceError(403, 'First-run setup needs the admin API key here (it was set with --api-key, or has been used): send it as X-Api-Key');
    }
    settingUp = true;
    try {
      const u = await accounts.addUser(b['name'], b['password'], ['admin']);
      const apiKey = await accounts.issueKey(u.name, null);
      const s = sessions.create(u.name, u.roles, true);
      setCookie(c, SESSION_COOKIE, s.id, { httpOnly: true, sameSite: 'Lax', path: '/' });
      setCookie(c, 'gantry_csrf', s.csrf, { sameSite: 'Lax', path: '/' });
      deps.log.info(`first-run setup: created the admin account ${printable(u.name)} (from ${remote(c)})`);
      return c.json({ name: u.name, apiKey, csrf: s.csrf }, 201);
    } finally {
      settingUp = false;
    }
  });

  app.get('/api/gantry/users', (c) => c.json({ users: accounts.data.users.map((u) => ({ name: u.name, roles: u.roles, active: u.active })) }));
  app.post('/api/gantry/users', async (c) => {
    const b = await readJsonObject(c);
    const roles = b['roles'] ?? ['user'];
    if (typeof b['name'] !== 'string' || typeof b['password'] !== 'string') throw badRequest('Send {"name", "password", "roles"}');
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => ROLES.includes(r as Role))) throw badRequest(`roles must be a list of ${ROLES.join(', ')}`);
    const u = await accounts.addUser(b['name'], b['password'], roles as Role[]);
    return c.json({ name: u.name, roles: u.roles, active: u.active }, 201);
  });
  app.put('/api/gantry/users/:name', async (c) => {
    const name = c.req.param('name');
    const b = await readJsonObject(c);
    const change: { roles?: Role[]; active?: boolean } = {};
    if (b['roles'] !== undefined) {
      const roles = b['roles'];
      if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => ROLES.includes(r as Role))) throw badRequest(`roles must be a list of ${ROLES.join(', ')}`);
      change.roles = roles as Role[];
    }
    if (b['active'] !== undefined) change.active = parseBool(b['active']);
    const u = await accounts.updateUser(name, change);
    // whatever changed, the user's other sessions and sockets end now and sign in again with the new rights
    sessions.endAllOf(name, c.get('sessionId'));
    deps.log.info(`${printable(c.get('user') ?? '?')} changed ${printable(name)}: roles ${u.roles.join(',')}, ${u.active ? 'active' : 'inactive'}`);
    return c.json({ name: u.name, roles: u.roles, active: u.active });
  });
  app.delete('/api/gantry/users/:name', async (c) => {
    await accounts.removeUser(c.req.param('name'));
    sessions.endAllOf(c.req.param('name'));
    return c.body(null, 204);
  });
  app.post('/api/gantry/users/:name/password', async (c) => {
    const b = await readJsonObject(c);
    if (typeof b['password'] !== 'string') throw badRequest('Send {"password"}');
    const name = c.req.param('name');
    await accounts.setPassword(name, b['password']);
    sessions.endAllOf(name, c.get('sessionId'));
    return c.body(null, 204);
  });
  // everyone changes their own password, proving the current one (a stolen session alone cannot)
  app.post('/api/gantry/password', async (c) => {
    const id = c.get('identity')!;
    const b = await readJsonObject(c);
    if (typeof b['current'] !== 'string' || typeof b['password'] !== 'string') throw badRequest('Send {"current", "password"}');
    if (!accounts.user(id.name)) throw new ServiceError(400, `${id.name} is the built-in admin key's identity and has no password; create a user`);
    if (!(await accounts.byPassword(id.name, b['current']))) throw new ServiceError(403, 'The current password is wrong');
    await accounts.setPassword(id.name, b['password']);
    sessions.endAllOf(id.name, c.get('sessionId'));
    return c.body(null, 204);
  });

  // keys: everyone sees and manages their own; admins see all
  app.get('/api/gantry/keys', (c) => {
    const id = c.get('identity')!;
    const admin = id.roles.includes('admin');
    const keys = accounts.data.keys.filter((k) => admin || k.user === id.name);
    // a key is shown in full only to its owner
    return c.json({ keys: keys.map((k) => ({ user: k.user, app: k.app, created: k.created, key: k.user === id.name ? k.key : `${k.key.slice(0, 4)}…` })) });
  });
  app.post('/api/gantry/keys', async (c) => {
    const id = c.get('identity')!;
    const b = await readJsonObject(c);
    const appName = typeof b['app'] === 'string' ? b['app'].slice(0, 100) : null;
    return c.json({ key: await accounts.issueKey(id.name, appName) }, 201);
  });
  app.delete('/api/gantry/keys', async (c) => {
    const id = c.get('identity')!;
    const b = await readJsonObject(c);
    const key = b['key'];
    if (typeof key !== 'string') throw badRequest('Send {"key"}');
    const rec = accounts.data.keys.find((k) => k.key === key);
    if (!rec || (rec.user !== id.name && !id.roles.includes('admin'))) throw new ServiceError(404, 'No such key');
    await accounts.revokeKey(key);
    sessions.endByKey(key); // push sockets opened with it close too
    return c.body(null, 204);
  });

  return app;
}
