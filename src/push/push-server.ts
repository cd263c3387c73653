// OctoPrint's push channel, JSON messages `{"<type>": payload}`, over two transports: a raw WebSocket at
// /sockjs/websocket (no SockJS framing: FDM Monster, OctoPod, OctoDash) and SockJS at /sockjs (OctoPrint's own JS
// and Python clients: ./sockjs.ts, loaded on the first SockJS request). A client gets `connected`, authenticates
// with `{"auth": "user:session"}` (session from a passive /api/login), then `history` and a `current` at most
// twice a second (times its throttle), plus `event`s. A `current` carries the temperatures, terminal lines and
// messages since the client's last one; it is built once per tick for every client that heard the same (all of them
// when they share a throttle);
// a slow client gets the newest `current` when it drains (older ones are dropped), and one that stays stalled or
// falls too far behind is disconnected: no client can slow the printer or the others, or grow memory unbounded.
// Everything here sees a client only as a PushConnection (send, bufferedAmount, ping, terminate): the message
// logic is the same whatever carries it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { parse as parseCookie } from 'hono/utils/cookie';
import type { WebSocket as WsSocket, WebSocketServer } from 'ws';
import { SESSION_COOKIE, type Session, type Sessions } from '../accounts/sessions.js';
import { permissionsOf } from '../accounts/permissions.js';
import { mayDecide } from '../accounts/app-keys.js';
import { parseJsonSafe } from '../store/safe-json.js';
import type { PrinterBus } from '../events.js';
import type { Logger } from '../log.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { FileStorage } from '../files/storage.js';
import { octoState } from '../printer/octoprint-shapes.js';
import { octoJob } from '../octoprint/job.js';
import type { PrinterStatus, StatusSource } from '../status/types.js';
import { changedFields } from '../status/status.js';
import type { Printer } from '../printer/printer.js';
import type { TemperatureSample } from '../printer/temperature-history.js';
import { RingLog } from '../printer/ring-log.js';
import type { SystemHealth } from '../system/health.js';
import { type EventMapState, octoEvent, promptMessage } from './events-map.js';
import { OCTOPRINT_COMPAT_VERSION } from '../octoprint/version.js';
import type { SockJsEndpoint } from './sockjs.js';

// ws is CommonJS: require() it (no CJS export lexer for an ESM import), when the first client connects
let wsModule: { WebSocketServer: typeof WebSocketServer; OPEN: number } | undefined;
const loadWs = () => (wsModule ??= createRequire(import.meta.url)('ws') as { WebSocketServer: typeof WebSocketServer; OPEN: number });
const OPEN = 1; // WebSocket.OPEN

export const PUSH_PATH = '/sockjs/websocket';
export const SOCKJS_PREFIX = '/sockjs';
/** SockJS's websocket transport: /sockjs/<server>/<session>/websocket */
const SOCKJS_WS_PATH = /^\/sockjs\/[^/.]+\/[^/.]+\/websocket\/?$/;
/** a raw client's largest frame */
const RAW_MAX_MESSAGE = 64 * 1024;
/** a SockJS client's largest frame or xhr_send body: its messages are a few dozen bytes, and anyone may send them */
export const SOCKJS_MAX_MESSAGE = 8 * 1024;
const TICK_MS = 500;
/** Above this many unsent bytes a client gets no new `current` until it drains. */
const DROP_BYTES = 64 * 1024;
/** Above this, or stalled this long, it is disconnected. */
const KILL_BYTES = 1024 * 1024;
const STALL_MS = 30_000;
const MAX_LOG_LINES = 300;
/** temperature samples and messages a `current` carries at most (a client throttled to once in 50 s included) */
const MAX_TEMPS = 64;
const MAX_MESSAGES = 50;

