// Cuts ffmpeg's `-f mpjpeg` output into JPEG frames using the Content-length each part states (no scanning of
// image bytes). Frames are handed out as their own Buffers; partial parts wait for more data.

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER = 4096;
const MAX_FRAME = 16 * 1024 * 1024;

export class MpjpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private need = -1; // bytes of frame still expected, -1 while reading headers

  constructor(
    private readonly onFrame: (jpeg: Buffer) => void,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.need < 0) {
        const start = this.buf.indexOf('--');
        if (start < 0) {
          if (this.buf.length > MAX_HEADER) this.buf = Buffer.alloc(0);
          return;
        }
        const end = this.buf.indexOf(HEADER_END, start);
        if (end < 0) {
          if (this.buf.length - start > MAX_HEADER) {
            this.onError('multipart header too long; resynchronising');
            this.buf = this.buf.subarray(start + 2);
            continue;
          }
          return;
        }
        const headers = this.buf.toString('latin1', start, end);
        const m = /content-length:\s*(\d+)/i.exec(headers);
        this.buf = this.buf.subarray(end + HEADER_END.length);
        if (!m) {
          this.onError('multipart part without Content-length; skipped');
          continue;
        }
        const length = Number(m[1]);
        if (length <= 0 || length > MAX_FRAME) {
          this.onError(`implausible frame length ${length}; skipped`);
          continue;
        }
        this.need = length;
      }
      if (this.buf.length < this.need) return;
      const frame = Buffer.from(this.buf.subarray(0, this.need)); // a copy: the frame outlives this buffer
      this.buf = this.buf.subarray(this.need);
      if (this.buf.subarray(0, 2).equals(CRLF)) this.buf = this.buf.subarray(2);
      this.need = -1;
      this.onFrame(frame);
    }
  }
}
