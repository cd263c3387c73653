// The push socket as OctoPrint's own JavaScript client uses it: sockjs-client at <base>/sockjs, each message's data
// taken apart by key (as OctoPrint.socket does: `_.each(msg.data, (data, key) => …)`), every message kept. And the
// SockJS framing spoken by hand, over XHR or a websocket, where a test needs headers of its choosing.
import { type ClientRequest, request } from 'node:http';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { type Msg, WebSocket } from './push-client.js';

interface SockJsSocket {
  readonly readyState: number;
  readonly transport?: string;
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
type SockJsCtor = new (url: string, reserved?: unknown, options?: { transports?: string[]; timeout?: number }) => SockJsSocket;
const SockJS = createRequire(import.meta.url)('sockjs-client') as SockJsCtor;

export class SockJsClient {
  readonly messages: { at: number; msg: Msg }[] = [];
  /** `typeof` each message's data: OctoPrint's clients need the object itself */
  readonly dataTypes = new Set<string>();
  closeEvent: { code: number; reason: string } | undefined;
  readonly sock: SockJsSocket;
  private readonly ready: Promise<void>;

  constructor(base: string, transports?: string[]) {
    this.sock = new SockJS(`${base}/sockjs`, undefined, transports ? { transports } : {});
    this.ready = new Promise((resolve, reject) => {
      this.sock.onopen = () => resolve();
      this.sock.onclose = (e) => {
        this.closeEvent = { code: e.code, reason: e.reason };
        reject(new Error(`closed before opening: ${e.code} ${e.reason}`));
      };
    });
    this.ready.catch(() => undefined);
    this.sock.onmessage = (e) => {
      this.dataTypes.add(typeof e.data);
      if (typeof e.data !== 'object' || e.data === null) return;
      for (const [type, payload] of Object.entries(e.data)) this.messages.push({ at: Date.now(), msg: { [type]: payload as Record<string, unknown> } });
    };
  }
  opened(): Promise<void> {
    return this.ready;
  }
  get transport(): string | undefined {
    return this.sock.transport;
  }
  of(type: string): { at: number; msg: Msg }[] {
    return this.messages.filter((m) => type in m.msg);
  }
  events(): string[] {
    return this.of('event').map((m) => (m.msg['event'] as { type: string }).type);
  }
  send(obj: unknown): void {
    this.sock.send(JSON.stringify(obj));
  }
  close(): void {
    this.sock.close();
  }
}

/** SockJS frames, parsed: messages out of `a[…]`, the rest kept as they came. */
export class Frames {
  readonly frames: string[] = [];
  readonly messages: Msg[] = [];
  add(frame: string): void {
    if (frame === '') return;
    if (/^h+$/.test(frame)) {
      this.frames.push('h');
      return;
    }
    this.frames.push(frame);
    if (frame[0] === 'a') for (const m of JSON.parse(frame.slice(1)) as Msg[]) this.messages.push(m);
  }
  of(type: string): Msg[] {
    return this.messages.filter((m) => type in m);
  }
  get closeFrame(): string | undefined {
    return this.frames.find((f) => f[0] === 'c');
  }
}

export const sessionPath = (id: string = randomUUID(), transport = 'xhr_streaming') => `/sockjs/000/${id}/${transport}`;

/** An xhr-streaming receiver by hand: any headers (Origin, Cookie), frames parsed as they arrive. */
export class XhrStream extends Frames {
  readonly req: ClientRequest;
  status = 0;
  ended = false;
  constructor(base: string, readonly id: string = randomUUID(), headers: Record<string, string> = {}) {
    super();
    const u = new URL(base);
    let rest = '';
    this.req = request({ host: u.hostname, port: u.port, method: 'POST', path: sessionPath(id), headers }, (res) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const lines = (rest + d).split('\n');
        rest = lines.pop()!;
        for (const l of lines) this.add(l);
      });
      res.on('end', () => (this.ended = true));
      res.on('error', () => (this.ended = true));
    });
    this.req.on('error', () => (this.ended = true));
    this.req.end();
  }
  /** posts messages to this session, SockJS-framed (a JSON array of strings) */
  send(base: string, objs: unknown[], headers: Record<string, string> = {}): Promise<number> {
    return xhrSend(base, this.id, objs, headers);
  }
  close(): void {
    this.req.destroy();
  }
}

export function xhrSend(base: string, id: string, objs: unknown[], headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: 'POST', path: sessionPath(id, 'xhr_send'), headers: { 'Content-Type': 'text/plain', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(objs.map((o) => JSON.stringify(o))));
  });
}

/** SockJS's websocket transport by hand (OctoPrint's Python SocketClient's way): /sockjs/<server>/<session>/websocket. */
export class SockJsWebSocket extends Frames {
  readonly ws: InstanceType<typeof WebSocket>;
  constructor(base: string, headers: Record<string, string> = {}) {
    super();
    this.ws = new WebSocket(base.replace(/^http/, 'ws') + sessionPath(randomUUID(), 'websocket'), { headers });
    this.ws.on('message', (d) => this.add(d.toString()));
  }
  send(obj: unknown): void {
    this.ws.send(JSON.stringify([JSON.stringify(obj)]));
  }
  close(): void {
    this.ws.terminate();
  }
}
