// Feeds a print job's lines to the protocol engine straight from disk, 64 KB at a time, reading ahead so the
// engine never waits on the disk. Tracks the byte position (for progress) and the motion/extrusion modes the
// file has set (for pause and resume). A command line is looked into once the engine has sent it (`sent`), not
// before: the printer is already working on it meanwhile, instead of waiting for the host to finish reading it.
import { type FileHandle, open } from 'node:fs/promises';
import type { LineSource } from '../printer/protocol.js';
import { commandKey, G, M, type MoveWords, param, readMoveWords } from '../printer/gcode.js';

const CHUNK = 64 * 1024;

export interface MotionModes {
  absoluteXYZ: boolean;
  absoluteE: boolean;
  /** last commanded feed rate, mm/min */
  feedrate: number;
  z: number;
  /** the extruder position as the file counts it (absolute E) */
  e: number;
  /** part-cooling fan, 0-255 */
  fan: number;
}

/** The one FileLineSource that lives for the whole process (the class's static block says why). */
const SHAPE_KEEPER: FileLineSource[] = [];

/** Called when a layer starts: `filepos` is the byte offset of the line that starts it. */
export type LayerListener = (layer: number, filepos: number, modes: MotionModes) => void;

export class FileLineSource implements LineSource {
  /** Bytes of the file handed to the engine so far. */
  filepos = 0;
  paused = false;
  private readonly tracked: MotionModes = { absoluteXYZ: true, absoluteE: true, feedrate: 1500, z: 0, e: 0, fan: 0 };
  /** the command line handed out last, not looked into yet, and where it starts */
  private unobserved: string | undefined;
  private unobservedStart = 0;
  onLayer: LayerListener | undefined;
  /** 'comments': slicer layer comments (;LAYER_CHANGE, ;LAYER:n); 'z': the first extruding move above the highest
   * layer so far (files without comments; rejects z-hops and travel moves) */
  layerMarker: 'comments' | 'z' = 'comments';
  private layer = 0;
  private topZ = -Infinity;
  /** where the line that moved Z up last starts: a layer found by 'z' starts there, with its travel move */
  private zLineStart = 0;
  private text = '';
  private idx = 0;
  private readPos = 0;
  private next_: Promise<string> | undefined;
  private eof = false;
  private loading = false;
  private fh: FileHandle | undefined;
  private readonly words: MoveWords = { f: NaN, z: NaN, e: NaN, xy: false };

  /**
   * Never used: it keeps the class's hidden classes (V8 maps) alive between jobs. An instance's map is reached only
   * through the weak transitions from the constructor's empty one, so once a job's source died at its end the next
   * GC collected those maps, and with them the optimized send path (pump, nextJobLine, next, observe, done) that had
   * them embedded and the feedback that named them: every print recompiled it, twice or more, as the new maps
   * settled. Held here (SHAPE_KEEPER), every job's source gets the same map from the first line on.
   */
  static {
    SHAPE_KEEPER.push(new FileLineSource(0, () => undefined, () => undefined));
  }

  private constructor(
    private readonly size: number,
    private readonly onReady: () => void,
    private readonly onError: (err: Error) => void,
  ) {}

  static async open(path: string, size: number, onReady: () => void, onError: (err: Error) => void, startAt = 0): Promise<FileLineSource> {
    const src = new FileLineSource(size, onReady, onError);
    src.fh = await open(path, 'r');
    src.readPos = startAt;
    src.filepos = startAt;
    src.text = await src.read();
    src.prefetch();
    return src;
  }

  /** The modes as of every line handed out so far. */
  get modes(): MotionModes {
    this.sent();
    return this.tracked;
  }

  /** The line handed out last has gone to the printer: its modes and layer count now. */
  sent(): void {
    const line = this.unobserved;
    if (line === undefined) return;
    this.unobserved = undefined;
    this.observe(line, this.unobservedStart);
  }

  get done(): boolean {
    return this.eof && this.idx >= this.text.length && this.next_ === undefined;
  }

