// Cuts a bare stream of concatenated JPEGs (rpicam-vid --codec mjpeg -o -) into frames by walking the JPEG
// structure: marker segments are skipped by their stated lengths, so an EXIF thumbnail (a whole JPEG inside
// APP1) or a comment holding FF D9 cannot end a frame early, as a naive FFD8…FFD9 split would. After SOS the
// entropy-coded data runs to the first marker that is not a stuffed FF00 or a restart marker: EOI.

const MAX_FRAME = 16 * 1024 * 1024;

type Phase = 'seek-soi' | 'segments' | 'entropy';

export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0; // where parsing resumes in buf
  private start = -1; // SOI of the frame being read
  private phase: Phase = 'seek-soi';

  constructor(
    private readonly onFrame: (jpeg: Buffer) => void,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const b = this.buf;
    for (;;) {
      if (this.phase === 'seek-soi') {
        const soi = b.indexOf(0xffd8 >> 8, this.pos);
        if (soi < 0 || soi + 1 >= b.length) return this.compact(soi < 0 ? b.length : soi);
        if (b[soi + 1] !== 0xd8) {
          this.pos = soi + 1;
          continue;
        }
        this.start = soi;
        this.pos = soi + 2;
        this.phase = 'segments';
      }
      if (this.phase === 'segments') {
        if (this.pos + 2 > b.length) return this.compact(this.start);
        if (b[this.pos] !== 0xff) {
          this.onError('corrupt JPEG (no marker where one belongs); resynchronising');
          this.resync();
          continue;
        }
        const marker = b[this.pos + 1]!;
        if (marker === 0xff) {
          this.pos++; // fill byte
          continue;
        }
        if (marker === 0xd9) {
          this.emit(this.pos + 2);
          continue;
        }
        if (this.pos + 4 > b.length) return this.compact(this.start);
        const length = b.readUInt16BE(this.pos + 2);
        if (length < 2) {
          this.onError('corrupt JPEG segment length; resynchronising');
          this.resync();
          continue;
        }
        if (this.pos + 2 + length > b.length) return this.compact(this.start);
        this.pos += 2 + length;
        if (marker === 0xda) this.phase = 'entropy';
        if (this.pos - this.start > MAX_FRAME) {
          this.onError('JPEG frame too large; dropped');
          this.resync();
        }
        continue;
      }
      // entropy-coded data: look for FF followed by something other than 00 (stuffing) or D0-D7 (restart)
      let i = b.indexOf(0xff, this.pos);
      while (i >= 0 && i + 1 < b.length) {
        const next = b[i + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          i = b.indexOf(0xff, i + (next === 0xff ? 1 : 2));
          continue;
        }
        break;
      }
      if (i < 0 || i + 1 >= b.length) {
        this.pos = i < 0 ? b.length : i;
        if (this.pos - this.start > MAX_FRAME) {
          this.onError('JPEG frame too large; dropped');
          this.resync();
          continue;
        }
        return this.compact(this.start);
      }
      if (b[i + 1] === 0xd9) this.emit(i + 2);
      else {
        // a marker inside the scan (progressive JPEGs have several scans): back to segments
        this.pos = i;
        this.phase = 'segments';
      }
    }
  }

  private emit(end: number): void {
    this.onFrame(Buffer.from(this.buf.subarray(this.start, end)));
    this.pos = end;
    this.start = -1;
    this.phase = 'seek-soi';
  }

  private resync(): void {
    this.pos = this.start + 1;
    this.start = -1;
    this.phase = 'seek-soi';
  }

  /** Drops bytes before `keepFrom` so the buffer holds only the frame in progress. */
  private compact(keepFrom: number): void {
    const from = keepFrom < 0 ? this.buf.length : keepFrom;
    if (from > 0) {
      this.buf = this.buf.subarray(from);
      this.pos = Math.max(0, this.pos - from);
      if (this.start >= 0) this.start -= from;
    }
  }
}
