// Network serial: `socket://host:port` is a raw TCP byte pipe (ser2net raw, ESP3D); `rfc2217://host:port` is
// Telnet with the COM-PORT-OPTION (RFC 2217) so the remote end can set the baud rate.
import { Socket, connect } from 'node:net';
import { LineSplitter } from './line-splitter.js';
import { type Transport, type TransportHandlers, TransportError } from './transport.js';
import { TelnetFilter, rfc2217Hello } from './telnet.js';

export function parseNetworkUrl(url: string): { kind: 'socket' | 'rfc2217'; host: string; port: number } | undefined {
  const m = /^(socket|rfc2217):\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { kind: m[1] as 'socket' | 'rfc2217', host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export async function openNetwork(url: string, baudRate: number, on: TransportHandlers, timeoutMs = 5000): Promise<Transport> {
  const target = parseNetworkUrl(url);
  if (!target) throw new TransportError(`Not a network serial URL: ${url} (use socket://host:port or rfc2217://host:port)`);
  const splitter = new LineSplitter(on.line);
  // the filter answers Telnet negotiation on the socket made below (it only reads once connected)
  const telnet = target.kind === 'rfc2217' ? new TelnetFilter((reply) => socket.write(reply)) : undefined;
  // `onread`, as the serial path reads: libuv reads into one reused buffer, handed straight to the splitter (which
  // copies what it keeps), past the stream machinery
  const inbox = Buffer.allocUnsafe(16 * 1024);
  const socket: Socket = connect({
    host: target.host,
    port: target.port,
    onread: {
      buffer: inbox,
      callback: (n) => {
        const chunk = inbox.subarray(0, n);
        splitter.push(telnet ? telnet.filter(chunk) : chunk);
        return true;
      },
    },
  });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError(`Timed out connecting to ${url}`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new TransportError(`Cannot connect to ${url}: ${err.message}`));
    });
  });
  if (telnet) socket.write(rfc2217Hello(baudRate));
  let closing = false;
  let reported = false;
  socket.on('error', () => undefined); // 'close' follows and reports
  socket.on('close', () => {
    if (reported) return;
    reported = true;
    on.closed(closing ? undefined : new TransportError(`${url} disconnected`, 'DISCONNECTED'));
  });
  return {
    description: url,
    write(data) {
      if (closing || socket.destroyed) return;
      // 0xFF is Telnet's escape byte; G-code is ASCII, so it only needs doubling if it ever appears
      socket.write(telnet && data.includes('\xff') ? data.replace(/\xff/g, '\xff\xff') : data, 'latin1');
    },
    close() {
      closing = true;
      return new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 500).unref();
      });
    },
  };
}
