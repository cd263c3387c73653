// The fast serial path. `serialport`'s stream layer costs ~110 µs of CPU per line on this machine (a Duplex
// stream over a uv_poll watcher that reads through the thread pool), four times a plain libuv loop. So the
// native binding does what it is good at, opening the device and setting termios (any baud rate, raw, HUPCL)
// under an exclusive flock, and the bytes then move like a raw fd loop: reads through a libuv tty stream
// (epoll, no thread pool), writes with writeSync (a line is 20–100 bytes; the kernel's tty buffer takes it at once):
// a job's lines as bytes the printer model encoded them into (writeBytes: no string built, no encoding name parsed per
// write), other lines as their string. A write the kernel refuses (EAGAIN: buffer full) is queued and retried on a
// timer, in order. POSIX systems only; serial.ts falls back to the stream layer elsewhere.
//
// Two descriptors: libuv's tty stream reopens the device it is given and dup2()s the new one over it, which
// would drop the flock (it belongs to the open file description). So the locked, configured descriptor stays
// as it is, only holding the lock, and the stream gets a second descriptor of the same device.
import { close as closeAsync, closeSync, constants, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';
import { ReadStream, isatty } from 'node:tty';
import { LineSplitter } from './line-splitter.js';
import { type Transport, type TransportHandlers, TransportError, closedOnce, disconnected } from './transport.js';

interface NativeOpenOptions {
  baudRate: number;
  dataBits: 8;
  stopBits: 1;
  parity: 'none';
  rtscts: false;
  xon: false;
  xoff: false;
  xany: false;
  hupcl: boolean;
  lock: boolean;
  vmin: number;
  vtime: number;
}
interface NativeBinding {
  open(path: string, options: NativeOpenOptions, cb: (err: Error | null, fd: number) => void): void;
}

const require = createRequire(import.meta.url);
let native: NativeBinding | undefined;
function binding(): NativeBinding {
  native ??= (require('@serialport/bindings-cpp/dist/serialport-bindings.js') as { binding: NativeBinding }).binding;
  return native;
}

/** Opens and configures the device (baud, 8N1, raw, exclusive lock) and returns its descriptor. */
function openConfiguredFd(path: string, baudRate: number): Promise<number> {
  const options: NativeOpenOptions = {
    baudRate,
    dataBits: 8,
    stopBits: 1,
    parity: 'none',
    rtscts: false,
    xon: false,
    xoff: false,
    xany: false,
    hupcl: true,
    lock: true,
    vmin: 1,
    vtime: 0,
  };
  return new Promise((resolve, reject) => binding().open(path, options, (err, fd) => (err ? reject(err) : resolve(fd))));
}

const RETRY_MS = 2;
/** A read takes what arrived: a few lines at 250 kbaud, a chunk of a boot banner at most. */
const READ_BUFFER = 16 * 1024;

/**
 * Opens a terminal device (USB serial, PTY) for line traffic. Resolves undefined when the path is not a
 * terminal (the caller then uses the stream layer); rejects with the open's own error (permission, missing,
 * locked by another program).
 */
export async function openFdTransport(path: string, baudRate: number, on: TransportHandlers): Promise<Transport | undefined> {
  const lockFd = await openConfiguredFd(path, baudRate);
  let fd: number;
  try {
    if (!isatty(lockFd)) throw new TransportError(`${path} is not a terminal device`);
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK); // libuv adds O_CLOEXEC
  } catch {
    closeSync(lockFd);
    return undefined;
  }
  try {
    return fdTransport(fd, lockFd, path, on);
  } catch {
    closeSync(fd);
    closeSync(lockFd);
    return undefined;
  }
}

