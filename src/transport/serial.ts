// A serial port through the `serialport` package (USB-serial adapters, USB CDC boards, PTYs). We load its
// stream and native binding directly, with require(): the `serialport` entry point also loads a dozen parsers
// we do not use, and importing CommonJS through ESM `import` starts Node's CJS export lexer. Together that
// was 7 MB of idle RSS, which matters on a 512 MB board.
import { createRequire } from 'node:module';
import type { LinuxBinding as LinuxBindingClass } from '@serialport/bindings-cpp';
import type { SerialPortStream as SerialPortStreamClass } from '@serialport/stream';
import { LineSplitter } from './line-splitter.js';
import { openFdTransport } from './serial-fd.js';
import { type Transport, type TransportHandlers, TransportError, closedOnce, disconnected } from './transport.js';

const require = createRequire(import.meta.url);
const { SerialPortStream } = require('@serialport/stream') as { SerialPortStream: typeof SerialPortStreamClass };
const { LinuxBinding } = require('@serialport/bindings-cpp') as { LinuxBinding: typeof LinuxBindingClass };

export function explainSerialError(path: string, err: Error): TransportError {
  const msg = err.message;
  if (/EACCES|Permission denied/i.test(msg)) {
    return new TransportError(
      `Permission denied opening ${path}: add the user running Gantry to the 'dialout' group ` +
        `(sudo usermod -aG dialout $USER) and log in again`,
      'EACCES',
    );
  }
  if (/ENOENT|No such file/i.test(msg)) return new TransportError(`${path} does not exist (printer unplugged or off?)`, 'ENOENT');
  if (/EBUSY|lock|Resource temporarily unavailable/i.test(msg)) {
    return new TransportError(`${path} is in use by another program`, 'EBUSY');
  }
  return new TransportError(`Cannot open ${path}: ${msg}`);
}

/**
 * Opens a serial device. On Linux and other POSIX systems the bytes move on the device's descriptor
 * (serial-fd.ts); elsewhere, or with `stream: true`, through `serialport`'s stream layer.
 */
export async function openSerial(path: string, baudRate: number, on: TransportHandlers, opts: { stream?: boolean } = {}): Promise<Transport> {
  if (!opts.stream && process.platform !== 'win32') {
    let transport: Transport | undefined;
    try {
      transport = await openFdTransport(path, baudRate, on);
    } catch (err) {
      throw explainSerialError(path, err as Error);
    }
    if (transport) return transport; // else not a terminal: the stream layer handles what it can
  }
  return openStream(path, baudRate, on);
}

async function openStream(path: string, baudRate: number, on: TransportHandlers): Promise<Transport> {
  const port = new SerialPortStream({ binding: LinuxBinding, path, baudRate, autoOpen: false, lock: true, hupcl: true });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(explainSerialError(path, err)) : resolve())));
  const splitter = new LineSplitter(on.line);
  let closing = false;
  const report = closedOnce(on);
  port.on('data', (chunk: Buffer) => splitter.push(chunk));
  port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
    report(closing ? undefined : disconnected(path));
    void err;
  });
  port.on('error', (err: Error) => {
    if (!closing) report(new TransportError(`Serial error on ${path}: ${err.message}`));
  });
  return {
    description: path,
    write(data) {
      if (!closing && port.isOpen) port.write(data, 'latin1');
    },
    close() {
      closing = true;
      return new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      });
    },
  };
}
