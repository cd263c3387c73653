// G-code analysis: one pass over the bytes, no string per line. Print time (kinematic model), filament per
// tool, printing and travel area, layers, slicer metadata and embedded thumbnails.
import { open } from 'node:fs/promises';
import { type MachineLimits, TimeEstimator, defaultLimits } from './kinematics.js';

export interface Thumbnail {
  width: number;
  height: number;
  format: 'png' | 'jpg' | 'qoi';
  data: Buffer;
}

export interface Box {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  minZ: number;
  maxZ: number;
}

export interface GcodeAnalysis {
  estimatedPrintTime: number;
  filament: Record<string, { length: number; volume: number }>;
  printingArea: Box | null;
  travelArea: Box | null;
  dimensions: { width: number; depth: number; height: number } | null;
  layers: {
    count: number;
    firstLayerHeight: number | null;
    layerHeight: number | null;
    /** how a print of this file tells layer changes: slicer comments, or the first extrusion at a new height */
    marker: 'comments' | 'z';
  };
  slicer: { name: string | null; version: string | null; estimatedPrintTime: number | null; filamentUsedMm: number | null; settings: Record<string, string> };
  thumbnails: Thumbnail[];
  lines: number;
  bytes: number;
}

export interface AnalysisOptions {
  limits?: MachineLimits;
  filamentDiameter?: number;
}

const KEPT_SETTINGS = new Set([
  'layer_height', 'first_layer_height', 'nozzle_diameter', 'filament_type', 'filament_diameter', 'filament_settings_id',
  'print_settings_id', 'printer_model', 'printer_settings_id', 'temperature', 'bed_temperature', 'fill_density', 'perimeters', 'support_material',
  // the bed the file was sliced for (PrusaSlicer/SuperSlicer: bed_shape, OrcaSlicer/Bambu Studio: printable_area)
  'bed_shape', 'printable_area',
]);
/** Cura's header keys (`;KEY:value`) for what a farm matches a printer by, under the names PrusaSlicer uses. Marlin
 * flavour writes TARGET_MACHINE.NAME and, in recent versions, NOZZLE_DIAMETER; Griffin (Ultimaker) the
 * EXTRUDER_TRAIN lines. */
const CURA_KEYS = new Map([
  ['TARGET_MACHINE.NAME', 'printer_model'],
  ['NOZZLE_DIAMETER', 'nozzle_diameter'],
  ['EXTRUDER_TRAIN.0.NOZZLE.DIAMETER', 'nozzle_diameter'],
]);
/** the settings PrusaSlicer-style slicers also write outside their config block (OrcaSlicer's CONFIG_BLOCK_START,
 * a header): `; key = value` */
const LOOSE_SETTING = /^(layer_height|first_layer_height|nozzle_diameter|filament_type|filament_diameter|printer_model|bed_shape|printable_area) = /;
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const C_SEMI = 59;
const C_NL = 10;
const C_CR = 13;
const C_SPACE = 32;
const C_TAB = 9;
/** No G-code line comes near this (thumbnails are cut into lines of ~80 characters). */
const MAX_LINE = 1 << 20;
const READ_SIZE = 256 * 1024;

/** Streaming analyser: feed it chunks, then call finish(). */
export class GcodeAnalyzer {
  private readonly est: TimeEstimator;
  private readonly diameter: number;
  private carry: Buffer | null = null;
  private lines = 0;
  private bytes = 0;
  // machine state
  private x = 0;
  private y = 0;
  private z = 0;
  private e = 0;
  private f = 1500 / 60; // mm/s
  private absXYZ = true;
  private absE = true;
  private tool = 0;
  private readonly extruded: number[] = [0];
  private readonly print: Box = emptyBox();
  private readonly travel: Box = emptyBox();
  // layers
  private layerComments = 0;
  private zComments = 0;
  private lastCommentZ = NaN;
  private readonly layerZs: number[] = [];
  private lastLayerZ = -Infinity;
  // metadata
  private readonly settings: Record<string, string> = {};
  private slicerName: string | null = null;
  private slicerVersion: string | null = null;
  private slicerTime: number | null = null;
  private slicerFilament: number | null = null;
  private inConfig = false;
  private thumb: { width: number; height: number; format: Thumbnail['format']; parts: string[] } | null = null;
  private readonly thumbnails: Thumbnail[] = [];
  // scratch for the number parser
  private numEnd = 0;

