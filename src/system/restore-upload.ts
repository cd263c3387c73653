// Receives a backup archive for a restore: the one file part of a multipart request, streamed to a temp file in the
// data directory (the same file system the restore unpacks to), never held in memory, stopped at its size limit.
import type { IncomingMessage } from 'node:http';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type BusboyModule from 'busboy';
import { ServiceError } from '../service-error.js';

// CommonJS: require() it, when the first restore comes
const busboy = (config: BusboyModule.BusboyConfig) => (createRequire(import.meta.url)('busboy') as typeof BusboyModule)(config);

/** Resolves with the temp file's size once the whole part is on disk; on any failure the temp file is gone. */
export async function receiveArchive(req: IncomingMessage, path: string, maxBytes: number): Promise<number> {
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) throw new ServiceError(400, 'Expected a multipart/form-data upload with the backup as its file');
  let bb: BusboyModule.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes + 1, fields: 8, fieldSize: 1024 } });
  } catch (err) {
    throw new ServiceError(400, `Bad multipart request: ${(err as Error).message}`);
  }
  let size = 0;
  let writing: Promise<void> | undefined;
  let part: Readable | undefined;
  const received = new Promise<void>((resolve, reject) => {
    bb.on('file', (_field, stream) => {
      if (part) return void stream.resume();
      part = stream;
      stream.on('data', (c: Buffer) => (size += c.length));
      stream.on('limit', () => reject(new ServiceError(413, `The backup is larger than ${Math.round(maxBytes / 1024 ** 2)} MB`)));
      writing = pipeline(stream, createWriteStream(path, { flags: 'wx', mode: 0o600 })).catch((err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOSPC' || err.code === 'EDQUOT' ? new ServiceError(507, 'Not enough free disk space for the backup') : new ServiceError(400, `The upload failed: ${err.message}`));
      });
    });
    bb.on('close', () => void (writing ?? Promise.resolve()).then(() => (part ? resolve() : reject(new ServiceError(400, 'No backup file in the upload')))));
    bb.on('error', (err: Error) => reject(new ServiceError(400, `Bad multipart request: ${err.message}`)));
    req.on('close', () => {
      if (!req.complete) reject(new ServiceError(400, 'The upload was aborted by the client'));
    });
  });
  req.pipe(bb);
  try {
    await received;
    return size;
  } catch (err) {
    req.unpipe(bb);
    part?.destroy();
    await writing;
    await unlink(path).catch(() => undefined);
    throw err;
  }
}
