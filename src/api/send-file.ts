// Sends a file from disk straight to the Node response, with single-range requests (resumed downloads, video
// seeking in the browser).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { HttpBindings } from '@hono/node-server';
// tells @hono/node-server that the route wrote to the Node response itself
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { ServiceError } from '../service-error.js';

export async function sendFile<E extends { Bindings: HttpBindings }>(c: Context<E>, abs: string, name: string, contentType = 'application/octet-stream'): Promise<Response> {
  const s = await stat(abs).catch(() => undefined);
  if (!s || !s.isFile()) throw new ServiceError(404, `${name} not found`);
  const res = c.env.outgoing;
  let start = 0;
  let end = s.size - 1;
  let status = 200;
  const range = c.req.header('range');
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (m[1] === '' && m[2] === '')) return c.json({ error: `Unsupported Range: ${range}` }, 416);
    if (m[1] === '') start = Math.max(0, s.size - Number(m[2]));
    else {
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(end, Number(m[2]));
    }
    if (start > end || start >= s.size) {
      res.writeHead(416, { 'Content-Range': `bytes */${s.size}`, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'Range not satisfiable' }));
      return RESPONSE_ALREADY_SENT;
    }
    status = 206;
  }
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Disposition': `attachment; filename="${name.replace(/["\\\r\n]/g, '_')}"`,
    'Content-Length': end - start + 1,
    'Accept-Ranges': 'bytes',
    'Last-Modified': s.mtime.toUTCString(),
  };
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${s.size}`;
  res.writeHead(status, headers);
  // an empty file has no byte to read: createReadStream refuses end -1 (thrown after the headers went out, the
  // connection was left broken)
  if (end < start) {
    res.end();
    return RESPONSE_ALREADY_SENT;
  }
  // the file can go between stat and open (deleted meanwhile): end this response, not the process (an 'error'
  // with no listener is an uncaught exception)
  createReadStream(abs, { start, end })
    .on('error', () => res.destroy())
    .pipe(res);
  return RESPONSE_ALREADY_SENT;
}
