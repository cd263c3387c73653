// Splits a byte stream into lines (LF, with an optional CR before it). Lines are decoded as latin1: a byte
// per character, so a corrupted byte never throws and checksums over received text stay byte-exact.

const LF = 0x0a;
const CR = 0x0d;
const MAX_LINE = 4096; // a firmware line longer than this is garbage (wrong baud rate); cut it

export class LineSplitter {
  private rest: Buffer | undefined;

  constructor(private readonly onLine: (line: string) => void) {}

  /** The bytes `chunk[0, length)`; the chunk may be reused once this returns (what is kept is copied). */
  push(chunk: Buffer, length = chunk.length): void {
    if (this.rest) {
      const buf = Buffer.concat([this.rest, chunk.subarray(0, length)]);
      this.rest = undefined;
      this.split(buf, buf.length);
    } else this.split(chunk, length);
  }

  /** Lines in `buf[0, length)`, searched within those bounds (the buffer may be a reused one, with stale bytes
   * past them): no view made per read, most reads being one short line (`ok`). */
  private split(buf: Buffer, length: number): void {
    let start = 0;
    for (let i = 0; i < length; i++) {
      if (buf[i] !== LF) continue;
      const end = i > start && buf[i - 1] === CR ? i - 1 : i;
      // a bare `ok` is most of what a printer says while it prints: the same string each time, no decoding
      this.onLine(end - start === 2 && buf[start] === 0x6f && buf[start + 1] === 0x6b ? 'ok' : buf.toString('latin1', start, end));
      start = i + 1;
    }
    if (start < length) {
      if (length - start > MAX_LINE) {
        this.onLine(buf.toString('latin1', start, start + MAX_LINE));
        return;
      }
      this.rest = Buffer.from(buf.subarray(start, length));
    }
  }
}
