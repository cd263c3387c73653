// Timelapses on disk: rendered videos (<name>.mp4 with a <name>.jpg poster) in the root, and each recording's
// frames in frames/<name>/frame-NNNNNN.jpg until they are rendered. Names never leave the folder.
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface VideoEntry {
  /** the file name, with .mp4 */
  name: string;
  bytes: number;
  date: number;
  thumbnail: string | null;
}

export interface FrameSetEntry {
  name: string;
  bytes: number;
  date: number;
  frames: number;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$/;
const FRAME = /^frame-(\d{6})\.jpg$/;

export function validTimelapseName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/** `<gcode name>_<YYYYMMDDHHMMSS>` as OctoPrint names them, with only safe characters. */
export function timelapseName(gcodePath: string, at: Date): string {
  const base = (gcodePath.split('/').pop() ?? 'print').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._-]+/, '') || 'print';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${base.slice(0, 150)}_${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
}

export function frameFileName(n: number): string {
  return `frame-${String(n).padStart(6, '0')}.jpg`;
}

export class TimelapseLibrary {
  readonly framesRoot: string;

  constructor(readonly root: string) {
    this.framesRoot = join(root, 'frames');
  }

  /** Creates the folders, and removes what a render cut short by a stop or a crash left (hidden .part files). */
  async init(): Promise<void> {
    await mkdir(this.framesRoot, { recursive: true });
    for (const n of await readdir(this.root)) if (n.startsWith('.') && n.endsWith('.part')) await rm(join(this.root, n), { force: true });
  }

  framesDir(name: string): string {
    return join(this.framesRoot, name);
  }

  videoPath(file: string): string {
    return join(this.root, file);
  }

  posterPath(name: string): string {
    return join(this.root, `${name}.jpg`);
  }

  async videos(): Promise<VideoEntry[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const jpgs = new Set(names.filter((n) => n.endsWith('.jpg')));
    const out: VideoEntry[] = [];
    for (const n of names) {
      if (!n.endsWith('.mp4') || !validTimelapseName(n)) continue; // hides .part files being rendered
      const s = await stat(join(this.root, n)).catch(() => undefined);
      if (!s?.isFile()) continue;
      const poster = `${n.slice(0, -4)}.jpg`;
      out.push({ name: n, bytes: s.size, date: s.mtimeMs, thumbnail: jpgs.has(poster) ? poster : null });
    }
    return out.sort((a, b) => b.date - a.date);
  }

  async frameSets(): Promise<FrameSetEntry[]> {
    const names = await readdir(this.framesRoot).catch(() => [] as string[]);
    const out: FrameSetEntry[] = [];
    for (const n of names) {
      if (!validTimelapseName(n)) continue;
      const dir = join(this.framesRoot, n);
      const files = await readdir(dir).catch(() => undefined);
      if (!files) continue;
      let bytes = 0;
      let frames = 0;
      let date = 0;
      for (const f of files) {
        const s = await stat(join(dir, f)).catch(() => undefined);
        if (!s) continue;
        bytes += s.size;
        date = Math.max(date, s.mtimeMs);
        if (FRAME.test(f)) frames++;
      }
      if (!date) date = (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0;
      out.push({ name: n, bytes, date, frames });
    }
    return out.sort((a, b) => b.date - a.date);
  }

  /** The frames of a recording in capture order, as absolute paths. */
  async frameFiles(name: string): Promise<string[]> {
    const dir = this.framesDir(name);
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => FRAME.test(f)).sort();
    return files.map((f) => join(dir, f));
  }

  async deleteVideo(file: string): Promise<void> {
    await rm(this.videoPath(file), { force: true });
    await rm(this.posterPath(file.replace(/\.mp4$/, '')), { force: true });
  }

  async deleteFrames(name: string): Promise<void> {
    await rm(this.framesDir(name), { recursive: true, force: true });
  }

  /** Moves a finished render into place (atomic) with the last frame as its poster. */
  async publish(name: string, partFile: string, lastFrame: string | undefined): Promise<void> {
    if (lastFrame) await copyFile(lastFrame, this.posterPath(name)).catch(() => undefined);
    await rename(partFile, this.videoPath(`${name}.mp4`));
  }

  /**
   * Deletes the oldest videos and frame sets until everything fits in `budget` bytes; `keep` names a recording
   * or render in progress. Returns what was removed.
   */
  async prune(budget: number, keep: ReadonlySet<string>): Promise<string[]> {
    const items = [
      ...(await this.videos()).map((v) => ({ name: v.name, key: v.name.replace(/\.mp4$/, ''), bytes: v.bytes, date: v.date, video: true })),
      ...(await this.frameSets()).map((f) => ({ name: f.name, key: f.name, bytes: f.bytes, date: f.date, video: false })),
    ].sort((a, b) => a.date - b.date);
    let total = items.reduce((n, i) => n + i.bytes, 0);
    const removed: string[] = [];
    for (const i of items) {
      if (total <= budget) break;
      if (keep.has(i.key)) continue;
      if (i.video) await this.deleteVideo(i.name);
      else await this.deleteFrames(i.name);
      total -= i.bytes;
      removed.push(i.name);
    }
    return removed;
  }
}
