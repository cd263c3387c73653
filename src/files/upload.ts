// Streams a multipart upload to a temp file: never buffered in memory, hashed on the way, refused as soon as
// it is clearly wrong (not G-code, binary, too big, disk full), fsynced before anyone may see it. The caller
// renames it into place or discards it; a refused or aborted upload leaves nothing behind and is answered at once,
// without reading the rest of the request (closeAfterAnswer).
//
// The body goes from Node's HTTP parser straight into the multipart parser and the sink, with no stream in between:
// Node hands each piece of a request body to the request's push() (lib/_http_common.js parserOnBody, `stream.push(b)`;
// the end as push(null)), and a returned false pauses the socket (readStop). Receiving takes that call over for the
// upload's request, so a piece costs one function call instead of Readable's push/emit('data') and a nextTick per
// piece: ~40 % of the CPU of reading a 100 MB body (a plain server: 185 → 110 ms, profiled). It is handed back to
// Readable (delete the own property) at the end or on the first failure, so the rest of a refused body is read
// (and dropped) the ordinary way. Per-piece code is on classes, not per-request closures: V8's optimized code for it
// then serves every upload instead of being thrown away and compiled again for the next one's closures.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unlink } from 'node:fs/promises';
import { MultipartError, MultipartParser, type PartHandler, type PartInfo, boundaryOf } from './multipart.js';
import { isGcodeName, sanitizeFileName } from './paths.js';
import { StorageError } from './storage.js';
import { UploadSink } from './upload-sink.js';

export interface ParsedUpload {
  fields: Record<string, string>;
  /** `display` is the name as the client sent it (last path segment), `name` the sanitized one it is stored as. */
  file?: { tempPath: string; display: string; name: string; size: number; hash: string };
}

/** What a form may hold besides the file: OctoPrint's clients send at most a handful of short fields. */
const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 64 * 1024;
const LIMITS = { headerBytes: 16 * 1024, parts: MAX_FIELDS + 8 };

/** What the client hears when writing the temp file fails: a full disk or quota is theirs to see (507), as is a
 * file larger than the file system takes (413); any other disk error is ours (rethrown: 500, logged). */
function writeFailure(err: Error): Error {
  if (err instanceof StorageError) return err;
  if (err instanceof MultipartError) return new StorageError(400, err.message);
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageError(507, 'Not enough free disk space for this upload');
  if (code === 'EFBIG') return new StorageError(413, 'The file is larger than the file system allows');
  if (syscall !== undefined) return err;
  return new StorageError(400, `The upload failed: ${err.message}`);
}

const RECEIVER = Symbol('gantry.upload');
type ReceivingRequest = IncomingMessage & { [RECEIVER]?: Receiver; _readableState?: { ended?: boolean } };
type Socket = IncomingMessage['socket'] & { _paused?: boolean };

/** The request's push() while an upload receives it: every piece of the body, then null at its end. */
function pushToReceiver(this: ReceivingRequest, chunk: Buffer | null): boolean {
  return this[RECEIVER]!.take(chunk);
}

/** The part being read: the file (into the sink), a field (collected), or one that is read past. */
const SKIP = 0;
const FILE = 1;
const FIELD = 2;

class Receiver implements PartHandler {
  readonly out: ParsedUpload = { fields: {} };
  sink: UploadSink | undefined;
  written: string | undefined;
  private file: { display: string; name: string } | undefined;
  private readonly parser: MultipartParser;
  private current = SKIP;
  private fieldName = '';
  private fieldBytes: Buffer[] = [];
  private fieldSize = 0;
  private fields = 0;
  private settled = false;
  /** the socket was paused (push returned false) until the sink drains */
  private paused = false;
  private attached = false;
  private resolve: () => void = () => undefined;
  private reject: (err: Error) => void = () => undefined;
  private readonly resumeSocket = () => {
    this.paused = false;
    // what Node's readStart does: not while the server holds a pipelined request back
    const socket = this.req.socket as Socket | null;
    if (!this.settled && socket && !socket._paused && socket.readable) socket.resume();
  };
  /** reports a disk failure of the sink as it happens */
  private readonly sinkFailed = (err: Error) => this.fail(err);

  constructor(
    private readonly req: ReceivingRequest,
    boundary: string,
    private readonly tempPath: () => string,
    private readonly maxBytes: number,
  ) {
    this.parser = new MultipartParser(boundary, this, LIMITS);
  }

  /** Settles on the first failure, at once (the client may still be sending: it must hear the answer now, not after
   * the rest of the body), or once the body is parsed and the file written and fsynced. */
  receive(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const req = this.req;
    req.on('close', () => {
      if (!req.complete) this.fail(new StorageError(400, 'The upload was aborted by the client'));
    });
    req.on('error', (err) => this.fail(new StorageError(400, `The upload failed: ${err.message}`)));
    // a body that ended before the route ran (a small form, while earlier awaits were pending) was pushed already
    const endedBefore = req.complete;
    req[RECEIVER] = this;
    req.push = pushToReceiver;
    this.attached = true;
    // what arrived while the route was busy before: in the request's buffer
    for (let b: Buffer | null; !this.settled && (b = req.read() as Buffer | null) !== null; ) this.take(b);
    if (endedBefore && !this.settled) this.take(null);
    return done;
  }

