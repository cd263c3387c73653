// Sends one request exactly as generated: node:http, not fetch, because fetch normalizes the path (`..`,
// `./`), refuses odd methods, and sets its own Host. One keep-alive connection at a time, like a client.
import { Agent, request } from 'node:http';

export interface RawRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer | undefined;
  chunked: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const MAX_BODY = 2 * 1024 * 1024;

export class Sender {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(
    private readonly port: number,
    private readonly timeoutMs = 15_000,
  ) {}

  async send(req: RawRequest): Promise<RawResponse> {
    try {
      return await this.once(req);
    } catch (err) {
      // the keep-alive race: the server closed the idle connection as this request went out on it, so the
      // request never reached Gantry. Node's documented remedy is to send it again on a new connection.
      if ((err as { reusedSocket?: boolean }).reusedSocket && /ECONNRESET|socket hang up/.test((err as Error).message + String((err as NodeJS.ErrnoException).code))) {
        return this.once(req);
      }
      throw err;
    }
  }

  private once(req: RawRequest): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of req.headers) {
        const prev = headers[k];
        headers[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
      }
      if (req.body !== undefined && req.chunked) headers['Transfer-Encoding'] = 'chunked';
      else if (req.body !== undefined) headers['Content-Length'] = String(req.body.length);
      const r = request({ host: '127.0.0.1', port: this.port, method: req.method, path: req.target, headers, agent: this.agent, setHost: !req.headers.some(([k]) => k.toLowerCase() === 'host') }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          // a stream that never ends (a camera) would grow without bound: keep the start, stop reading
          if (size <= MAX_BODY) chunks.push(d);
          else res.destroy(new Error(`response body over ${MAX_BODY} bytes`));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      r.setTimeout(this.timeoutMs, () => r.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      r.on('error', (err) => reject(Object.assign(err, { reusedSocket: r.reusedSocket })));
      if (req.body !== undefined && req.chunked) {
        // two chunks, so the server sees a body that arrives in pieces
        const mid = Math.floor(req.body.length / 2);
        r.write(req.body.subarray(0, mid));
        r.end(req.body.subarray(mid));
      } else r.end(req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
