// The temp file an upload streams into, as one Writable: each chunk is checked (size limit, NUL bytes) and hashed
// before a byte of it is written, and the chunks that queue up while one write is on disk go out together in the
// next writev. The file is fdatasynced in the background every SYNC_EVERY bytes, while the upload goes on, so the
// fsync it needs before anyone may see it has little left to flush when the body ends.
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { StorageError } from './storage.js';
import { collectYoungGarbage } from '../system/gc.js';

/** What may wait in memory for the disk: enough that the socket is read while a write is on disk (writes of 16 KB
 * one at a time, fs.WriteStream's default, halved the upload rate), small next to the server's RSS. */
export const SINK_HIGH_WATER_MARK = 1 << 20;
/** Chunks are written to the file in batches of at least this size (the last one may be smaller). */
export const WRITE_BATCH = 512 << 10;
/** Start writing the file back to disk every this many bytes, one fdatasync at a time. */
export const SYNC_EVERY = 8 << 20;
/** Free the request's spent chunk buffers every this many bytes (system/gc.ts says why): +38 MB peak RSS → ~+12. */
export const GC_EVERY = 4 << 20;

export const tooBig = (maxBytes: number) => new StorageError(413, `The file is larger than the upload limit of ${maxBytes} bytes`);

export class UploadSink extends Writable {
  readonly hash = createHash('sha1');
  /** bytes accepted (checked, hashed and queued for the disk) */
  size = 0;
  /** checked chunks waiting for the next write, and their length */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** the write on disk now (one at a time: the file grows in order) */
  private writing: Promise<void> | undefined;
  /** a write callback held back while a full batch waits: the stream buffers (then pauses the request) meanwhile */
  private held: ((err?: Error | null) => void) | undefined;
  private unsynced = 0;
  private sinceGc = 0;
  private syncing: Promise<void> | undefined;
  /** the first write or sync failure: every later write, and the end, fail with it */
  private failure: Error | undefined;
  /** resolves once the file is closed (after a finish or a destroy): only then may it be unlinked */
  readonly fileClosed: Promise<void>;

  private constructor(
    private readonly fh: FileHandle,
    private readonly maxBytes: number,
  ) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK, decodeStrings: false });
    this.fileClosed = new Promise((resolve) => this.once('close', () => resolve()));
  }

  /** Creates the file: 'wx', a fresh file, never an existing one (nor whatever a symlink planted there points to). */
  static async create(path: string, maxBytes: number): Promise<UploadSink> {
    return new UploadSink(await open(path, 'wx', 0o644), maxBytes);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.accept([chunk], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.accept(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  private accept(buffers: Buffer[], cb: (err?: Error | null) => void): void {
    if (this.failure) return cb(this.failure);
    if (this.sinceGc >= GC_EVERY) {
      // the chunks written so far are garbage now; these and the pending ones are still referenced
      this.sinceGc = 0;
      collectYoungGarbage();
    }
    let bytes = 0;
    for (const b of buffers) {
      bytes += b.length;
      // refused before any of it is queued for the disk
      if (this.size + bytes > this.maxBytes) return cb(tooBig(this.maxBytes));
      if (b.includes(0)) return cb(new StorageError(415, 'The file contains binary data (NUL bytes); only G-code text files can be uploaded'));
    }
    for (const b of buffers) {
      this.hash.update(b);
      this.pending.push(b);
    }
    this.size += bytes;
    this.sinceGc += bytes;
    this.pendingBytes += bytes;
    // 64 KB chunks arrive faster than one write each reaches the page cache: gather them into batches
    if (!this.writing && this.pendingBytes >= WRITE_BATCH) this.writePending();
    if (this.writing && this.pendingBytes >= WRITE_BATCH) this.held = cb;
    else cb();
  }

  private writePending(): void {
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = writeAll(this.fh, buffers, bytes).then(
      () => {
        this.writing = undefined;
        this.unsynced += bytes;
        if (this.unsynced >= SYNC_EVERY && !this.syncing) {
          this.unsynced = 0;
          this.syncing = this.fh.datasync().then(
            () => void (this.syncing = undefined),
            (err: Error) => void ((this.failure ??= err), (this.syncing = undefined)),
          );
        }
        if (this.pendingBytes >= WRITE_BATCH) this.writePending();
        this.release();
      },
      (err: Error) => {
        this.writing = undefined;
        this.failure ??= err;
        this.release();
      },
    );
  }

  private release(): void {
    const cb = this.held;
    if (!cb || (this.writing && this.pendingBytes >= WRITE_BATCH && !this.failure)) return;
    this.held = undefined;
    cb(this.failure);
  }

  override _final(cb: (err?: Error | null) => void): void {
    // what is left, then one fdatasync: the background syncs have flushed most of the file already
    void (async () => {
      while (this.writing || (this.pendingBytes > 0 && !this.failure)) {
        if (!this.writing) this.writePending();
        await this.writing;
      }
      await this.syncing;
      if (this.failure) throw this.failure;
      await this.fh.datasync();
    })().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.pending = [];
    // close() waits for the write and sync still in flight on the handle
    void (async () => {
      await this.syncing;
      await this.fh.close();
    })().then(
      () => cb(err),
      (closeErr: Error) => cb(err ?? closeErr),
    );
  }
}

/** writev until every byte is on its way to disk: a short write (the disk filling up) is retried with the rest, which
 * then fails with the reason (ENOSPC). */
async function writeAll(fh: FileHandle, buffers: Buffer[], bytes: number): Promise<void> {
  let left = buffers;
  let remaining = bytes;
  for (;;) {
    const { bytesWritten } = await fh.writev(left);
    remaining -= bytesWritten;
    if (remaining <= 0) return;
    if (bytesWritten === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO', syscall: 'write' });
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of left) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    left = rest;
  }
}
