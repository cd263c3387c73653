// A push-socket client as FDM Monster and OctoPod use it: raw WebSocket at /sockjs/websocket, every message kept.
import { createRequire } from 'node:module';
import type { WebSocket as WsSocket } from 'ws';

export const WebSocket = createRequire(import.meta.url)('ws') as typeof WsSocket;

export interface Msg {
  [type: string]: Record<string, unknown>;
}

export class PushClient {
  readonly messages: { at: number; msg: Msg }[] = [];
  readonly ws: WsSocket;
  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + '/sockjs/websocket', { headers });
    this.ws.on('message', (d) => this.messages.push({ at: Date.now(), msg: JSON.parse(d.toString()) as Msg }));
  }
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
  of(type: string): { at: number; msg: Msg }[] {
    return this.messages.filter((m) => type in m.msg);
  }
  events(): string[] {
    return this.of('event').map((m) => (m.msg['event'] as { type: string }).type);
  }
  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }
  close(): void {
    this.ws.terminate();
  }
  /** the socket was closed (by the server, or by close()) */
  get closed(): boolean {
    return this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING;
  }
}
