// SockJS as OctoPrint serves it at /sockjs, for OctoPrint's own clients: its JavaScript client
// (`OctoPrint.socket.connect()`, on sockjs-client) and its Python `SocketClient` (SockJS framing over a websocket at
// /sockjs/<server>/<session>/websocket). The part of the protocol they use: /sockjs/info, the websocket transport,
// and the xhr-streaming and xhr-polling fallbacks with xhr_send. Frames: `o` open, `h` heartbeat, `a[…]` messages,
// `c[code,"reason"]` close. As OctoPrint (sockjs-tornado) does, each message in an `a` frame is the JSON object
// itself (`a[{"current":{…}}]`), not a string holding it: OctoPrint's clients read a message's data as the object.
//
// Not the `sockjs` npm package: it frames every message as a string (`a["{\"current\":…}"]`, which OctoPrint's
// clients would walk character by character), buffers xhr_send bodies and session queues without a bound, and takes
// over the server's request and upgrade listeners with a second WebSocket stack (faye-websocket) beside ws.
//
// Loaded on the first /sockjs request (push-server.ts). Auth, messages, throttling and backpressure are the push
// server's: a session here is only a PushConnection, with its queue and its socket counted in bufferedAmount.
import { randomInt } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { parseJsonSafe } from '../store/safe-json.js';
import { type ConnectionHooks, type PushConnection, SOCKJS_MAX_MESSAGE, SOCKJS_PREFIX } from './push-server.js';

export type Accept = (conn: PushConnection, req: IncomingMessage) => ConnectionHooks;

/** /sockjs/<server>/<session>/<transport>: ids without dots, as the protocol says */
const SESSION_PATH = /^\/sockjs\/([^/.]{1,64})\/([^/.]{1,128})\/([a-z_]+)\/?$/;
/** an XHR session with no request attached this long is over (SockJS's disconnect_delay) */
const DISCONNECT_DELAY_MS = 5_000;
/** an xhr-streaming response ends after this many bytes and the client opens the next (SockJS's response_limit) */
const STREAM_LIMIT = 128 * 1024;
/** XHR sessions at once: each is a push client */
const MAX_SESSIONS = 200;
/** a closing connection with more than this unsent is cut, not sent a polite close frame behind it */
const GRACEFUL_MAX = 64 * 1024;
/** how long a closing websocket waits for the peer's close frame */
const CLOSE_WAIT_MS = 2_000;
/** xhr-streaming starts with 2 KB, so browsers hand the stream to the page at once */
const PRELUDE = `${'h'.repeat(2048)}\n`;
const GO_AWAY = closeFrame(3000, 'Go away!');
const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
const FRAMES = 'application/javascript; charset=UTF-8';
const TEXT = 'text/plain; charset=UTF-8';
const OPEN = 1; // WebSocket.OPEN

export class SockJsEndpoint {
  private readonly sessions = new Map<string, XhrSession>();

  constructor(private readonly accept: Accept) {}

