// The temp file an upload streams into. Each piece of the file is checked (size limit, NUL bytes) and hashed before
// a byte of it is queued for the disk, and the pieces that arrive while one write is on disk go out together in the
// next writev (in libuv's thread pool, off the main thread). The file is fdatasynced in the background every
// SYNC_EVERY bytes while the upload goes on, so the fsync it needs before anyone may see it has little left to
// flush when the body ends. A plain object, not a stream.Writable: the upload hands it each piece straight from
// the multipart parser, and a stream's per-chunk bookkeeping cost as much as the hash (profiled).
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { StorageError } from './storage.js';
import { collectYoungGarbage } from '../system/gc.js';
import { HEAP_TOP_KEPT } from '../node-flags.js';

/** What may wait in memory for the disk before the request is paused: enough that the socket is read while a
 * write is on disk, small next to the server's RSS. */
export const SINK_HIGH_WATER_MARK = 1 << 20;
/** Pieces are written to the file in batches of at least this size (the last one may be smaller). */
export const WRITE_BATCH = 512 << 10;
/** Start writing the file back to disk every this many bytes, one fdatasync at a time. */
export const SYNC_EVERY = 8 << 20;
/** Free the request's spent chunk buffers every this many bytes (system/gc.ts says why): +38 MB peak RSS → ~+5.
 * As much as the heap top glibc keeps (node-flags.ts), so the next pieces reuse the pages the freed ones had: 100 MB
 * into a fresh server, 6 runs each, interleaved, median 329 MB/s with every 4 MB, 361 with every 2 MB (~25 more
 * scavenges of ~0.5 ms, fewer page faults), 287 with every 8 MB. */
export const GC_EVERY = HEAP_TOP_KEPT;

export const tooBig = (maxBytes: number) => new StorageError(413, `The file is larger than the upload limit of ${maxBytes} bytes`);
export const binary = () => new StorageError(415, 'The file contains binary data (NUL bytes); only G-code text files can be uploaded');

export class UploadSink {
  readonly hash = createHash('sha1');
  /** bytes accepted (checked, hashed and queued for the disk) */
  size = 0;
  private fh: FileHandle | undefined;
  private readonly opening: Promise<void>;
  /** checked pieces waiting for the next write, and their length */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** the write on disk now (one at a time: the file grows in order) */
  private writing: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private unsynced = 0;
  private sinceGc = 0;
  /** the first open, write or sync failure: reported once, and every later call fails with it */
  private failure: Error | undefined;
  private drained: (() => void) | undefined;
  private stopped = false;

  /** Creates the file: 'wx', a fresh file, never an existing one (nor whatever a symlink planted there points to).
   * `onError` hears the first failure of the disk (open, write or sync) as it happens. */
  constructor(
    path: string,
    private readonly maxBytes: number,
    private readonly onError: (err: Error) => void,
  ) {
    this.opening = open(path, 'wx', 0o644).then(
      (fh) => {
        this.fh = fh;
        if (this.stopped) return;
        if (this.pendingBytes > 0) this.writePending();
      },
      (err: Error) => this.fail(err),
    );
  }

  /** Checks, hashes and queues the next piece of the file; throws (413, 415) without queuing any of it if it is
   * refused. Returns false when the caller should stop reading until `onDrain`'s callback. */
  write(piece: Buffer): boolean {
    if (this.failure) throw this.failure;
    if (this.size + piece.length > this.maxBytes) throw tooBig(this.maxBytes);
    if (piece.includes(0)) throw binary();
    this.hash.update(piece);
    this.pending.push(piece);
    this.size += piece.length;
    this.pendingBytes += piece.length;
    this.sinceGc += piece.length;
    if (this.sinceGc >= GC_EVERY) {
      // the pieces written so far are garbage now; the pending ones are still referenced
      this.sinceGc = 0;
      collectYoungGarbage();
    }
    // pieces arrive faster than one write each reaches the page cache: gather them into batches
    if (this.fh && !this.writing && this.pendingBytes >= WRITE_BATCH) this.writePending();
    return this.pendingBytes < SINK_HIGH_WATER_MARK;
  }

  /** `resume` is called once when the queue has room again (after `write` returned false). */
  onDrain(resume: () => void): void {
    this.drained = resume;
  }

  /** Writes what is left and fdatasyncs the file, then closes it; rejects with the first failure. */
  async end(): Promise<void> {
    await this.opening;
    while ((this.writing || this.pendingBytes > 0) && !this.failure) {
      if (!this.writing) this.writePending();
      await this.writing;
    }
    await this.syncing;
    if (!this.failure) await this.fh!.datasync().catch((err: Error) => this.fail(err));
    await this.close();
    if (this.failure) throw this.failure;
  }

  /** Stops writing and closes the file, once the write and sync in flight on it are done: only then may it be
   * unlinked (an unlink before a pending open lands would leave the file it creates behind). */
  async discard(): Promise<void> {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
    await this.opening;
    await this.writing;
    await this.syncing;
    await this.close();
  }

  private async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onError(err);
  }

  private writePending(): void {
    const pieces = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = writeAll(this.fh!, pieces, bytes).then(
      () => {
        this.writing = undefined;
        if (this.stopped) return;
        this.unsynced += bytes;
        if (this.unsynced >= SYNC_EVERY && !this.syncing) {
          this.unsynced = 0;
          this.syncing = this.fh!.datasync().then(
            () => void (this.syncing = undefined),
            (err: Error) => void ((this.syncing = undefined), this.fail(err)),
          );
        }
        if (this.pendingBytes >= WRITE_BATCH) this.writePending();
        this.release();
      },
      (err: Error) => {
        this.writing = undefined;
        this.fail(err);
      },
    );
  }

  private release(): void {
    if (!this.drained || this.pendingBytes >= SINK_HIGH_WATER_MARK) return;
    const resume = this.drained;
    this.drained = undefined;
    resume();
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