export interface PushDeps {
  printer: Printer;
  status: StatusSource;
  jobs: JobRunner;
  storage: FileStorage;
  sessions: Sessions;
  bus: PrinterBus;
  log: Logger;
  version: string;
  /** the timelapse config for the `timelapse` message (null when there is no camera) */
  timelapseConfig: () => Record<string, unknown> | null;
  /** the Pi's health, pushed as a plugin message (OctoPrint clients ignore plugins they do not know) */
  systemHealth?: () => Promise<SystemHealth>;
}

/** How often the health message goes out, and its plugin id (`{"plugin": {"plugin": "gantry_system", "data": …}}`). */
const HEALTH_MS = 30_000;
export const HEALTH_PLUGIN = 'gantry_system';

/** One push client's connection, whatever carries it: a raw WebSocket, or a SockJS session (websocket or XHR). */
export interface PushConnection {
  /** bytes queued for this client and not yet taken by it (the transport's own queue plus its socket's) */
  readonly bufferedAmount: number;
  readonly open: boolean;
  /** one message: the JSON text of `{"<type>": payload}` */
  send(message: string): void;
  /** a liveness probe (and the SockJS heartbeat): the transport calls `alive()` when the peer answers */
  ping(): void;
  /** ends it now, dropping whatever is queued */
  terminate(): void;
}

/** What a transport tells the push server about its connection. */
export interface ConnectionHooks {
  message(text: string): void;
  alive(): void;
  closed(): void;
}

interface Client {
  conn: PushConnection;
  user: string | null;
  /** the login session it authenticated with: when that ends, the socket closes */
  sessionId: string | null;
  throttle: number;
  ticks: number;
  /** a `current` was skipped because the socket was full: send the next one as soon as it drains */
  pendingCurrent: boolean;
  stalledSince: number;
  alive: boolean;
  /** asked for Gantry's status model ({"subscribe": {"plugins": ["gantry_status"]}}): the tick it last got it, -1 never */
  statusTick: number | null;
  /** how many temperature samples, terminal lines and messages there were when this client last got `current`: its
   * next one carries what came since, so a throttled client (or one that skipped a tick) loses none of them */
  seen: { temps: number; logs: number; messages: number };
}

/** Gantry's typed status (src/status/types.ts) as a plugin message: whole at first, then only the fields that changed. */
export const STATUS_PLUGIN = 'gantry_status';

export class PushServer {
  private wss: WebSocketServer | undefined;
  private sockjsWss: WebSocketServer | undefined;
  /** the SockJS endpoint, loaded on the first /sockjs request: most installs never pay for it */
  private sockjs: Promise<SockJsEndpoint> | undefined;
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly healthTimer: NodeJS.Timeout;
  private readonly offs: (() => void)[] = [];
  private readonly eventState: EventMapState = { lastZ: null };
  /** temperature samples and printer messages as they came; each client reads what came since its `seen` */
  private readonly temps = new RingLog<TemperatureSample>(MAX_TEMPS);
  private readonly messages = new RingLog<string>(MAX_MESSAGES);
  private tickNo = 0;
  /** the status model as of tick `statusAt`, and what goes out for it */
  private statusAt = -1;
  private lastStatus: PrinterStatus | undefined;
  private statusDelta = '';
  private statusFull: string | undefined;
  /** messages sent, for tests and the bench */
  stats = { currents: 0, events: 0, dropped: 0, disconnected: 0 };