  /** An HTTP request under /sockjs (`path` normalised, without the query). */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): void {
    const method = req.method ?? 'GET';
    // only xhr_send reads a body: any other request that carries one closes its connection after the answer,
    // rather than have it read and thrown away
    if (hasBody(req) && !path.endsWith('/xhr_send') && !path.endsWith('/xhr_send/')) res.setHeader('Connection', 'close');
    if (path === SOCKJS_PREFIX || path === `${SOCKJS_PREFIX}/`) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      res.writeHead(200, { 'Content-Type': TEXT }).end('Welcome to SockJS!\n');
      return;
    }
    if (path === `${SOCKJS_PREFIX}/info` || path === `${SOCKJS_PREFIX}/info/`) return this.info(req, res);
    if (path === `${SOCKJS_PREFIX}/websocket` || path === `${SOCKJS_PREFIX}/websocket/`) return cannotUpgrade(res);
    const m = SESSION_PATH.exec(path);
    const id = m?.[2];
    const transport = m?.[3];
    if (id === undefined || transport === undefined) return jsonError(res, 404, `Not found: ${method} ${path}`);
    if (transport === 'websocket') return cannotUpgrade(res);
    if (transport !== 'xhr' && transport !== 'xhr_streaming' && transport !== 'xhr_send') return jsonError(res, 404, `Not found: ${method} ${path}`);
    if (method === 'OPTIONS') return preflight(req, res, 'OPTIONS, POST');
    if (method !== 'POST') return methodNotAllowed(res, 'OPTIONS, POST');
    if (transport === 'xhr_send') this.xhrSend(req, res, id).catch(() => res.destroy());
    else this.receive(req, res, id, transport === 'xhr_streaming');
  }

  /** The websocket transport: `o`, then one `a[…]` frame per message; the client sends JSON arrays of strings. */
  websocket(ws: WebSocket, req: IncomingMessage): void {
    const conn: PushConnection = {
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      get open() {
        return ws.readyState === OPEN;
      },
      send: (message) => ws.send(`a[${message}]`),
      ping: () => {
        ws.send('h');
        ws.ping();
      },
      terminate: () => {
        if (ws.readyState !== OPEN || ws.bufferedAmount > GRACEFUL_MAX) return ws.terminate();
        ws.send(GO_AWAY);
        ws.close(3000, 'Go away!');
        setTimeout(() => ws.terminate(), CLOSE_WAIT_MS).unref(); // a peer that never answers the close is cut
      },
    };
    ws.send('o');
    const hooks = this.accept(conn, req);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      for (const text of clientMessages(data.toString())) hooks.message(text);
    });
    ws.on('pong', () => hooks.alive());
    ws.on('close', () => hooks.closed());
    ws.on('error', () => hooks.closed());
    ws.resume();
  }

  /** Ends every session (Gantry is stopping). */
  close(): void {
    for (const s of this.sessions.values()) s.close(false);
    for (const s of this.sessions.values()) s.forgetNow();
    this.sessions.clear();
  }

  forget(s: XhrSession): void {
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
  }

  private info(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'OPTIONS') return preflight(req, res, 'OPTIONS, GET');
    if (req.method !== 'GET') return methodNotAllowed(res, 'OPTIONS, GET');
    res.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8', 'Cache-Control': NO_CACHE, ...cors(req) });
    res.end(JSON.stringify({ websocket: true, cookie_needed: false, origins: ['*:*'], entropy: randomInt(2 ** 31) }));
  }

  /** xhr (one frame per request) and xhr_streaming (frames until STREAM_LIMIT): the first request opens the session. */
  private receive(req: IncomingMessage, res: ServerResponse, id: string, streaming: boolean): void {
    let s = this.sessions.get(id);
    // a session answers only the origin and address that opened it: another page cannot read or drive it
    if (s && !s.owns(req)) return jsonError(res, 404, 'No such session');
    if (!s && this.sessions.size >= MAX_SESSIONS) return jsonError(res, 503, 'Too many SockJS sessions');
    res.writeHead(200, { 'Content-Type': FRAMES, 'Cache-Control': NO_CACHE, ...cors(req) });
    if (s) {
      s.attach(res, streaming);
      return;
    }
    s = new XhrSession(id, req, this);
    this.sessions.set(id, s);
    s.start(res, streaming);
    s.hooks = this.accept(s, req);
  }

  /** xhr_send: a JSON array of messages, bounded like every body nobody has to sign in to send. */
  private async xhrSend(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s || !s.open || !s.owns(req)) return jsonError(res, 404, 'No such session', true);
    const body = await readBounded(req, SOCKJS_MAX_MESSAGE);
    if (body === undefined) return jsonError(res, 413, `Request body larger than ${SOCKJS_MAX_MESSAGE / 1024} KB`, true);
    const head = { 'Content-Type': TEXT, 'Cache-Control': NO_CACHE, ...cors(req) };
    if (body === '') return void res.writeHead(500, head).end('Payload expected.');
    let list: unknown;
    try {
      list = parseJsonSafe(body);
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list)) return void res.writeHead(500, head).end('Broken JSON encoding.');
    for (const m of list) {
      const text = messageText(m);
      if (text !== undefined && s.open) s.hooks?.message(text);
    }
    res.writeHead(204, head).end();
  }
}

