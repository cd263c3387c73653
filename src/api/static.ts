// The web page: files from public/ (and uPlot from node_modules) served with ETags and pre-compressed bodies
// (brotli or gzip, made once per file version and kept), plus the security headers the page relies on.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
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

/** Files outside public/ that the page loads. */
const VENDOR: Record<string, string> = {
  'vendor/uplot.js': join(REPO, 'node_modules/uplot/dist/uPlot.iife.min.js'),
  'vendor/uplot.css': join(REPO, 'node_modules/uplot/dist/uPlot.min.css'),
};

// the page's own code only: no inline script, no other origin; the camera and videos come from this server
const CSP = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

interface Cached {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  compressing?: Promise<void>;
}

/** Compresses off the event loop (zlib's thread pool): brotli at its best for the page's text files, and gzip. */
function compress(f: Cached): Promise<void> {
  f.compressing ??= (async () => {
    const [br, gzipped] = await Promise.all([brotli(f.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }), gz(f.body, { level: 9 })]);
    f.br = br;
    f.gzip = gzipped;
  })();
  return f.compressing;
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
    cache.set(abs, entry);
    return entry;
  };

  const serve = async (c: Context, rel: string): Promise<Response> => {
    // source maps, TypeScript sources and dotfiles stay private; nothing may climb out of the folder
    const missing = () => c.json({ error: `Not found: GET /${rel}` }, 404);
    if (/^(api|downloads|plugin|webcam|sockjs)(\/|$)/.test(rel)) return missing();
    if (rel.split('/').some((p) => p.startsWith('.')) || rel.startsWith('src/') || rel.endsWith('.ts') || rel.endsWith('.map')) return missing();
    const abs = VENDOR[rel] ?? normalize(join(root, rel));
    if (!VENDOR[rel] && !abs.startsWith(root + sep)) return missing();
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
    if (f.body.length > 512 && !type.startsWith('image/png')) {
      // normally ready (compressed at start-up); a file changed since is compressed on this request
      await compress(f);
      if (/\bbr\b/.test(accept)) {
        body = f.br!;
        headers['Content-Encoding'] = 'br';
      } else if (/\bgzip\b/.test(accept)) {
        body = f.gzip!;
        headers['Content-Encoding'] = 'gzip';
      }
    }
    return c.body(new Uint8Array(body), 200, headers);
  };

  // compress the page's files in the background at start, so the first visitor does not wait for it
  const warm = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const abs = join(dir, e.name);
      if (e.isDirectory() && e.name !== 'src') await warm(abs);
      else if (e.isFile() && TYPES[extname(e.name)] && !e.name.endsWith('.png')) {
        const f = await load(abs);
        if (f && f.body.length > 512) await compress(f).catch(() => undefined);
      }
    }
  };
  setTimeout(() => void warm(root).then(async () => {
    for (const abs of Object.values(VENDOR)) {
      const f = await load(abs);
      if (f) await compress(f).catch(() => undefined);
    }
  }), 100).unref();

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
