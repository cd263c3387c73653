// The web page: files from public/ served with ETags and the build's brotli or gzip copies (make build writes
// them: see precompress.ts), plus the security headers the page relies on.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const PUBLIC_DIR = join(REPO, 'public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

// the page's own code only: no inline script, no other origin; the camera and videos come from this server
const CSP = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Cached {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Buffer;
  /** the build's .br / .gz copies, when they are at least as new as the file */
  br?: Buffer;
  gzip?: Buffer;
}

export function staticRoutes(root = PUBLIC_DIR): Hono {
  const app = new Hono();
  const cache = new Map<string, Cached>();

  const load = async (abs: string): Promise<Cached | undefined> => {
    const s = await stat(abs).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    const hit = cache.get(abs);
    if (hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit;
    const body = await readFile(abs);
    const entry: Cached = { mtimeMs: s.mtimeMs, size: s.size, etag: `"${s.size.toString(36)}-${Math.floor(s.mtimeMs).toString(36)}"`, body };
    const copy = async (ext: string) => {
      const c = await stat(abs + ext).catch(() => undefined);
      return c && c.mtimeMs >= s.mtimeMs ? readFile(abs + ext) : undefined;
    };
    entry.br = await copy('.br');
    // a file edited since the build has no fresh copies: gzip it here (fast, and little memory, unlike brotli)
    entry.gzip = (await copy('.gz')) ?? (body.length > 512 && !abs.endsWith('.png') ? gzipSync(body, { level: 6 }) : undefined);
    cache.set(abs, entry);
    return entry;
  };

  const serve = async (c: Context, rel: string): Promise<Response> => {
    // source maps, TypeScript sources and dotfiles stay private; nothing may climb out of the folder
    const missing = () => c.json({ error: `Not found: GET /${rel}` }, 404);
    if (/^(api|downloads|plugin|webcam|sockjs)(\/|$)/.test(rel)) return missing();
    if (rel.split('/').some((p) => p.startsWith('.')) || rel.startsWith('src/') || rel.endsWith('.ts') || rel.endsWith('.map')) return missing();
    if (/\.(br|gz)$/.test(rel)) return missing();
    const abs = normalize(join(root, rel));
    if (!abs.startsWith(root + sep)) return missing();
    const type = TYPES[extname(abs)];
    const f = type ? await load(abs) : undefined;
    if (!f || !type) return missing();
    const headers: Record<string, string> = {
      'Content-Type': type,
      ETag: f.etag,
      // always revalidated: an update of Gantry shows at once, and a 304 is cheap on the LAN
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      Vary: 'Accept-Encoding',
    };
    if (type.startsWith('text/html')) {
      headers['Content-Security-Policy'] = CSP;
      headers['X-Frame-Options'] = 'DENY';
    }
    if (c.req.header('if-none-match') === f.etag) return c.body(null, 304, headers);
    const accept = c.req.header('accept-encoding') ?? '';
    let body = f.body;
    if (f.br && /\bbr\b/.test(accept)) {
      body = f.br;
      headers['Content-Encoding'] = 'br';
    } else if (f.gzip && /\bgzip\b/.test(accept)) {
      body = f.gzip;
      headers['Content-Encoding'] = 'gzip';
    }
    return c.body(new Uint8Array(body), 200, headers);
  };

  app.get('/', (c) => serve(c, 'index.html'));
  app.get('/*', async (c): Promise<Response> => {
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(c.req.url).pathname.slice(1));
    } catch {
      return c.json({ error: 'Malformed path' }, 400);
    }
    return serve(c, rel);
  });
  return app;
}
