// The push socket (OctoPrint's protocol at /sockjs/websocket, under the base URL of the printer the page shows).
// The page's socket is signed in by its login cookie (Gantry says so in `connected`); otherwise it authenticates
// with a passive login's session, as other OctoPrint clients do. Reconnects with backoff. Everything live about the
// page's printer comes here; only the farm view, about every printer, polls (views/farm.ts says why).

export type PushHandler = (payload: Record<string, unknown>) => void;

export class Push {
  private readonly handlers = new Map<string, Set<PushHandler>>();
  private backoff = 500;
  private closed = true;
  connected = false;
  onStatus: (connected: boolean) => void = () => undefined;

  /** `auth` gives "user:session", or rejects when nobody is logged in (the socket then waits for start());
   * `base` is the printer's base URL ('' for the default printer's, at /) */
  constructor(
    private readonly auth: () => Promise<string>,
    private readonly base = '',
  ) {}

  on(type: string, fn: PushHandler): void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(fn);
  }

  start(): void {
    if (!this.closed) return;
    this.closed = false;
    this.open();
  }

  private open(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${this.base}/sockjs/websocket`;
    const ws = new WebSocket(url);
    ws.onmessage = (e) => {
      let msg: Record<string, Record<string, unknown>>;
      try {
        msg = JSON.parse(String(e.data)) as typeof msg;
      } catch {
        return;
      }
      for (const [type, payload] of Object.entries(msg)) {
        if (type === 'connected' && !payload?.['gantryUser']) void this.authenticate(ws);
        if (type === 'history') {
          this.backoff = 500;
          this.setConnected(true);
        }
        for (const fn of this.handlers.get(type) ?? []) fn(payload ?? {});
      }
    };
    ws.onclose = () => {
      this.setConnected(false);
      if (this.closed) return;
      setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(10_000, this.backoff * 2);
    };
  }

  private async authenticate(ws: WebSocket): Promise<void> {
    try {
      ws.send(JSON.stringify({ auth: await this.auth() }));
    } catch {
      this.closed = true; // nobody logged in: wait for start()
      ws.close();
    }
  }

  private setConnected(c: boolean): void {
    if (c === this.connected) return;
    this.connected = c;
    this.onStatus(c);
  }
}
