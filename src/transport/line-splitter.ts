// Splits a byte stream into lines (LF, with an optional CR before it). Lines are decoded as latin1: a byte
// per character, so a corrupted byte never throws and checksums over received text stay byte-exact.

const LF = 0x0a;
const CR = 0x0d;
const MAX_LINE = 4096; // a firmware line longer than this is garbage (wrong baud rate); cut it

export class LineSplitter {
  private rest: Buffer | undefined;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let start = 0;
    for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, start)) {
      const end = i > start && buf[i - 1] === CR ? i - 1 : i;
      this.onLine(buf.toString('latin1', start, end));
      start = i + 1;
    }
    if (start < buf.length) {
      if (buf.length - start > MAX_LINE) {
        this.onLine(buf.toString('latin1', start, start + MAX_LINE));
        return;
      }
      this.rest = Buffer.from(buf.subarray(start));
    }
  }
}
