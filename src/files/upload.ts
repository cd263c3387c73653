// Streams a multipart upload to a temp file: never buffered in memory, hashed on the way, refused as soon as
// it is clearly wrong (not G-code, binary, too big, disk full), fsynced before anyone may see it. The caller
// renames it into place or discards it; a refused or aborted upload leaves nothing behind and is answered at once,
// without reading the rest of the request (closeAfterAnswer). The request's chunks go straight from its 'data'
// events through the multipart parser into the sink: no stream layers in between (they cost as much as the hash).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unlink } from 'node:fs/promises';
import { MultipartError, MultipartParser, boundaryOf } from './multipart.js';
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

export async function parseUpload(req: IncomingMessage, tempPath: () => string, maxBytes: number): Promise<ParsedUpload> {
  let boundary: string;
  try {
    boundary = boundaryOf(req.headers['content-type'] ?? '');
  } catch (err) {
    throw new StorageError(400, (err as Error).message);
  }
  const out: ParsedUpload = { fields: {} };
  let sink: UploadSink | undefined;
  let written: string | undefined;
  let file: { display: string; name: string } | undefined;
  /** the part being read: the file (into the sink), a field (collected), or one we skip */
  let current: { kind: 'file' } | { kind: 'field'; name: string; bytes: Buffer[]; size: number } | { kind: 'skip' } = { kind: 'skip' };
  let fields = 0;
  let onData: (chunk: Buffer) => void = () => undefined;

  // Settles on the first failure, at once (the client may still be sending: it must hear the answer now, not after
  // the rest of the body), or once the request is parsed and the file written and fsynced.
  const done = new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(writeFailure(err));
    };
    const parser = new MultipartParser(boundary, {
      part(info) {
        if (info.filename === undefined) {
          current = fields < MAX_FIELDS ? { kind: 'field', name: info.name, bytes: [], size: 0 } : { kind: 'skip' };
          fields++;
          return;
        }
        // one file, in the field OctoPrint reads it from; any other file part is read past
        if (info.name !== 'file' || file) {
          current = { kind: 'skip' };
          return;
        }
        const display = info.filename.split(/[\\/]/).pop()!;
        if (!isGcodeName(display)) throw new StorageError(415, `${display || 'The file'} is not G-code (allowed: .gcode .gco .g .gc)`);
        file = { display, name: sanitizeFileName(display) };
        written = tempPath();
        sink = new UploadSink(written, maxBytes, fail);
        current = { kind: 'file' };
      },
      data(bytes) {
        if (current.kind === 'file') {
          if (!sink!.write(bytes)) {
            req.pause();
            sink!.onDrain(() => req.resume());
          }
        } else if (current.kind === 'field') {
          current.size += bytes.length;
          if (current.size > MAX_FIELD_BYTES) throw new StorageError(400, `The form field ${current.name} is longer than ${MAX_FIELD_BYTES} bytes`);
          current.bytes.push(bytes);
        }
      },
      partEnd() {
        if (current.kind === 'field') out.fields[current.name] = Buffer.concat(current.bytes).toString('utf8');
        current = { kind: 'skip' };
      },
    }, LIMITS);
    onData = (chunk) => {
      if (settled) return;
      try {
        parser.write(chunk);
      } catch (err) {
        fail(err as Error);
      }
    };
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      try {
        parser.end();
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (!sink || !file) return void ((settled = true), resolve());
      const { display, name } = file;
      sink.end().then(
        () => {
          out.file = { tempPath: written!, display, name, size: sink!.size, hash: sink!.hash.digest('hex') };
          settled = true;
          resolve();
        },
        fail,
      );
    });
    req.on('close', () => {
      if (!req.complete) fail(new StorageError(400, 'The upload was aborted by the client'));
    });
    req.on('error', (err) => fail(new StorageError(400, `The upload failed: ${err.message}`)));
  });

  try {
    await done;
    return out;
  } catch (err) {
    // stop reading: the rest of the body is unwanted (the route answers with Connection: close)
    req.off('data', onData);
    req.pause();
    if (sink) await sink.discard();
    if (written) await unlink(written).catch(() => undefined);
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
