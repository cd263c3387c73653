// Streams a multipart upload to a temp file: never buffered in memory, hashed on the way, refused as soon as
// it is clearly wrong (not G-code, binary, too big), fsynced before anyone may see it. The caller renames it into
// place or discards it; an aborted upload leaves nothing behind.
import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type BusboyModule from 'busboy';

// busboy is CommonJS: require() it (no CJS export lexer for an ESM import), on the first upload
let busboyModule: typeof BusboyModule | undefined;
const busboy = (config: BusboyModule.BusboyConfig) => (busboyModule ??= createRequire(import.meta.url)('busboy') as typeof BusboyModule)(config);
import { isGcodeName } from './paths.js';
import { StorageError } from './storage.js';

export interface ParsedUpload {
  fields: Record<string, string>;
  file?: { tempPath: string; filename: string; size: number; hash: string };
}

/** Hashes and checks bytes as they pass: a NUL byte means a binary file, not G-code text. */
class GcodeGuard extends Transform {
  readonly hash = createHash('sha1');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.includes(0)) {
      cb(new StorageError(415, 'The file contains binary data (NUL bytes); only G-code text files can be uploaded'));
      return;
    }
    this.size += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

export async function parseUpload(req: IncomingMessage, tempPath: () => string, maxBytes: number): Promise<ParsedUpload> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) throw new StorageError(400, 'Expected a multipart/form-data upload');
  let bb: BusboyModule.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 32, fieldSize: 64 * 1024 } });
  } catch (err) {
    throw new StorageError(400, `Bad multipart request: ${(err as Error).message}`);
  }
  const out: ParsedUpload = { fields: {} };
  let written: string | undefined;
  let failure: Error | undefined;
  const fileDone: Promise<void>[] = [];
  const streams: NodeJS.ReadableStream[] = [];

  const done = new Promise<void>((resolve, reject) => {
    bb.on('field', (name, value) => {
      out.fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const filename = info.filename ?? '';
      if (field !== 'file' || out.file || failure) {
        stream.resume();
        return;
      }
      if (!isGcodeName(filename)) {
        failure = new StorageError(415, `${filename || 'The file'} is not G-code (allowed: .gcode .gco .g .gc)`);
        stream.resume();
        return;
      }
      const path = tempPath();
      written = path;
      streams.push(stream);
      const guard = new GcodeGuard();
      let truncated = false;
      stream.on('limit', () => {
        truncated = true;
      });
      fileDone.push(
        pipeline(stream, guard, createWriteStream(path, { mode: 0o644 })).then(
          async () => {
            if (truncated) throw new StorageError(413, `The file is larger than the upload limit of ${maxBytes} bytes`);
            const fh = await open(path, 'r+');
            try {
              await fh.datasync();
            } finally {
              await fh.close();
            }
            out.file = { tempPath: path, filename, size: guard.size, hash: guard.hash.digest('hex') };
          },
          (err: Error) => {
            failure ??= err;
            stream.resume();
          },
        ).catch((err: Error) => {
          failure ??= err;
        }),
      );
    });
    bb.on('close', () => resolve());
    bb.on('error', (err: Error) => reject(new StorageError(400, `Bad multipart request: ${err.message}`)));
    req.on('close', () => {
      if (!req.complete) reject(new StorageError(400, 'The upload was aborted by the client'));
    });
    req.on('error', (err) => reject(new StorageError(400, `The upload failed: ${err.message}`)));
  });

  req.pipe(bb);
  try {
    await done;
    await Promise.all(fileDone);
    if (failure) throw failure;
    return out;
  } catch (err) {
    req.unpipe(bb);
    req.resume(); // drain so the client can read our answer
    // a half-received file part never ends by itself: end it, so its pipeline settles and the temp file goes
    for (const s of streams) (s as unknown as { destroy(err?: Error): void }).destroy(new Error('upload aborted'));
    await Promise.all(fileDone).catch(() => undefined);
    if (written) await import('node:fs/promises').then((fs) => fs.unlink(written!).catch(() => undefined));
    throw err instanceof StorageError ? err : new StorageError(400, (err as Error).message);
  }
}