  constructor(private readonly d: PushDeps) {
    const bus = d.bus;
    this.offs.push(
      bus.on('printer.temperature', (e) => this.temps.push(e.sample)),
      bus.on('printer.message', (e) => this.messages.push(e.text)),
    );
    for (const name of ['printer.state', 'printer.connected', 'printer.disconnected', 'printer.error', 'printer.reset', 'job.selected', 'job.deselected', 'job.started', 'job.ended', 'job.paused', 'job.resumed', 'files.changed', 'files.uploaded', 'files.analysed', 'settings.updated', 'printer.position', 'printer.prompt', 'queue.changed', 'timelapse.frame', 'timelapse.render', 'timelapse.changed', 'farm.changed', 'printers.found', 'printers.changed'] as const) {
      this.offs.push(
        bus.on(name, (payload: unknown) => {
          for (const msg of octoEvent(name, payload, this.d, this.eventState)) this.broadcast(JSON.stringify(msg));
        }),
      );
    }
    this.offs.push(bus.on('settings.updated', () => this.broadcast(JSON.stringify({ timelapse: this.d.timelapseConfig() }))));
    // app-key requests reach only those who may decide them (the named user, or an admin), never readonly clients
    for (const name of ['appkeys.request', 'appkeys.decided'] as const) {
      this.offs.push(
        bus.on(name, (payload) => {
          const may = (c: Client) => {
            const roles = c.sessionId ? this.d.sessions.get(c.sessionId)?.roles : undefined;
            return roles !== undefined && c.user !== null && mayDecide({ name: c.user, roles }, payload);
          };
          for (const msg of octoEvent(name, payload, this.d, this.eventState)) this.broadcast(JSON.stringify(msg), may);
        }),
      );
    }
    this.offs.push(
      bus.on('sessions.ended', ({ ids }) => {
        const ended = new Set(ids);
        for (const c of this.clients) if (c.sessionId !== null && ended.has(c.sessionId)) this.drop(c, 'its session ended');
      }),
    );
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.pingTimer = setInterval(() => this.ping(), 15_000);
    this.healthTimer = setInterval(() => void this.pushHealth(), HEALTH_MS);
  }

  /** The health message to every signed-in client allowed to see status, or to one that just signed in. Read only
   * when someone is there to get it. */
  private async pushHealth(only?: Client): Promise<void> {
    const read = this.d.systemHealth;
    const mayStatus = (c: Client) => {
      const roles = c.sessionId ? this.d.sessions.get(c.sessionId)?.roles : undefined;
      return roles !== undefined && permissionsOf(roles).includes('STATUS') && (only === undefined || c === only);
    };
    if (!read || ![...this.clients].some((c) => c.user !== null && mayStatus(c))) return;
    let health: SystemHealth;
    try {
      health = await read();
    } catch (err) {
      this.d.log.warn(`push: system health not read: ${(err as Error).message}`);
      return;
    }
    this.broadcast(JSON.stringify({ plugin: { plugin: HEALTH_PLUGIN, data: health } }), mayStatus);
  }