function fdTransport(fd: number, lockFd: number, description: string, on: TransportHandlers): Transport {
  const splitter = new LineSplitter(on.line);
  // `onread`: libuv reads into this one buffer and hands it over directly, past the stream machinery (a Buffer, a
  // push and a nextTick per read: ~8 µs of CPU a line here). The splitter copies whatever it keeps.
  const inbox = Buffer.allocUnsafe(READ_BUFFER);
  // documented for net.Socket (connect options); tty.ReadStream hands its options to net.Socket
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    onread: {
      buffer: inbox,
      callback: (n: number) => {
        splitter.push(inbox, n);
        return true;
      },
    },
  };
  const input = new ReadStream(fd, options);
  // libuv reopened the device for its stream and dup2()ed that over `fd` (see the top): the stream closes its own
  // descriptor, and `fd`, now a second one of the same device, is ours to close, or the device is never closed
  // (a descriptor leaked per connection, and DTR never drops, so the board is not reset on the next connect). When
  // libuv did not reopen it (a PTY master), the stream's descriptor is `fd` itself and closes with it.
  // (unknown handle: never close `fd`, which libuv may then be using; a leak is the lesser harm than a double close)
  const handleFd = (input as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const ownsFd = typeof handleFd === 'number' && handleFd >= 0 && handleFd !== fd;
  let queued: Buffer[] = [];
  let retry: NodeJS.Timeout | undefined;
  let closing = false;
  const report = closedOnce(on);
  const lost = (err: NodeJS.ErrnoException) => {
    const unplugged = err.code === 'EIO' || err.code === 'ENXIO' || err.code === 'ENODEV' || err.code === 'EBADF';
    report(
      unplugged
        ? disconnected(description)
        : new TransportError(`Serial error on ${description}: ${err.message}`, err.code),
    );
    shut();
  };
  const shut = () => {
    closing = true;
    clearTimeout(retry);
    queued = [];
    if (!input.destroyed) input.destroy();
  };
  /** Writes what the kernel takes now; returns (a copy of) the bytes it refused. */
  const writeNow = (buf: Uint8Array, length: number): Buffer | undefined => {
    let done = 0;
    while (done < length) {
      try {
        done += writeSync(fd, buf, done, length - done);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK') return Buffer.from(buf.subarray(done, length));
        if (e.code === 'EINTR') continue;
        lost(e);
        return undefined;
      }
    }
    return undefined;
  };
  const flushQueued = () => {
    retry = undefined;
    while (queued.length > 0 && !closing) {
      const head = queued[0]!;
      const rest = writeNow(head, head.length);
      if (rest) {
        queued[0] = rest;
        retry = setTimeout(flushQueued, RETRY_MS);
        return;
      }
      queued.shift();
    }
  };

  input.resume();
  input.on('error', (err: NodeJS.ErrnoException) => {
    if (!closing) lost(err);
  });
  input.on('close', () => {
    if (ownsFd) {
      try {
        closeSync(fd); // not the device's last descriptor (the lock holder is), so it does not wait for output
      } catch {
        // already gone: nothing to release, and the lock holder below must still close
      }
    }
    // the lock holder closes last: its close is the device's last, which may wait for output to drain
    closeAsync(lockFd, () => undefined);
    report(closing ? undefined : disconnected(description));
  });
  input.on('end', () => {
    if (!closing) lost(Object.assign(new Error('end of stream'), { code: 'EIO' }));
  });

  return {
    description,
    write(data) {
      if (closing) return;
      if (queued.length > 0) {
        queued.push(Buffer.from(data, 'latin1'));
        return;
      }
      // the string straight to the kernel: one call that encodes and writes (latin1: a byte per character, so the
      // count written is the characters written)
      let done = 0;
      try {
        done = writeSync(fd, data, null, 'latin1');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK' && e.code !== 'EINTR') {
          lost(e);
          return;
        }
      }
      if (done >= data.length) return;
      // the kernel took part of it, or none: the rest in order, by the buffer path
      const buf = Buffer.from(data.slice(done), 'latin1');
      const rest = writeNow(buf, buf.length);
      if (rest) {
        queued.push(rest);
        retry ??= setTimeout(flushQueued, RETRY_MS);
      }
    },
    writeBytes(bytes, length) {
      if (closing) return;
      if (queued.length > 0) {
        queued.push(Buffer.from(bytes.subarray(0, length)));
        return;
      }
      const rest = writeNow(bytes, length);
      if (rest) {
        queued.push(rest);
        retry ??= setTimeout(flushQueued, RETRY_MS);
      }
    },
    close() {
      if (input.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        input.once('close', () => resolve());
        shut();
      });
    },
  };
}