  next(): string | undefined {
    if (this.paused) return undefined;
    if (this.unobserved !== undefined) this.sent();
    const nl = this.text.indexOf('\n', this.idx);
    if (nl < 0) {
      if (this.next_ === undefined && this.eof) {
        if (this.idx >= this.text.length) return undefined;
        const last = this.text.slice(this.idx);
        const start = this.filepos;
        this.filepos += last.length;
        this.idx = this.text.length;
        void this.close();
        return this.handOut(last, start);
      }
      this.swapIn();
      return undefined;
    }
    const line = this.text.slice(this.idx, nl);
    const start = this.filepos;
    this.filepos += nl + 1 - this.idx;
    this.idx = nl + 1;
    return this.handOut(line, start);
  }

  /** A comment (a layer marker among them) is looked into now: the engine never sends one. */
  private handOut(line: string, start: number): string {
    if (line.charCodeAt(0) === 59 /* ; */) return this.observe(line, start);
    this.unobserved = line;
    this.unobservedStart = start;
    return line;
  }

  /** Gantry stops with this job unfinished: no line is handed out any more and the file is closed now, not left to
   * the garbage collector (Node warns, and means to throw). A resume starts from the job's checkpoint, not from here. */
  release(): Promise<void> {
    this.paused = true;
    return this.close();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /** Layers already printed before this source's first line (resuming mid-file). */
  startLayerCount(n: number): void {
    this.layer = n;
  }

  private observe(line: string, lineStart: number): string {
    const modes = this.tracked;
    if (line.charCodeAt(0) === 59 /* ; */) {
      if (this.onLayer && this.layerMarker === 'comments' && (line === ';LAYER_CHANGE' || line.startsWith(';LAYER:'))) this.onLayer(++this.layer, lineStart, modes);
      return line;
    }
    const key = commandKey(line);
    if (key < 0) return line;
    if (key === G(90)) modes.absoluteXYZ = modes.absoluteE = true;
    else if (key === G(91)) modes.absoluteXYZ = modes.absoluteE = false;
    else if (key === M(82)) modes.absoluteE = true;
    else if (key === M(83)) modes.absoluteE = false;
    else if (key === G(0) || key === G(1)) {
      const { f, z, e, xy } = readMoveWords(line, this.words);
      if (f > 0) modes.feedrate = f;
      if (Number.isFinite(z)) {
        const nz = modes.absoluteXYZ ? z : modes.z + z;
        if (nz > modes.z) this.zLineStart = lineStart;
        modes.z = nz;
      }
      if (Number.isFinite(e)) {
        const extrudes = modes.absoluteE ? e > modes.e : e > 0;
        modes.e = modes.absoluteE ? e : modes.e + e;
        // an extruding move across the bed, not a bare unretract (which some slicers do at z-hop height)
        if (extrudes && this.layerMarker === 'z' && modes.z > this.topZ + 1e-6 && xy) {
          this.topZ = modes.z;
          this.onLayer?.(++this.layer, this.zLineStart, modes);
        }
      }
    } else if (key === G(92)) {
      const e = param(line, 'E');
      if (Number.isFinite(e)) modes.e = e;
    } else if (key === M(106)) {
      const s = param(line, 'S');
      modes.fan = Number.isFinite(s) ? s : 255;
    } else if (key === M(107)) modes.fan = 0;
    return line;
  }

  private async read(): Promise<string> {
    if (!this.fh) return '';
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await this.fh.read(buf, 0, CHUNK, this.readPos);
    this.readPos += bytesRead;
    if (bytesRead === 0 || this.readPos >= this.size) this.eof = true;
    return buf.toString('latin1', 0, bytesRead);
  }

  private prefetch(): void {
    if (this.eof || this.next_) return;
    this.next_ = this.read();
  }

  private swapIn(): void {
    const pending = this.next_;
    if (!pending || this.loading) return;
    this.loading = true;
    pending.then(
      (more) => {
        // next() cannot advance while it waits for a newline, so idx is where it was
        this.text = this.text.slice(this.idx) + more;
        this.idx = 0;
        this.next_ = undefined;
        this.loading = false;
        this.prefetch();
        this.onReady();
      },
      (err: Error) => this.onError(err),
    );
  }
}
