// Accounts as a test needs them: users of each role, their password logins (cookie, CSRF, session id) and keys,
// and raw HTTP where fetch will not do (a Host header of our choosing, a source address on 127/8, a body that
// streams until the server answers).
import { request } from 'node:http';
import assert from 'node:assert/strict';
import type { GantryRig } from './gantry-rig.js';

export interface Login {
  name: string;
  cookie: string;
  csrf: string;
  session: string;
}

export async function addUser(rig: GantryRig, name: string, password: string, role: 'admin' | 'user' | 'readonly'): Promise<void> {
  const res = await rig.api('/api/gantry/users', { method: 'POST', json: { name, password, roles: [role] } });
  assert.equal(res.status, 201, `creating ${name}: ${await res.text()}`);
}

export async function login(rig: GantryRig, name: string, password: string): Promise<Login> {
  const res = await rig.api('/api/login', { key: null, method: 'POST', json: { user: name, pass: password } });
  assert.equal(res.status, 200, `login ${name}`);
  const body = (await res.json()) as { csrf: string; session: string };
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { name, cookie, csrf: body.csrf, session: body.session };
}

/** A request made with a login session (cookie + CSRF token), as the web page makes it. */
export function asSession(rig: GantryRig, s: Login, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  return rig.api(path, { ...init, key: null, headers: { Cookie: s.cookie, 'X-CSRF-Token': s.csrf, ...(init.headers as Record<string, string> | undefined) } });
}

/** A key of the user's own, made through their session. */
export async function keyOf(rig: GantryRig, s: Login): Promise<string> {
  const res = await asSession(rig, s, '/api/gantry/keys', { method: 'POST', json: { app: 'test' } });
  assert.equal(res.status, 201);
  return ((await res.json()) as { key: string }).key;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request through node:http: any Host header, any local source address on the loopback. */
export function rawRequest(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string }): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers ?? {}, localAddress: opts.localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * POSTs a body of up to `totalBytes` in 64 KB chunks (chunked, or with the full Content-Length declared) and stops
 * sending as soon as the server answers. Resolves with the answer and how much was actually sent.
 */
export function floodBody(url: string, path: string, totalBytes: number, opts: { headers?: Record<string, string>; declareLength?: boolean } = {}): Promise<RawResponse & { sent: number }> {
  const u = new URL(url);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...opts.headers };
    if (opts.declareLength) headers['Content-Length'] = String(totalBytes);
    const req = request({ host: u.hostname, port: u.port, method: 'POST', path, headers }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sent });
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pump = (): void => {
      while (!answered && sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}
