// Fans the newest camera frame out to every viewer as multipart/x-mixed-replace, written straight to the Node
// response (Hono's ReadableStream path lagged seconds at 50 viewers here). Each viewer has at most one frame in
// flight: while its socket is busy, new frames pass it by, and when it frees up it gets the newest. A stalled
// viewer therefore costs one frame of memory and never slows the others.
import type { ServerResponse } from 'node:http';
import type { CameraCapture } from './capture.js';

export const BOUNDARY = 'boundarydonotcross'; // mjpg-streamer's, which clients expect
const CRLF = Buffer.from('\r\n');

export class MjpegRelay {
  private viewers = 0;
  /** the most bytes any one viewer had queued (tests and the bench read it) */
  maxQueuedBytes = 0;

  /** the newest frame as one multipart part (boundary, headers, JPEG), built once and shared by every viewer */
  private part: { frameNo: number; bytes: Buffer } | undefined;

  constructor(private readonly capture: CameraCapture) {}

  private newestPart(): Buffer | undefined {
    const jpeg = this.capture.latest;
    if (!jpeg) return undefined;
    if (this.part?.frameNo !== this.capture.frameNo) {
      const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      this.part = { frameNo: this.capture.frameNo, bytes: Buffer.concat([head, jpeg, CRLF]) };
    }
    return this.part.bytes;
  }

  get viewerCount(): number {
    return this.viewers;
  }

  stream(res: ServerResponse): void {
    // raw body as mjpg-streamer sends it, ended by closing the connection: no chunk framing around every frame
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      Connection: 'close',
      'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'Cache-Control': 'no-cache, no-store, must-revalidate, private',
      Pragma: 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    this.viewers++;
    const release = this.capture.acquire();
    let busy = false;
    let sent = 0;
    const sendNewest = () => {
      if (busy || res.destroyed || this.capture.frameNo === sent) return;
      const part = this.newestPart();
      if (!part) return;
      sent = this.capture.frameNo;
      busy = true;
      res.write(part, () => {
        busy = false;
        sendNewest();
      });
      if (res.writableLength > this.maxQueuedBytes) this.maxQueuedBytes = res.writableLength;
    };
    const off = this.capture.onFrame(sendNewest);
    res.once('close', () => {
      off();
      release();
      this.viewers--;
    });
    sendNewest();
  }

  async snapshot(res: ServerResponse): Promise<void> {
    const jpeg = await this.capture.nextFrame();
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-cache, no-store, private' });
    res.end(jpeg);
  }
}
