// Runs the virtual printer behind a PTY link (and optionally a TCP port), handling unplug and re-plug.
import { createServer, type Server, type Socket } from 'node:net';
import { type SimOptions } from './options.js';
import { type PtyLink, openPtyLink } from './pty.js';
import { VirtualPrinter } from './virtual-printer.js';

export interface RunningSim {
  readonly printer: VirtualPrinter;
  readonly link: string;
  stop(): Promise<void>;
}

export async function startVirtualPrinter(link: string, opts: Partial<SimOptions> = {}): Promise<RunningSim> {
  let pty: PtyLink | undefined;
  let stopped = false;
  let replugTimer: NodeJS.Timeout | undefined;
  const printer: VirtualPrinter = new VirtualPrinter(
    {
      write: (text) => pty?.write(text),
      unplug: () => {
        const old = pty;
        pty = undefined;
        void old?.close().then(() => {
          if (!stopped && printer.opts.replugAfter > 0) {
            replugTimer = setTimeout(() => void plugIn(true), printer.opts.replugAfter);
          }
        });
      },
    },
    opts,
  );
  const plugIn = async (again: boolean) => {
    if (stopped) return;
    const p = await openPtyLink(link);
    p.onData((chunk) => printer.receive(chunk));
    pty = p;
    if (again) printer.replugged();
    else printer.boot();
  };
  await plugIn(false);
  return {
    printer,
    link,
    async stop() {
      stopped = true;
      clearTimeout(replugTimer);
      await printer.close();
      await pty?.close();
    },
  };
}

/** The simulator on a TCP port, for socket:// and rfc2217:// tests. One printer; one client at a time. */
export async function startVirtualPrinterTcp(port: number, opts: Partial<SimOptions> = {}): Promise<{ port: number; printer: VirtualPrinter; stop(): Promise<void> }> {
  let client: Socket | undefined;
  const printer = new VirtualPrinter(
    {
      write: (text) => client?.write(text, 'latin1'),
      unplug: () => client?.destroy(),
    },
    opts,
  );
  const server: Server = createServer((socket) => {
    client?.destroy();
    client = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // drop Telnet negotiation (IAC sequences) so the same server answers rfc2217:// clients
      printer.receive(stripTelnet(chunk));
    });
    socket.on('error', () => undefined);
    printer.boot();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    printer,
    async stop() {
      client?.destroy();
      await printer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function stripTelnet(chunk: Buffer): string {
  if (!chunk.includes(255)) return chunk.toString('latin1');
  let out = '';
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    if (b !== 255) {
      out += String.fromCharCode(b);
      continue;
    }
    const verb = chunk[i + 1];
    if (verb === 255) {
      out += '\xff';
      i++;
    } else if (verb === 250) {
      const se = chunk.indexOf(Buffer.from([255, 240]), i);
      i = se < 0 ? chunk.length : se + 1;
    } else i += 2;
  }
  return out;
}
