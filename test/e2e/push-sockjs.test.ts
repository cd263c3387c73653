// SockJS at /sockjs, as OctoPrint serves it to its own clients: its JavaScript client (sockjs-client, in Node, over
// each transport it falls back through), a Python client speaking the framing with the standard library only (as
// OctoPrint's SocketClient does), and by hand for what those cannot show: the page's cookie signs in only from the
// page's own origin, a session answers only whoever opened it, bodies and queues are bounded, and sockets close when
// their session ends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type GantryRig, gantryRig, waitOperational } from '../helpers/gantry-rig.js';
import { addUser, floodBody, login, rawRequest } from '../helpers/accounts.js';
import { SockJsClient, SockJsWebSocket, XhrStream, sessionPath, xhrSend } from '../helpers/sockjs-client.js';
import { waitFor } from '../helpers/wait.js';
import { pythonExecutable } from '../../src/sim/pty.js';

const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling'];
const HISTORY_KEYS = ['state', 'job', 'progress', 'currentZ', 'offsets', 'resends', 'serverTime', 'temps', 'busyFiles', 'logs', 'messages'];

// OctoPrint's Python SocketClient, minus the websocket-client package: the URL it builds
// (/sockjs/<000-999>/<uuid4>/websocket), and its frame handling (o, h, c; `a` arrays whose items are dicts, each
// key a message). xhr-polling the same way over http.client. One JSON line out per message.
const PYTHON_CLIENT = String.raw`
import base64, hashlib, http.client, json, os, random, socket, struct, sys, uuid

host, port, transport, auth = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
currents = [0]

def out(**kw):
    print(json.dumps(kw), flush=True)

def on_frame(frame, send):
    kind = frame[0]
    if kind == "h":
        return False
    if kind == "o":
        out(type="open")
        send(json.dumps([json.dumps({"auth": auth})]))
        return False
    if kind == "c":
        out(type="close", frame=frame)
        sys.exit(3)
    data = json.loads(frame[1:])
    if kind == "m":
        data = [data]
    for d in data:
        for message_type, message in d.items():
            out(type=message_type, keys=sorted(message.keys()) if isinstance(message, dict) else None)
            if message_type == "current":
                currents[0] += 1
    return currents[0] >= 3

def websocket():
    path = "/sockjs/{:0>3d}/{}/websocket".format(random.randrange(0, 999), uuid.uuid4())
    s = socket.create_connection((host, port), timeout=20)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("handshake: connection closed")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    head = head.decode()
    if " 101 " not in head.split("\r\n")[0]:
        sys.exit("handshake: " + head.split("\r\n")[0])
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    if ("sec-websocket-accept: " + accept.lower()) not in head.lower():
        sys.exit("handshake: wrong Sec-WebSocket-Accept")
    state = {"buf": buf}

    def take(n):
        while len(state["buf"]) < n:
            chunk = s.recv(65536)
            if not chunk:
                sys.exit("connection closed")
            state["buf"] += chunk
        data, state["buf"] = state["buf"][:n], state["buf"][n:]
        return data

    def frame_out(opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = bytes([0x80 | opcode, 0x80 | n])
        elif n < 65536:
            header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
        else:
            header = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
        s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    message = b""
    while True:
        b0, b1 = take(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", take(8))[0]
        payload = take(n)
        opcode = b0 & 0x0F
        if opcode == 8:
            sys.exit("websocket closed")
        if opcode == 9:
            frame_out(0xA, payload)
            continue
        if opcode in (0, 1):
            message += payload
            if b0 & 0x80:
                if on_frame(message.decode(), lambda text: frame_out(1, text.encode())):
                    return
                message = b""

def xhr_polling():
    base = "/sockjs/{:0>3d}/{}/".format(random.randrange(0, 999), uuid.uuid4())
    conn = http.client.HTTPConnection(host, port, timeout=40)

    def post(what, body=None):
        conn.request("POST", base + what, body=body, headers={"Content-Type": "text/plain"})
        r = conn.getresponse()
        return r.status, r.read().decode()

    pending = []
    while True:
        status, text = post("xhr")
        if status != 200:
            sys.exit("xhr: %d %s" % (status, text))
        for frame in text.split("\n"):
            if frame and on_frame(frame, pending.append):
                return
        for body in pending:
            status, _ = post("xhr_send", body)
            if status != 204:
                sys.exit("xhr_send: %d" % status)
        pending.clear()

websocket() if transport == "websocket" else xhr_polling()
out(type="done")
`;