/** One XHR session: the messages wait in its queue for the next receiving request (one at a time). */
class XhrSession implements PushConnection {
  hooks: ConnectionHooks | undefined;
  private queue: string[] = [];
  private queued = 0;
  private receiver: { res: ServerResponse; streaming: boolean; written: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly origin: string | undefined;
  private readonly address: string | undefined;

  constructor(
    readonly id: string,
    req: IncomingMessage,
    private readonly endpoint: SockJsEndpoint,
  ) {
    this.origin = req.headers.origin;
    this.address = req.socket.remoteAddress;
  }

  owns(req: IncomingMessage): boolean {
    return req.headers.origin === this.origin && req.socket.remoteAddress === this.address;
  }

  get bufferedAmount(): number {
    return this.queued + (this.receiver?.res.writableLength ?? 0);
  }

  get open(): boolean {
    return !this.closed;
  }

  send(message: string): void {
    if (this.closed) return;
    this.queue.push(message);
    this.queued += message.length;
    this.flush();
  }

  /** the heartbeat: a held poll is answered `h`, a stream gets one; between polls the session lives by its timer */
  ping(): void {
    if (this.closed) return;
    if (this.receiver) this.write('h');
    this.hooks?.alive();
  }

  terminate(): void {
    this.close((this.receiver?.res.writableLength ?? 0) > GRACEFUL_MAX);
  }

  start(res: ServerResponse, streaming: boolean): void {
    this.attach(res, streaming);
    this.write('o');
  }

  attach(res: ServerResponse, streaming: boolean): void {
    if (this.closed) return void res.end(`${GO_AWAY}\n`);
    if (this.receiver) return void res.end(`${closeFrame(2010, 'Another connection still open')}\n`);
    clearTimeout(this.timer);
    this.receiver = { res, streaming, written: 0 };
    res.once('close', () => {
      if (this.receiver?.res === res) this.detach();
    });
    if (streaming) res.write(PRELUDE);
    this.flush();
  }

  /**
   * Ends the session. `abrupt`: the client is not reading, its request is cut; else it is told `c[3000,…]`, and
   * the session stays a little while so that its next poll is told too.
   */
  close(abrupt: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.queue = [];
    this.queued = 0;
    const r = this.receiver;
    this.receiver = undefined;
    if (r && abrupt) r.res.destroy();
    else if (r) r.res.end(`${GO_AWAY}\n`);
    this.hooks?.closed();
    this.timer = setTimeout(() => this.endpoint.forget(this), DISCONNECT_DELAY_MS).unref();
  }

  forgetNow(): void {
    clearTimeout(this.timer);
  }

  private flush(): void {
    if (!this.receiver || this.queue.length === 0) return;
    const frame = `a[${this.queue.join(',')}]`;
    this.queue = [];
    this.queued = 0;
    this.write(frame);
  }

  private write(frame: string): void {
    const r = this.receiver!;
    if (!r.streaming) {
      this.detach();
      r.res.end(`${frame}\n`);
      return;
    }
    r.res.write(`${frame}\n`);
    r.written += frame.length + 1;
    if (r.written >= STREAM_LIMIT) {
      this.detach();
      r.res.end();
    }
  }

  /** no request attached: unless one comes within the delay, the client has gone */
  private detach(): void {
    this.receiver = undefined;
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.close(false);
      this.forgetNow();
      this.endpoint.forget(this);
    }, DISCONNECT_DELAY_MS).unref();
  }
}

function closeFrame(code: number, reason: string): string {
  return `c${JSON.stringify([code, reason])}`;
}

/**
 * A websocket frame from a SockJS client: a JSON array of strings, each one message (or one string). A client that
 * sends the message objects themselves, unquoted, is understood too.
 */
function clientMessages(text: string): string[] {
  if (text === '') return [];
  let v: unknown;
  try {
    v = parseJsonSafe(text);
  } catch {
    return []; // garbage is ignored, as on the raw socket
  }
  return Array.isArray(v) ? v.map(messageText).filter((m) => m !== undefined) : [messageText(v)].filter((m) => m !== undefined);
}

function messageText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? JSON.stringify(v) : undefined;
}

/**
 * CORS as sockjs-tornado answers it: the origin reflected, with credentials. Safe here because nothing under /sockjs
 * acts on a cookie from another origin (push-server.ts signs in by cookie only from the page's own origin): a page
 * elsewhere gets only what its own `auth` message earns.
 */
function cors(req: IncomingMessage): OutgoingHttpHeaders {
  const origin = req.headers.origin;
  return origin ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' } : {};
}

function preflight(req: IncomingMessage, res: ServerResponse, methods: string): void {
  const asked = req.headers['access-control-request-headers'];
  res.writeHead(204, {
    ...cors(req),
    'Access-Control-Allow-Methods': methods,
    ...(asked ? { 'Access-Control-Allow-Headers': asked } : {}),
    'Access-Control-Max-Age': '31536000',
    'Cache-Control': 'max-age=31536000, public',
    Allow: methods,
  });
  res.end();
}

function cannotUpgrade(res: ServerResponse): void {
  res.writeHead(400, { 'Content-Type': TEXT }).end('Can "Upgrade" only to "WebSocket".');
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.writeHead(405, { 'Content-Type': 'application/json', Allow: allow }).end(JSON.stringify({ error: 'Method not allowed' }));
}

/** `close`: the request's body was not read, so the connection is not reused */
function jsonError(res: ServerResponse, status: number, message: string, close = false): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...(close ? { Connection: 'close' } : {}) }).end(JSON.stringify({ error: message }));
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** The body as text, or undefined when it is larger than `max` (reading stops there). */
function readBounded(req: IncomingMessage, max: number): Promise<string | undefined> {
  if (Number(req.headers['content-length']) > max) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => resolve(undefined));
  });
}