  constructor(opts: AnalysisOptions = {}) {
    this.est = new TimeEstimator(opts.limits ? structuredClone(opts.limits) : defaultLimits());
    this.diameter = opts.filamentDiameter ?? 1.75;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    if (this.carry) {
      // the line the last chunk ended in: join only that line, never the whole chunk (a copy of every chunk was
      // most of what the analysis allocated)
      const nl = chunk.indexOf(C_NL);
      if (nl < 0) {
        this.carry = this.longer(this.carry, chunk);
        return;
      }
      const line = this.longer(this.carry, chunk.subarray(0, nl));
      this.carry = null;
      this.line(line, 0, line.length);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf(C_NL, start); nl >= 0; nl = chunk.indexOf(C_NL, start)) {
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    // a copy: the caller reuses its buffer
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start, start + MAX_LINE));
  }

  /** A line continued; its first MAX_LINE bytes are all that is kept. A file with no line breaks (CR-only, or not
   * G-code at all) would otherwise be held whole, outside the heap limit. */
  private longer(head: Buffer, more: Buffer): Buffer {
    return head.length >= MAX_LINE ? head : Buffer.concat([head, more.subarray(0, MAX_LINE - head.length)]);
  }

  finish(): GcodeAnalysis {
    if (this.carry) {
      this.line(this.carry, 0, this.carry.length);
      this.carry = null;
    }
    const area = (b: Box) => (b.minX === Infinity ? null : { ...b });
    const printingArea = area(this.print);
    const filament: GcodeAnalysis['filament'] = {};
    const crossSection = Math.PI * (this.diameter / 2) ** 2;
    this.extruded.forEach((len, i) => {
      if (len > 0) filament[`tool${i}`] = { length: round(len, 2), volume: round((len * crossSection) / 1000, 3) };
    });
    const zs = this.layerZs;
    const count = this.zComments > 0 ? this.zComments : this.layerComments > 0 ? this.layerComments : zs.length;
    const configured = Number(this.settings['layer_height']);
    return {
      estimatedPrintTime: round(this.est.total(), 1),
      filament,
      printingArea,
      travelArea: area(this.travel),
      dimensions: printingArea
        ? { width: round(printingArea.maxX - printingArea.minX, 3), depth: round(printingArea.maxY - printingArea.minY, 3), height: round(printingArea.maxZ - printingArea.minZ, 3) }
        : null,
      layers: {
        count,
        firstLayerHeight: zs.length > 0 ? round(zs[0]!, 3) : null,
        // spiral vases climb continuously: the slicer's setting is the truth there
        layerHeight: Number.isFinite(configured) && configured > 0 ? configured : zs.length > 2 ? round(median(zs.slice(1).map((z, i) => z - zs[i]!)), 3) : null,
        marker: this.layerComments > 0 ? 'comments' : 'z',
      },
      slicer: { name: this.slicerName, version: this.slicerVersion, estimatedPrintTime: this.slicerTime, filamentUsedMm: this.slicerFilament, settings: this.settings },
      thumbnails: this.thumbnails,
      lines: this.lines,
      bytes: this.bytes,
    };
  }

  // ---- one line ------------------------------------------------------------------------------------------

  private line(b: Buffer, start: number, end: number): void {
    this.lines++;
    if (end > start && b[end - 1] === C_CR) end--;
    while (start < end && (b[start] === C_SPACE || b[start] === C_TAB)) start++;
    if (start >= end) return;
    const c = b[start]! | 0x20;
    if (b[start] === C_SEMI) {
      this.comment(b, start, end);
      return;
    }
    if (c !== 103 && c !== 109 && c !== 116) return; // g m t
    let i = start + 1;
    let code = 0;
    let digits = 0;
    while (i < end && b[i]! >= 48 && b[i]! <= 57) {
      code = code * 10 + b[i]! - 48;
      i++;
      digits++;
    }
    if (digits === 0) return;
    if (c === 116) {
      this.tool = code;
      while (this.extruded.length <= code) this.extruded.push(0);
      return;
    }
    if (c === 103) this.gcode(code, b, i, end);
    else this.mcode(code, b, i, end);
  }

  private gcode(code: number, b: Buffer, i: number, end: number): void {
    switch (code) {
      case 0:
      case 1:
      case 2:
      case 3:
        return this.move(code, b, i, end);
      case 4: {
        const p = this.param(b, i, end, 80);
        const s = this.param(b, i, end, 83);
        this.est.dwell(Number.isFinite(p) ? p / 1000 : Number.isFinite(s) ? s : 0);
        return;
      }
      case 28: {
        const hx = this.has(b, i, end, 88);
        const hy = this.has(b, i, end, 89);
        const hz = this.has(b, i, end, 90);
        const all = !hx && !hy && !hz;
        this.est.flush();
        if (all || hx) this.x = 0;
        if (all || hy) this.y = 0;
        if (all || hz) this.z = 0;
        return;
      }
      case 90:
        this.absXYZ = this.absE = true;
        return;
      case 91:
        this.absXYZ = this.absE = false;
        return;
      case 92: {
        const vx = this.param(b, i, end, 88);
        const vy = this.param(b, i, end, 89);
        const vz = this.param(b, i, end, 90);
        const ve = this.param(b, i, end, 69);
        if (Number.isFinite(vx)) this.x = vx;
        if (Number.isFinite(vy)) this.y = vy;
        if (Number.isFinite(vz)) this.z = vz;
        if (Number.isFinite(ve)) this.e = ve;
        return;
      }
    }
  }

  private mcode(code: number, b: Buffer, i: number, end: number): void {
    const L = this.est.limits;
    const axes = (target: [number, number, number, number], scale = 1) => {
      const letters = [88, 89, 90, 69];
      for (let a = 0; a < 4; a++) {
        const v = this.param(b, i, end, letters[a]!);
        if (Number.isFinite(v)) target[a] = v * scale;
      }
    };
    switch (code) {
      case 82:
        this.absE = true;
        return;
      case 83:
        this.absE = false;
        return;
      case 201:
        return axes(L.maxAcceleration);
      case 203:
        return axes(L.maxFeedrate);
      case 204: {
        const s = this.param(b, i, end, 83);
        const p = this.param(b, i, end, 80);
        const t = this.param(b, i, end, 84);
        const r = this.param(b, i, end, 82);
        if (Number.isFinite(s)) L.acceleration = L.travelAcceleration = s;
        if (Number.isFinite(p)) L.acceleration = p;
        if (Number.isFinite(t)) L.travelAcceleration = t;
        if (Number.isFinite(r)) L.retractAcceleration = r;
        return;
      }
      case 205: {
        axes(L.jerk);
        const s = this.param(b, i, end, 83);
        const t = this.param(b, i, end, 84);
        if (Number.isFinite(s)) L.minFeedrate = s;
        if (Number.isFinite(t)) L.minTravelFeedrate = t;
        return;
      }
      case 220: {
        const s = this.param(b, i, end, 83);
        if (Number.isFinite(s) && s > 0) this.est.speedFactor = s / 100;
        return;
      }
    }
  }

  private move(code: number, b: Buffer, i: number, end: number): void {
    let px = NaN;
    let py = NaN;
    let pz = NaN;
    let pe = NaN;
    let pf = NaN;
    // one pass over the parameters: this is the hot loop of the whole analysis
    while (i < end) {
      const c = b[i]!;
      if (c === C_SEMI) break;
      const letter = c & 0xdf; // upper-case
      if (letter >= 65 && letter <= 90 && (b[i - 1] === C_SPACE || b[i - 1] === C_TAB)) {
        const v = this.number(b, i + 1, end);
        i = this.numEnd;
        if (letter === 88) px = v;
        else if (letter === 89) py = v;
        else if (letter === 90) pz = v;
        else if (letter === 69) pe = v;
        else if (letter === 70) pf = v;
        continue;
      }
      i++;
    }
    if (Number.isFinite(pf) && pf > 0) this.f = pf / 60;
    const nx = Number.isFinite(px) ? (this.absXYZ ? px : this.x + px) : this.x;
    const ny = Number.isFinite(py) ? (this.absXYZ ? py : this.y + py) : this.y;
    const nz = Number.isFinite(pz) ? (this.absXYZ ? pz : this.z + pz) : this.z;
    const ne = Number.isFinite(pe) ? (this.absE ? pe : this.e + pe) : this.e;
    let dx = nx - this.x;
    let dy = ny - this.y;
    const dz = nz - this.z;
    const de = ne - this.e;
    if (code === 2 || code === 3) {
      // an arc: the planner sees its length; the chord would underestimate it
      const ci = this.param(b, i, end, 73);
      const cj = this.param(b, i, end, 74);
      if (Number.isFinite(ci) || Number.isFinite(cj)) {
        const r = Math.hypot(ci || 0, cj || 0);
        const cx = this.x + (ci || 0);
        const cy = this.y + (cj || 0);
        let sweep = Math.atan2(ny - cy, nx - cx) - Math.atan2(this.y - cy, this.x - cx);
        if (code === 2 && sweep >= 0) sweep -= 2 * Math.PI;
        if (code === 3 && sweep <= 0) sweep += 2 * Math.PI;
        const len = Math.abs(sweep) * r;
        const chord = Math.hypot(dx, dy) || 1;
        dx *= len / chord;
        dy *= len / chord;
      }
    }
    if (de > 0 && (dx !== 0 || dy !== 0 || dz !== 0)) {
      this.extruded[this.tool] = (this.extruded[this.tool] ?? 0) + de;
      grow(this.print, this.x, this.y, this.z);
      grow(this.print, nx, ny, nz);
      if (this.layerComments === 0 && nz > this.lastLayerZ + 1e-6) {
        this.layerZs.push(nz);
        this.lastLayerZ = nz;
      } else if (this.layerComments > 0 && nz > this.lastLayerZ + 1e-6 && this.layerZs.length < 100_000) {
        this.layerZs.push(nz);
        this.lastLayerZ = nz;
      }
    }
    if (dx !== 0 || dy !== 0 || dz !== 0) {
      grow(this.travel, this.x, this.y, this.z);
      grow(this.travel, nx, ny, nz);
    }
    this.est.move(dx, dy, dz, de, this.f);
    this.x = nx;
    this.y = ny;
    this.z = nz;
    this.e = ne;
  }

  // ---- comments: slicer metadata, layers, thumbnails -----------------------------------------------------

  private comment(b: Buffer, start: number, end: number): void {
    const len = end - start;
    // the hot comments (;TYPE:, ;WIDTH:, ;HEIGHT:) cost one byte compare; only a few kinds are decoded
    const c1 = b[start + 1];
    if (this.thumb) {
      const text = b.toString('latin1', start + 1, end).trim();
      if (/^thumbnail(_\w+)? end/.test(text)) this.endThumbnail();
      else this.thumb.parts.push(text);
      return;
    }
    if (c1 === 76 /* L */ && startsWith(b, start, ';LAYER')) {
      if (len === 13 ? startsWith(b, start, ';LAYER_CHANGE') : startsWith(b, start, ';LAYER:')) this.layerComments++;
      return;
    }
    if (c1 === 90 /* Z */ && b[start + 2] === 58 /* : */) {
      const z = this.number(b, start + 3, end);
      if (z !== this.lastCommentZ) {
        this.zComments++;
        this.lastCommentZ = z;
      }
      return;
    }
    // N, E: Cura's ;NOZZLE_DIAMETER: and ;EXTRUDER_TRAIN.… header lines (a few per file)
    if (c1 !== C_SPACE && c1 !== 71 /* G */ && c1 !== 84 /* T */ && c1 !== 70 /* F */ && c1 !== 78 /* N */ && c1 !== 69 /* E */) return;
    if (len > 4096) return;
    const text = b.toString('latin1', start + 1, end).trim();
    if (this.inConfig) {
      if (text === 'prusaslicer_config = end' || text === 'SuperSlicer_config = end') this.inConfig = false;
      else this.setting(text);
      return;
    }
    const th = /^thumbnail(?:_(PNG|JPG|QOI))? begin (\d+)x(\d+) (\d+)/i.exec(text);
    if (th) {
      const fmt = (th[1] ?? 'PNG').toLowerCase();
      this.thumb = { width: Number(th[2]), height: Number(th[3]), format: fmt === 'jpg' ? 'jpg' : fmt === 'qoi' ? 'qoi' : 'png', parts: [] };
      return;
    }
    if (/^(prusaslicer|superslicer|orcaslicer)_config = begin$/i.test(text)) {
      this.inConfig = true;
      return;
    }
    let m = /^generated by (PrusaSlicer|SuperSlicer|OrcaSlicer|Slic3r\S*|BambuStudio) ([\w.+-]+)/i.exec(text);
    if (m) {
      this.slicerName = m[1]!;
      this.slicerVersion = m[2]!;
      return;
    }
    m = /^Generated with (Cura_SteamEngine|Cura) ([\w.+-]+)/.exec(text);
    if (m) {
      this.slicerName = 'Cura';
      this.slicerVersion = m[2]!;
      return;
    }
    m = /^G-Code generated by Simplify3D\(R\) Version ([\w.]+)/.exec(text);
    if (m) {
      this.slicerName = 'Simplify3D';
      this.slicerVersion = m[1]!;
      return;
    }
    if (text.startsWith('estimated printing time (normal mode) =')) {
      this.slicerTime = parseDuration(text.slice(text.indexOf('=') + 1));
      return;
    }
    if (text.startsWith('filament used [mm] =')) {
      this.slicerFilament = Number(text.slice(text.indexOf('=') + 1)) || null;
      return;
    }
    if (text.startsWith('TIME:')) {
      const t = Number(text.slice(5));
      // CuraEngine's command line writes placeholders (;TIME:6666); only the front end fills in real values
      if (Number.isFinite(t) && t > 0 && t !== 6666) this.slicerTime = t;
      return;
    }
    if (text.startsWith('Filament used:')) {
      const mtr = Number(text.slice(14).trim().replace(/m$/, ''));
      if (Number.isFinite(mtr) && mtr > 0) this.slicerFilament = mtr * 1000;
      return;
    }
    if (LOOSE_SETTING.test(text)) this.setting(text);
    else if (c1 !== C_SPACE && this.curaKey(text)) return;
    else if (text.startsWith('Layer height:')) this.settings['layer_height'] = text.slice(13).trim();
    else if (text.startsWith('layerHeight,')) this.settings['layer_height'] = text.slice(12).trim();
  }

  /** `TARGET_MACHINE.NAME:Creality Ender-3` and its kind, kept under PrusaSlicer's name; true when it was one. */
  private curaKey(text: string): boolean {
    const colon = text.indexOf(':');
    const key = colon > 0 ? CURA_KEYS.get(text.slice(0, colon)) : undefined;
    if (key === undefined) return false;
    const value = text.slice(colon + 1).trim();
    if (value) this.settings[key] = value.slice(0, 200);
    return true;
  }

  /** Only the few settings a person looks at: the metadata is stored per file and rewritten with every change. */
  private setting(text: string): void {
    const eq = text.indexOf(' = ');
    if (eq < 0) return;
    const key = text.slice(0, eq);
    if (KEPT_SETTINGS.has(key)) this.settings[key] = text.slice(eq + 3).slice(0, 200);
  }

  private endThumbnail(): void {
    const t = this.thumb!;
    this.thumb = null;
    const data = Buffer.from(t.parts.join(''), 'base64');
    if (data.length > 0 && this.thumbnails.length < 8) this.thumbnails.push({ width: t.width, height: t.height, format: t.format, data });
  }

  // ---- byte-level number parsing -------------------------------------------------------------------------

  /** The value of parameter `letter` (upper-case char code) on this line, NaN when absent. */
  private param(b: Buffer, i: number, end: number, letter: number): number {
    const lower = letter | 0x20;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c === C_SEMI) return NaN;
      if ((c === letter || c === lower) && (b[i - 1] === C_SPACE || b[i - 1] === C_TAB)) return this.number(b, i + 1, end);
    }
    return NaN;
  }

  private has(b: Buffer, i: number, end: number, letter: number): boolean {
    const lower = letter | 0x20;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c === C_SEMI) return false;
      if ((c === letter || c === lower) && (b[i - 1] === C_SPACE || b[i - 1] === C_TAB)) return true;
    }
    return false;
  }

  private number(b: Buffer, i: number, end: number): number {
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    } else if (b[i] === 43) i++;
    // an integer mantissa and one division: exact for the decimals slicers write, and faster
    let m = 0;
    let decimals = 0;
    const digitsStart = i;
    while (i < end && b[i]! >= 48 && b[i]! <= 57) {
      m = m * 10 + b[i]! - 48;
      i++;
    }
    let any = i > digitsStart;
    if (i < end && b[i] === 46) {
      i++;
      while (i < end && b[i]! >= 48 && b[i]! <= 57) {
        if (decimals < 15) {
          m = m * 10 + b[i]! - 48;
          decimals++;
        }
        i++;
        any = true;
      }
    }
    this.numEnd = i;
    if (!any) return NaN;
    const v = decimals === 0 ? m : m / POW10[decimals]!;
    return neg ? -v : v;
  }
}