  /** One piece of the body (null: its end). False asks Node to stop reading the socket until resumeSocket. */
  take(chunk: Buffer | null): boolean {
    if (chunk === null) {
      this.detach();
      // Readable's own end (unless it came before receive()), so that 'end' and readableEnded are as ever for
      // whoever looks (the adapter does)
      if (!this.req._readableState?.ended) this.req.push(null);
      this.req.resume();
      if (!this.settled) this.bodyEnded();
      return false;
    }
    if (this.settled) return true;
    try {
      this.parser.write(chunk);
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    return !this.paused;
  }

  part(info: PartInfo): void {
    if (info.filename === undefined) {
      if (this.fields < MAX_FIELDS) {
        this.current = FIELD;
        this.fieldName = info.name;
        this.fieldBytes = [];
        this.fieldSize = 0;
      } else this.current = SKIP;
      this.fields++;
      return;
    }
    // one file, in the field OctoPrint reads it from; any other file part is read past
    if (info.name !== 'file' || this.file) {
      this.current = SKIP;
      return;
    }
    const display = info.filename.split(/[\\/]/).pop()!;
    if (!isGcodeName(display)) throw new StorageError(415, `${display || 'The file'} is not G-code (allowed: .gcode .gco .g .gc)`);
    this.file = { display, name: sanitizeFileName(display) };
    this.written = this.tempPath();
    this.sink = new UploadSink(this.written, this.maxBytes, this.sinkFailed);
    this.current = FILE;
  }

  data(bytes: Buffer): void {
    if (this.current === FILE) {
      if (!this.sink!.write(bytes) && !this.paused) {
        this.paused = true;
        this.sink!.onDrain(this.resumeSocket);
      }
    } else if (this.current === FIELD) {
      this.fieldSize += bytes.length;
      if (this.fieldSize > MAX_FIELD_BYTES) throw new StorageError(400, `The form field ${this.fieldName} is longer than ${MAX_FIELD_BYTES} bytes`);
      this.fieldBytes.push(bytes);
    }
  }

  partEnd(): void {
    if (this.current === FIELD) this.out.fields[this.fieldName] = Buffer.concat(this.fieldBytes).toString('utf8');
    this.current = SKIP;
  }

  /** The request's push() is Readable's again: what still arrives is buffered (paused) or read and dropped. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    delete (this.req as { push?: unknown }).push;
    delete this.req[RECEIVER];
  }

  private bodyEnded(): void {
    try {
      this.parser.end();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    const { sink, file } = this;
    if (!sink || !file) return this.settle();
    sink.end().then(() => {
      this.out.file = { tempPath: this.written!, display: file.display, name: file.name, size: sink.size, hash: sink.hash.digest('hex') };
      this.settle();
    }, this.sinkFailed);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve();
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.detach();
    this.reject(writeFailure(err));
  }
}

/** uploads whose bodies are being received now, in this process */
let receiving = 0;

/** How many uploads are streaming in now (the idle collector waits for them: idle-gc.ts). */
export const uploadsInProgress = (): number => receiving;

export async function parseUpload(req: IncomingMessage, tempPath: () => string, maxBytes: number): Promise<ParsedUpload> {
  receiving++;
  try {
    return await receiveUpload(req, tempPath, maxBytes);
  } finally {
    receiving--;
  }
}

async function receiveUpload(req: IncomingMessage, tempPath: () => string, maxBytes: number): Promise<ParsedUpload> {
  let boundary: string;
  try {
    boundary = boundaryOf(req.headers['content-type'] ?? '');
  } catch (err) {
    throw new StorageError(400, (err as Error).message);
  }
  const receiver = new Receiver(req, boundary, tempPath, maxBytes);
  try {
    await receiver.receive();
    return receiver.out;
  } catch (err) {
    // stop reading: the rest of the body is unwanted (the route answers with Connection: close)
    receiver.detach();
    req.pause();
    if (receiver.sink) await receiver.sink.discard();
    if (receiver.written) await unlink(receiver.written).catch(() => undefined);
    throw err;
  }
}

/** How long, and how much of a refused body, is read and dropped after the answer before the socket closes. */
const LINGER_MS = 2000;
const LINGER_BYTES = 16 << 20;

/**
 * After refusing an upload whose body is still arriving: answer with `Connection: close`, so the rest of the body is
 * not read the way Node drains it to keep a connection alive. A client streaming gigabytes is cut off, not drained.
 * Not at once, though: closing a socket with unread bytes from the client makes the kernel send a reset, and a
 * client still writing then fails with EPIPE and may never read the answer that was already on its way (seen with
 * Node's own client). So, as nginx's lingering close does, the socket half-closes after the answer and what the
 * client still sends is read and dropped, for at most LINGER_MS and LINGER_BYTES, then it closes.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return; // the whole body was read: the connection can be reused
  if (!res.headersSent) res.setHeader('Connection', 'close');
  req.unpipe();
  const socket = req.socket;
  const close = () => socket.destroy();
  let dropped = 0;
  req.on('data', (d: Buffer) => {
    dropped += d.length;
    if (dropped > LINGER_BYTES) close();
  });
  req.once('end', () => (socket.writableFinished ? close() : socket.once('finish', close)));
  req.resume();
  // Node calls this once the answer is written, on a `Connection: close` response: end (FIN after the answer),
  // then close when the client is done or the linger is up, instead of at once
  socket.destroySoon = () => {
    if (socket.writable) socket.end();
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}