describe('SockJS push socket', () => {
  let rig: GantryRig;
  let auth: string;
  let url: string;
  before(async () => {
    rig = await gantryRig();
    url = rig.gantry.url;
    await waitOperational(rig);
    const login = (await (await rig.api('/api/login', { method: 'POST', json: { passive: true } })).json()) as { session: string };
    const me = (await (await rig.api('/api/currentuser')).json()) as { name: string };
    auth = `${me.name}:${login.session}`;
  });
  after(() => rig.close());

  test('/sockjs/info and the transports OctoPrint\'s clients use are served; the others are not', async () => {
    const info = await fetch(`${url}/sockjs/info?t=1700000000000`);
    assert.equal(info.status, 200);
    assert.match(info.headers.get('cache-control') ?? '', /no-store/);
    const body = (await info.json()) as Record<string, unknown>;
    assert.deepEqual({ ...body, entropy: typeof body['entropy'] }, { websocket: true, cookie_needed: false, origins: ['*:*'], entropy: 'number' });
    const welcome = await fetch(`${url}/sockjs`);
    assert.equal(welcome.status, 200);
    assert.equal(await welcome.text(), 'Welcome to SockJS!\n');
    // sockjs-client moves on from a transport that is not there: eventsource, jsonp and the iframe ones are not
    for (const path of ['/sockjs/000/abc/eventsource', '/sockjs/000/abc/jsonp', '/sockjs/000/abc/htmlfile', '/sockjs/iframe.html', '/sockjs/000/a.b/xhr', '/sockjs/nope']) {
      assert.equal((await fetch(`${url}${path}`, { method: 'POST' })).status, 404, path);
    }
    assert.equal((await fetch(`${url}${sessionPath('abc', 'xhr')}`)).status, 405, 'XHR transports are POST');
    assert.equal((await fetch(`${url}${sessionPath('abc', 'websocket')}`)).status, 400, 'websocket without an upgrade');
    assert.equal((await fetch(`${url}${sessionPath('abc', 'xhr_send')}`, { method: 'POST', body: '["{}"]' })).status, 404, 'no such session');
  });

  for (const transport of TRANSPORTS) {
    test(`sockjs-client over ${transport}: connected, auth, history, current at most twice a second, events; each message an object`, async () => {
      const c = new SockJsClient(url, [transport]);
      try {
        await c.opened();
        assert.equal(c.transport, transport);
        await waitFor('connected', () => c.of('connected').length === 1);
        assert.equal(c.of('history').length + c.of('current').length, 0, 'nothing before auth');
        c.send({ auth });
        c.send({ throttle: 1 });
        c.send({ subscribe: { state: { logs: true } } });
        await waitFor('history', () => c.of('history').length === 1);
        const h = c.of('history')[0]!.msg['history']!;
        for (const k of HISTORY_KEYS) assert.ok(k in h, k);
        await waitFor('4 currents', () => c.of('current').length >= 4, 6000);
        const times = c.of('current').map((m) => m.msg['current']!['serverTime'] as number);
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        assert.ok(gaps.every((g) => g >= 0.45), `at most 2/s: ${gaps.join(',')}`);
        const state = c.of('current').at(-1)!.msg['current']!['state'] as { text: string; flags: Record<string, boolean> };
        assert.equal(state.text, 'Operational');
        assert.equal(Object.keys(state.flags).length, 11);
        const form = new FormData();
        form.append('file', new Blob(['G28\n']), `sockjs-${transport}.gcode`);
        assert.equal((await rig.api('/api/files/local', { method: 'POST', body: form })).status, 201);
        await waitFor('the Upload event', () => c.events().includes('Upload'));
        assert.deepEqual([...c.dataTypes], ['object'], 'each message arrives as the object itself, as OctoPrint frames it (a[{…}]), not a string');
      } finally {
        c.close();
      }
    });
  }

  for (const transport of ['websocket', 'xhr-polling']) {
    test(`a Python client (standard library only, OctoPrint's SocketClient framing) over ${transport}`, async () => {
      const u = new URL(url);
      const child = spawn(pythonExecutable(), ['-u', '-c', PYTHON_CLIENT, u.hostname, u.port, transport, auth], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        assert.equal(code, 0, `python exited ${code}: ${err}`);
        const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; keys?: string[] | null });
        const types = lines.map((l) => l.type);
        assert.deepEqual(types.slice(0, 2), ['open', 'connected'], types.join(','));
        assert.ok(types.indexOf('history') > 1 && types.indexOf('history') < types.indexOf('current'), types.join(','));
        assert.equal(types.filter((t) => t === 'current').length, 3);
        assert.equal(types.at(-1), 'done');
        const history = lines.find((l) => l.type === 'history')!;
        for (const k of HISTORY_KEYS) assert.ok(history.keys?.includes(k), k);
        assert.ok(lines.filter((l) => l.type === 'current').every((l) => l.keys?.includes('state') && l.keys.includes('temps')));
      } finally {
        child.kill();
      }
    });
  }

  test("the page's login cookie signs a SockJS session in only from the page's own origin; a session answers only whoever opened it", async () => {
    await addUser(rig, 'sockuser', 'sock password', 'user');
    const s = await login(rig, 'sockuser', 'sock password');
    const host = new URL(url).host;
    const ownOrigin = { Cookie: s.cookie, Origin: `http://${host}` };
    const evil = { Cookie: s.cookie, Origin: 'http://evil.example' };
    // same site, other origin (another port on the printer's host): the Lax cookie does come along, and must not count
    const otherPort = { Cookie: s.cookie, Origin: `http://${new URL(url).hostname}:1` };
    const own = new XhrStream(url, undefined, ownOrigin);
    const ownWs = new SockJsWebSocket(url, ownOrigin);
    const foreign = [new XhrStream(url, undefined, evil), new XhrStream(url, undefined, otherPort), new SockJsWebSocket(url, evil), new SockJsWebSocket(url, otherPort)];
    const gantryUser = (f: { of(t: string): { [k: string]: Record<string, unknown> }[] }) => f.of('connected')[0]!['connected']!['gantryUser'];
    try {
      await waitFor('history without an auth message, over XHR and websocket', () => own.of('history').length === 1 && ownWs.of('history').length === 1);
      assert.equal(gantryUser(own), 'sockuser');
      assert.equal(gantryUser(ownWs), 'sockuser');
      await waitFor('the others connected', () => foreign.every((f) => f.of('connected').length === 1));
      for (const f of foreign) assert.equal(gantryUser(f), null);
      const seen = own.of('current').length;
      await waitFor('two more ticks on the page\'s session', () => own.of('current').length >= seen + 2, 5000);
      for (const f of foreign) assert.equal(f.of('history').length + f.of('current').length, 0, 'another origin cannot ride on the cookie');
      const evilStream = foreign[0] as XhrStream;
      assert.equal(evilStream.status, 200);
      // a session is bound to the origin that opened it: another page (or no page) cannot send into it or read it
      assert.equal(await xhrSend(url, own.id, [{ throttle: 5 }], { Origin: 'http://evil.example' }), 404);
      assert.equal(await xhrSend(url, own.id, [{ throttle: 5 }]), 404);
      const hijack = await rawRequest(url, { method: 'POST', path: sessionPath(own.id, 'xhr'), headers: evil });
      assert.equal(hijack.status, 404);
      // a page elsewhere still gets what its own auth message earns (OctoPrint's client on another host)
      assert.equal(await xhrSend(url, evilStream.id, [{ auth }], { Origin: 'http://evil.example' }), 204);
      await waitFor('history after auth', () => evilStream.of('history').length === 1);
    } finally {
      for (const c of [own, ownWs, ...foreign]) c.close();
    }
  });

  test('bounded: a session nobody polls is closed, xhr_send bodies over 8 KB are refused unread, a stalled stream is dropped', async () => {
    // the earlier tests' XHR sessions end the disconnect delay after their last request
    await waitFor('no clients left', () => rig.gantry.push.clientCount === 0, 10_000);
    // a polling client that opens a session and never polls again is gone after the disconnect delay
    const open = await rawRequest(url, { method: 'POST', path: sessionPath(undefined, 'xhr') });
    assert.equal(open.body, 'o\n');
    assert.equal(rig.gantry.push.clientCount, 1);
    await waitFor('closed after the disconnect delay', () => rig.gantry.push.clientCount === 0, 10_000);

    const stream = new XhrStream(url);
    try {
      await waitFor('open', () => stream.frames.includes('o'));
      for (const declareLength of [false, true]) {
        // more than loopback's socket buffers hold (the receive buffer alone may grow to tcp_rmem's 32 MB here), so
        // a server that reads nothing leaves the client unable to send it all even when it answers late (busy)
        const big = await floodBody(url, sessionPath(stream.id, 'xhr_send'), 64 << 20, { headers: { 'Content-Type': 'text/plain' }, declareLength });
        assert.equal(big.status, 413);
        assert.ok(big.sent < 64 << 20, `stopped reading: ${big.sent} bytes sent`);
      }
      assert.equal(await xhrSend(url, stream.id, [{ auth }]), 204, 'the session is still there');
      await waitFor('history', () => stream.of('history').length === 1);
    } finally {
      stream.close();
    }

    // a stream whose reader stalls while asking for the (large) history again and again is dropped, its memory freed
    const stalled = new XhrStream(url);
    try {
      await waitFor('open', () => stalled.frames.includes('o') && stalled.status === 200);
      stalled.req.socket?.pause();
      const dropped = rig.gantry.push.stats.disconnected;
      const burst = Array.from({ length: 100 }, () => ({ auth }));
      let status = 204;
      for (let i = 0; i < 50 && status === 204 && rig.gantry.push.stats.disconnected === dropped; i++) status = await xhrSend(url, stalled.id, burst);
      await waitFor('the stalled session was dropped', () => rig.gantry.push.stats.disconnected > dropped);
      assert.equal(await xhrSend(url, stalled.id, [{}]), 404, 'its session is over');
      await waitFor('no clients left', () => rig.gantry.push.clientCount === 0, 10_000);
    } finally {
      stalled.close();
    }
  });

  test('a SockJS socket closes when its session ends, on every transport', async () => {
    await addUser(rig, 'sockpat', 'first password', 'user');
    const s = await login(rig, 'sockpat', 'first password');
    const clients = TRANSPORTS.map((t) => new SockJsClient(url, [t]));
    try {
      await Promise.all(clients.map((c) => c.opened()));
      for (const c of clients) c.send({ auth: `${s.name}:${s.session}` });
      await waitFor('signed in', () => clients.every((c) => c.of('history').length === 1));
      assert.equal((await rig.api('/api/gantry/users/sockpat/password', { method: 'POST', json: { password: 'second password' } })).status, 204);
      await waitFor('all closed', () => clients.every((c) => c.closeEvent !== undefined), 10_000);
      for (const c of clients) assert.deepEqual(c.closeEvent, { code: 3000, reason: 'Go away!' }, c.transport);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