function startsWith(b: Buffer, at: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (b[at + k] !== s.charCodeAt(k)) return false;
  return true;
}

function emptyBox(): Box {
  return { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity, minZ: Infinity, maxZ: -Infinity };
}

function grow(b: Box, x: number, y: number, z: number): void {
  if (x < b.minX) b.minX = x;
  if (x > b.maxX) b.maxX = x;
  if (y < b.minY) b.minY = y;
  if (y > b.maxY) b.maxY = y;
  if (z < b.minZ) b.minZ = z;
  if (z > b.maxZ) b.maxZ = z;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** "1h 35m 27s", "20m 32s", "1d 2h 3m 4s" → seconds. */
export function parseDuration(text: string): number | null {
  let total = 0;
  let any = false;
  for (const m of text.matchAll(/(\d+)\s*([dhms])/g)) {
    any = true;
    total += Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as 'd' | 'h' | 'm' | 's'];
  }
  return any ? total : null;
}

/** Analyses a file from disk, streaming. */
export async function analyzeFile(path: string, opts: AnalysisOptions = {}): Promise<GcodeAnalysis> {
  const a = new GcodeAnalyzer(opts);
  // one buffer, read into again and again: a stream would allocate (and leave to the GC) one per chunk
  const buf = Buffer.allocUnsafeSlow(READ_SIZE);
  const fh = await open(path, 'r');
  try {
    for (let n; (n = (await fh.read(buf, 0, READ_SIZE, null)).bytesRead) > 0; ) a.push(buf.subarray(0, n));
  } finally {
    await fh.close();
  }
  return a.finish();
}
