// Streams a multipart upload to a temp file: never buffered in memory, hashed on the way, refused as soon as
// it is clearly wrong (not G-code, binary, too big, disk full), fsynced before anyone may see it. The caller
// renames it into place or discards it; a refused or aborted upload leaves nothing behind and is answered at once,
// without reading the rest of the request (closeAfterAnswer).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type BusboyModule from 'busboy';

// busboy is CommonJS: require() it (no CJS export lexer for an ESM import), on the first upload
let busboyModule: typeof BusboyModule | undefined;
const busboy = (config: BusboyModule.BusboyConfig) => (busboyModule ??= createRequire(import.meta.url)('busboy') as typeof BusboyModule)(config);
import { isGcodeName, sanitizeFileName } from './paths.js';
import { StorageError } from './storage.js';
import { SINK_HIGH_WATER_MARK, UploadSink, tooBig } from './upload-sink.js';

export interface ParsedUpload {
  fields: Record<string, string>;
  /** `display` is the name as the client sent it (last path segment), `name` the sanitized one it is stored as. */
  file?: { tempPath: string; display: string; name: string; size: number; hash: string };
}

/** Reads a part we do not keep to its end; busboy errors it if the request breaks off (or is refused) first. */
function discard(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.resume();
}

/** What the client hears when writing the temp file fails: a full disk or quota is theirs to see (507), as is a
 * file larger than the file system takes (413); any other disk error is ours (rethrown: 500, logged). */
function writeFailure(err: Error): Error {
  if (err instanceof StorageError) return err;
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageError(507, 'Not enough free disk space for this upload');
  if (code === 'EFBIG') return new StorageError(413, 'The file is larger than the file system allows');
  if (syscall !== undefined) return err;
  return new StorageError(400, `The upload failed: ${err.message}`); // the multipart stream itself broke off
}

export async function parseUpload(req: IncomingMessage, tempPath: () => string, maxBytes: number): Promise<ParsedUpload> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) throw new StorageError(400, 'Expected a multipart/form-data upload');
  let bb: BusboyModule.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      // file names as UTF-8 (what browsers and slicers send), not busboy's default Latin-1; filename*= says its own
      defParamCharset: 'utf8',
      // one byte over the limit is enough to know (busboy flags a file of exactly fileSize bytes as truncated)
      limits: { files: 1, fileSize: maxBytes + 1, fields: 32, fieldSize: 64 * 1024 },
      // room for the request's 64 KB chunks to queue while one is parsed or written (16 KB, the default, fits less
      // than one: every chunk waited for the one before it to reach the disk)
      highWaterMark: SINK_HIGH_WATER_MARK,
      fileHwm: SINK_HIGH_WATER_MARK,
    });
  } catch (err) {
    throw new StorageError(400, `Bad multipart request: ${(err as Error).message}`);
  }
  const out: ParsedUpload = { fields: {} };
  let written: string | undefined;
  let fileStream: Readable | undefined;
  let sink: Promise<UploadSink> | undefined;
  let fileDone: Promise<void> | undefined;

  // Settles on the first failure, at once (the client may still be sending: it must hear the answer now, not after
  // the rest of the body), or once the request is parsed and the file written and fsynced.
  const done = new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    bb.on('field', (name, value) => {
      out.fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      if (field !== 'file' || fileStream || settled) {
        discard(stream);
        return;
      }
      const display = (info.filename ?? '').split(/[\\/]/).pop()!;
      if (!isGcodeName(display)) {
        discard(stream);
        fail(new StorageError(415, `${display || 'The file'} is not G-code (allowed: .gcode .gco .g .gc)`));
        return;
      }
      let name: string;
      try {
        name = sanitizeFileName(display);
      } catch (err) {
        discard(stream);
        fail(err as Error);
        return;
      }
      const path = tempPath();
      written = path;
      fileStream = stream;
      // busboy parses up to a MB ahead of the disk: past the limit, it flags the file here before the sink has seen
      // its first bytes. The sink refuses the chunk that crosses the limit (413) in file order, after any earlier
      // problem (a NUL byte: 415); this flag only stands behind it.
      let overLimit = false;
      stream.on('limit', () => (overLimit = true));
      // the stream may be ended with an error (refused, aborted) while the temp file is still being opened, before
      // the pipeline listens: that error is the pipeline's to see, not an uncaught exception
      stream.on('error', () => undefined);
      const opened = (sink = UploadSink.create(path, maxBytes));
      // the sink checks, hashes and writes; it has fdatasynced the file when the pipeline resolves
      fileDone = opened
        .then(async (file) => {
          await pipeline(stream, file);
          await file.fileClosed;
          if (overLimit) throw tooBig(maxBytes);
          out.file = { tempPath: path, display, name, size: file.size, hash: file.hash.digest('hex') };
        })
        .catch((err: Error) => fail(writeFailure(err)));
    });
    bb.on('close', () => void (fileDone ?? Promise.resolve()).then(() => resolve()));
    bb.on('error', (err: Error) => fail(new StorageError(400, `Bad multipart request: ${err.message}`)));
    req.on('close', () => {
      if (!req.complete) fail(new StorageError(400, 'The upload was aborted by the client'));
    });
    req.on('error', (err) => fail(new StorageError(400, `The upload failed: ${err.message}`)));
  });

  req.pipe(bb);
  try {
    await done;
    return out;
  } catch (err) {
    // stop reading: the rest of the body is unwanted (the route answers with Connection: close)
    req.unpipe(bb);
    req.pause();
    // a half-received file part never ends by itself: end it, so its pipeline settles and the temp file can go
    fileStream?.destroy(new Error('upload refused'));
    await fileDone;
    // the temp file may still be being opened when the pipeline gives up: unlinking before that open lands would
    // leave the file it then creates behind (seen under load), so wait for it to be opened, and closed, first
    const file = await sink?.catch(() => undefined);
    if (file) {
      file.destroy();
      await file.fileClosed;
    }
    if (written) await unlink(written).catch(() => undefined);
    bb.destroy();
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
