// The configured camera: resolves the source (auto-detect, a device, the Pi camera, the test pattern), owns the
// capture and its relay, and swaps them when the camera settings change.
import type { Logger } from '../log.js';
import { CameraCapture } from './capture.js';
import { resolveSource } from './detect.js';
import { MjpegRelay } from './relay.js';

export interface CameraWanted {
  source: string;
  width: number;
  height: number;
  fps: number;
}

export class Camera {
  capture: CameraCapture | undefined;
  relay: MjpegRelay | undefined;
  /** what runs, for the log and the settings page */
  label = 'none';
  private applied = '';

  constructor(private readonly log: Logger) {}

  async apply(want: CameraWanted): Promise<void> {
    const key = JSON.stringify(want);
    if (key === this.applied) return;
    this.applied = key;
    const old = this.capture;
    this.capture = undefined;
    this.relay = undefined;
    this.label = 'none';
    await old?.close();
    if (want.source === 'none') return;
    const r = await resolveSource(want.source, want);
    if (this.applied !== key) return; // changed again meanwhile
    if ('error' in r) {
      this.log.warn(`camera: ${want.source}: ${r.error}; no camera`);
      return;
    }
    this.capture = new CameraCapture(r.source, this.log);
    this.relay = new MjpegRelay(this.capture);
    this.label = r.label;
    this.log.info(`camera: ${r.label}, ${r.source.kind} ${r.source.width}x${r.source.height}@${r.source.fps} (started when someone watches)`);
  }

  async close(): Promise<void> {
    this.applied = 'closed';
    await this.capture?.close();
  }
}