  /** A WebSocket upgrade for `path` (the request's path, under this printer's base): taken when it is one of
   * ours; false leaves the socket to the caller. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean {
    if (path === PUSH_PATH || path === `${PUSH_PATH}/`) {
      this.wss ??= new (loadWs().WebSocketServer)({ noServer: true, maxPayload: RAW_MAX_MESSAGE, perMessageDeflate: false, clientTracking: false });
      this.wss.handleUpgrade(req, socket, head, (ws: WsSocket) => this.acceptRaw(ws, req));
      return true;
    }
    if (!SOCKJS_WS_PATH.test(path)) return false;
    this.sockjsWss ??= new (loadWs().WebSocketServer)({ noServer: true, maxPayload: SOCKJS_MAX_MESSAGE, perMessageDeflate: false, clientTracking: false });
    this.sockjsWss.handleUpgrade(req, socket, head, (ws: WsSocket) => {
      ws.pause(); // nothing is read until the SockJS module has it
      ws.on('error', () => ws.terminate());
      this.loadSockJs().then(
        (endpoint) => endpoint.websocket(ws, req),
        (err: Error) => {
          this.d.log.error(`push: SockJS not loaded: ${err.message}`);
          ws.terminate();
        },
      );
    });
    return true;
  }

  /** SockJS's HTTP side (/sockjs/info, the XHR transports), answered before the API sees the request: true when
   * `path` is SockJS's. */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== SOCKJS_PREFIX && !path.startsWith(`${SOCKJS_PREFIX}/`)) return false;
    this.loadSockJs().then(
      (endpoint) => endpoint.handleRequest(req, res, path),
      (err: Error) => {
        this.d.log.error(`push: SockJS not loaded: ${err.message}`);
        res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"Internal error; see the Gantry log"}');
      },
    );
    return true;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.pingTimer);
    clearInterval(this.healthTimer);
    for (const off of this.offs) off();
    for (const c of this.clients) c.conn.terminate();
    this.clients.clear();
    await this.sockjs?.then((endpoint) => endpoint.close(), () => undefined);
    for (const wss of [this.wss, this.sockjsWss]) if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  private loadSockJs(): Promise<SockJsEndpoint> {
    return (this.sockjs ??= import('./sockjs.js').then((m) => new m.SockJsEndpoint((conn, req) => this.accept(conn, this.cookieSession(req)))));
  }

  // ---- clients -------------------------------------------------------------------------------------------

  /**
   * The web page's own socket carries the login cookie: it is signed in from the first frame, without the
   * passive-login round trip. Only from the page's own origin (a page elsewhere must not ride on the cookie).
   */
  private cookieSession(req: IncomingMessage): Session | undefined {
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (!origin || !host || origin.replace(/^https?:\/\//, '') !== host) return undefined;
    const s = this.d.sessions.get(parseCookie(req.headers.cookie ?? '', SESSION_COOKIE)[SESSION_COOKIE]);
    return s?.cookie && permissionsOf(s.roles).includes('STATUS') ? s : undefined;
  }

  /** the raw WebSocket: one frame is one message */
  private acceptRaw(ws: WsSocket, req: IncomingMessage): void {
    const hooks = this.accept(
      {
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        get open() {
          return ws.readyState === OPEN;
        },
        send: (message) => ws.send(message),
        ping: () => ws.ping(),
        terminate: () => ws.terminate(),
      },
      this.cookieSession(req),
    );
    ws.on('message', (data, isBinary) => {
      if (!isBinary) hooks.message(data.toString());
    });
    ws.on('pong', () => hooks.alive());
    ws.on('close', () => hooks.closed());
    ws.on('error', () => hooks.closed());
  }

  /** A new client on any transport: `connected` goes out at once (and `history`, when the login cookie signed it in). */
  private accept(conn: PushConnection, session: Session | undefined): ConnectionHooks {
    const client: Client = { conn, user: null, sessionId: null, throttle: 1, ticks: 0, pendingCurrent: false, stalledSince: 0, alive: true, statusTick: null, seen: this.heads() };
    this.clients.add(client);
    const hooks: ConnectionHooks = {
      message: (text) => {
        if (this.clients.has(client)) this.onMessage(client, text);
      },
      alive: () => (client.alive = true),
      closed: () => this.clients.delete(client),
    };
    this.send(client, JSON.stringify({
      connected: {
        // the bare version, as /api/version's server and OctoPrint's own: clients compare and parse it
        version: OCTOPRINT_COMPAT_VERSION,
        display_version: `${OCTOPRINT_COMPAT_VERSION} (Gantry ${this.d.version})`,
        branch: 'main',
        plugin_hash: 'gantry',
        config_hash: 'gantry',
        debug: false,
        safe_mode: false,
        online: true,
        permissions: [],
        apikey: null,
        // Gantry: who the login cookie signed this socket in as (no auth message needed), else null
        gantryUser: session?.user ?? null,
      },
    }));
    if (session) {
      client.user = session.user;
      client.sessionId = session.id;
      this.sendHistory(client);
    }
    return hooks;
  }

  /** What there is now: a client's `current` carries what comes after. */
  private heads(): Client['seen'] {
    return { temps: this.temps.total, logs: this.d.printer.terminal.total, messages: this.messages.total };
  }

  private sendHistory(client: Client): void {
    client.seen = this.heads(); // the history carries everything up to now
    this.send(client, JSON.stringify({ history: this.historyPayload() }));
    this.send(client, JSON.stringify({ timelapse: this.d.timelapseConfig() }));
    // a page opened while the printer waits for the user sees the question too (OctoPrint re-sends it on connect)
    const prompt = this.d.printer.prompt;
    if (prompt) this.send(client, JSON.stringify(promptMessage(prompt)));
    void this.pushHealth(client);
  }

  private onMessage(client: Client, text: string): void {
    let msg: unknown;
    try {
      msg = parseJsonSafe(text);
    } catch {
      return; // garbage is ignored, as OctoPrint does
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return;
    const m = msg as Record<string, unknown>;
    if (typeof m['auth'] === 'string') {
      const [user, session] = splitAuth(m['auth']);
      const s = user && session ? this.d.sessions.check(user, session) : undefined;
      if (!s || !permissionsOf(s.roles).includes('STATUS')) {
        this.send(client, JSON.stringify({ reauthRequired: { reason: 'stale' } }));
        return;
      }
      client.user = s.user;
      client.sessionId = s.id;
      this.sendHistory(client);
      return;
    }
    if (m['throttle'] !== undefined) {
      const t = Number(m['throttle']);
      if (Number.isInteger(t) && t >= 1 && t <= 100) client.throttle = t;
    }
    // OctoPrint's {"subscribe": {"plugins": […] | true}}: asking for gantry_status turns the status deltas on
    const sub = m['subscribe'];
    if (typeof sub === 'object' && sub !== null && !Array.isArray(sub)) {
      const plugins = (sub as Record<string, unknown>)['plugins'];
      const wants = plugins === true || (Array.isArray(plugins) && plugins.includes(STATUS_PLUGIN));
      client.statusTick = wants ? (client.statusTick ?? -1) : null;
    }
    // {} keep-alives need no answer
  }

  /** Every message goes through here: a client already too far behind is dropped, so no queue grows past KILL_BYTES. */
  private send(client: Client, data: string): boolean {
    const conn = client.conn;
    if (!conn.open) return false;
    if (conn.bufferedAmount > KILL_BYTES) {
      this.drop(client, 'too far behind');
      return false;
    }
    conn.send(data);
    return true;
  }

  private broadcast(data: string, only?: (c: Client) => boolean): void {
    for (const c of this.clients) {
      if (c.user === null || (only && !only(c))) continue;
      if (this.send(c, data)) this.stats.events++;
    }
  }

  private drop(c: Client, why: string): void {
    this.d.log.info(`push: disconnecting a client (${c.user ?? 'anonymous'}): ${why}`);
    this.stats.disconnected++;
    this.clients.delete(c);
    c.conn.terminate();
  }

  // ---- current / history ---------------------------------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    this.announceZ();
    const heads = this.heads();
    const payloads = new Map<string, string>();
    let base: Record<string, unknown> | undefined;
    for (const c of this.clients) {
      if (c.user === null) continue;
      c.ticks++;
      if (c.ticks % c.throttle !== 0 && !c.pendingCurrent) continue;
      const backlog = c.conn.bufferedAmount;
      if (backlog > DROP_BYTES) {
        c.pendingCurrent = true;
        this.stats.dropped++;
        if (!c.stalledSince) c.stalledSince = now;
        if (backlog > KILL_BYTES || now - c.stalledSince > STALL_MS) this.drop(c, backlog > KILL_BYTES ? 'too far behind' : 'stalled');
        continue;
      }
      c.stalledSince = 0;
      c.pendingCurrent = false;
      // clients that last heard the same thing get the same payload: one JSON per tick when all share a throttle
      const key = `${c.seen.temps}/${c.seen.logs}/${c.seen.messages}`;
      let payload = payloads.get(key);
      if (payload === undefined) payloads.set(key, (payload = this.currentPayload(c.seen, (base ??= this.basePayload()))));
      this.send(c, payload);
      c.seen = heads;
      this.stats.currents++;
      if (c.statusTick !== null) this.sendStatus(c);
    }
    this.tickNo++;
  }

  /** One snapshot and one delta per tick, shared: a client that got the last tick's status gets the delta (nothing
   * when nothing changed), any other the whole status. */
  private sendStatus(c: Client): void {
    if (this.statusAt !== this.tickNo) {
      const next = this.d.status.snapshot();
      const changed = changedFields(this.lastStatus, next);
      this.statusDelta = changed.length === 0 ? '' : JSON.stringify({ plugin: { plugin: STATUS_PLUGIN, data: { changed: Object.fromEntries(changed.map((k) => [k, next[k]])) } } });
      this.statusFull = undefined;
      this.lastStatus = next;
      this.statusAt = this.tickNo;
    }
    // -1 is "never got it": on the server's very first tick (tickNo 0) it must not pass for "got the last one"
    if (c.statusTick !== null && c.statusTick >= 0 && c.statusTick === this.tickNo - 1) {
      if (this.statusDelta) this.send(c, this.statusDelta);
    } else {
      this.statusFull ??= JSON.stringify({ plugin: { plugin: STATUS_PLUGIN, data: { status: this.lastStatus } } });
      this.send(c, this.statusFull);
    }
    c.statusTick = this.tickNo;
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.drop(c, 'no pong');
        continue;
      }
      c.alive = false;
      c.conn.ping();
    }
  }

  /** OctoPrint's ZChange as the print's Z moves (its timelapse and automations hear layer changes by it): at most
   * one per tick, from the Z the job has sent, so nothing runs per line for it. */
  private announceZ(): void {
    const z = this.d.status.currentZ();
    if (z === null || z === this.eventState.lastZ) return;
    this.broadcast(JSON.stringify({ event: { type: 'ZChange', payload: { new: z, old: this.eventState.lastZ } } }));
    this.eventState.lastZ = z;
  }

  private basePayload(): Record<string, unknown> {
    const { printer, jobs } = this.d;
    const { job, progress } = this.d.status.job();
    const engine = printer.protocol;
    const sent = engine?.linesSent ?? 0;
    const resent = engine?.resendCount ?? 0;
    const offsets: Record<string, number> = {};
    for (const [k, v] of printer.offsets) offsets[k] = v;
    return {
      state: octoState(printer),
      job: octoJob(job),
      progress,
      currentZ: this.d.status.currentZ(),
      offsets,
      resends: { count: resent, transmitted: sent, ratio: sent > 0 ? Math.round((resent / sent) * 100) : 0 },
      serverTime: Date.now() / 1000,
      busyFiles: jobs.printingPath ? [{ origin: 'local', path: jobs.printingPath }] : [],
      markings: [],
    };
  }

  /** `current` for a client that has heard everything up to `seen` (base: the state, job and progress, the same for all). */
  private currentPayload(seen: Client['seen'], base: Record<string, unknown>): string {
    const body = {
      ...base,
      temps: this.temps.since(seen.temps, MAX_TEMPS).map(tempEntry),
      logs: this.d.printer.terminal.since(seen.logs, MAX_LOG_LINES),
      messages: this.messages.since(seen.messages, MAX_MESSAGES),
    };
    return JSON.stringify({ current: body });
  }

  private historyPayload(): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      ...this.basePayload(),
      temps: this.d.printer.history.samples(now, 300).map(tempEntry),
      logs: this.d.printer.terminal.lines(MAX_LOG_LINES),
      messages: [],
    };
  }
}


function splitAuth(auth: string): [string, string] {
  const i = auth.indexOf(':');
  return i < 0 ? ['', ''] : [auth.slice(0, i), auth.slice(i + 1)];
}

function tempEntry(s: TemperatureSample): Record<string, unknown> {
  const e: Record<string, unknown> = { time: s.time };
  s.tools.forEach((h, i) => (e[`tool${i}`] = { actual: h.actual, target: h.target }));
  if (s.bed) e['bed'] = { actual: s.bed.actual, target: s.bed.target };
  if (s.chamber) e['chamber'] = { actual: s.chamber.actual, target: s.chamber.target };
  return e;
}
