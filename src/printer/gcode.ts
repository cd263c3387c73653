// Helpers over single G-code lines. They work on character codes instead of regexes because they run
// once per streamed line, and the send path must stay allocation-light.

const CH_SEMI = 59; // ;
const CH_BACKSLASH = 92;
const CH_SPACE = 32;
const CH_TAB = 9;

/** Remove a `;` comment (unless escaped as `\;`) and surrounding whitespace. Returns the input when clean. */
export function stripComment(line: string): string {
  let end = line.length;
  for (let i = 0; i < line.length; i++) {
    if (line.charCodeAt(i) === CH_SEMI && (i === 0 || line.charCodeAt(i - 1) !== CH_BACKSLASH)) {
      end = i;
      break;
    }
  }
  let start = 0;
  while (start < end && isSpace(line.charCodeAt(start))) start++;
  while (end > start && isSpace(line.charCodeAt(end - 1))) end--;
  return start === 0 && end === line.length ? line : line.slice(start, end);
}

function isSpace(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === 13 || c === 10;
}

/** Letters that start a command the firmware acknowledges. */
const LETTER_G = 1;
const LETTER_M = 2;
const LETTER_T = 3;

/**
 * Encodes a line's command word as a number: letter * 100000 + code, e.g. G28 → 100028, M105 → 200105,
 * T1 → 300001. Returns -1 for lines that are not G/M/T commands (host commands, Klipper macros).
 */
export function commandKey(line: string): number {
  if (line.length < 2) return -1;
  let c = line.charCodeAt(0) | 0x20; // lower-case
  const letter = c === 103 ? LETTER_G : c === 109 ? LETTER_M : c === 116 ? LETTER_T : 0;
  if (letter === 0) return -1;
  let code = 0;
  let i = 1;
  for (; i < line.length; i++) {
    c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
    code = code * 10 + (c - 48);
    if (code > 99999) return -1;
  }
  if (i === 1) return -1;
  return letter * 100000 + code;
}

export const G = (n: number): number => LETTER_G * 100000 + n;
export const M = (n: number): number => LETTER_M * 100000 + n;
export const isToolChange = (key: number): boolean => key >= LETTER_T * 100000 && key < (LETTER_T + 1) * 100000;

/** Commands after which the firmware may stay silent for a long time before its `ok`. */
export const LONG_RUNNING: ReadonlySet<number> = new Set<number>([
  G(4), G(28), G(29), G(30), G(32), G(33), G(34), G(76), M(109), M(190), M(191), M(116), M(303), M(400), M(600), M(226),
  M(48), M(0), M(1),
]);

/** LONG_RUNNING as a table by G and M code, for the send path (a Set lookup per line showed in profiles). */
const LONG_G = new Uint8Array(1000);
const LONG_M = new Uint8Array(1000);
for (const key of LONG_RUNNING) (key < M(0) ? LONG_G : LONG_M)[key % 100000] = 1;

/** Whether the firmware may stay silent long after this command (its key, as commandKey gives it). */
export function isLongRunning(key: number): boolean {
  const code = key % 100000;
  if (key < 0 || code >= 1000) return false; // not a command, or a code no table holds
  if (key < M(0)) return LONG_G[code] === 1;
  return key < M(100000) && LONG_M[code] === 1; // T codes are never long-running
}

/** XOR of the low byte of every character; the RepRap line checksum. */
export function checksum(text: string): number {
  let cs = 0;
  for (let i = 0; i < text.length; i++) cs ^= text.charCodeAt(i) & 0xff;
  return cs;
}

/** XOR of the decimal digits of n as characters, used to checksum `N<n> ` without building the string. */
function checksumOfNumber(n: number): number {
  let cs = 0;
  if (n === 0) return 48;
  while (n > 0) {
    cs ^= 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return cs;
}

/** `N<n> <cmd>*<cs>\n`. */
export function numberedLine(n: number, cmd: string): string {
  const cs = 78 /* N */ ^ checksumOfNumber(n) ^ CH_SPACE ^ checksum(cmd);
  return 'N' + n + ' ' + cmd + '*' + cs + '\n';
}

/** The most bytes `encodeNumberedLine` adds to a command: `N`, 16 digits, a space, `*`, 3 digits, LF. */
export const NUMBERED_LINE_OVERHEAD = 22;

/**
 * `numberedLine(n, cmd)` as latin1 bytes written into `buf` from 0, checksummed in the same pass; returns the
 * length. The send path's form of it: no string is built per line (six concatenations, then a flattening copy when
 * the string is written, and the garbage of all of them). `buf` holds at least cmd.length + NUMBERED_LINE_OVERHEAD.
 * A character above 0xff becomes its low byte, as latin1 writing and `checksum` both take it.
 */
export function encodeNumberedLine(buf: Uint8Array, n: number, cmd: string): number {
  let p = 0;
  buf[p++] = 78; // N
  let cs = 78 ^ CH_SPACE;
  // one path for every number, 0 (a job's M110 N0) included: a branch only line 0 took would, taken for the first
  // time in optimized code, throw that code away
  let scale = 1;
  while (scale * 10 <= n) scale *= 10;
  for (; scale >= 1; scale /= 10) {
    const c = 48 + (Math.floor(n / scale) % 10);
    buf[p++] = c;
    cs ^= c;
  }
  buf[p++] = CH_SPACE;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd.charCodeAt(i) & 0xff;
    buf[p++] = c;
    cs ^= c;
  }
  buf[p++] = 42; // *
  if (cs >= 100) buf[p++] = 48 + Math.floor(cs / 100);
  if (cs >= 10) buf[p++] = 48 + (Math.floor(cs / 10) % 10);
  buf[p++] = 48 + (cs % 10);
  buf[p++] = 10;
  return p;
}

/** Reads a numeric parameter such as `S` in `M104 S200`; NaN when absent. */
export function param(line: string, letter: string): number {
  const upper = letter.toUpperCase().charCodeAt(0);
  const lower = upper | 0x20;
  for (let i = 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c === upper || c === lower) && isSpace(line.charCodeAt(i - 1))) {
      let j = i + 1;
      while (j < line.length && !isSpace(line.charCodeAt(j))) j++;
      if (j === i + 1) return NaN;
      return Number(line.slice(i + 1, j));
    }
  }
  return NaN;
}


/** The words of a move the job runner tracks: NaN where absent. */
export interface MoveWords {
  f: number;
  z: number;
  e: number;
  /** an X or a Y word is present */
  xy: boolean;
}

/** Reads F, Z and E (and whether X or Y is there) in one pass over a G0/G1 line, into `out` (no allocation). */
export function readMoveWords(line: string, out: MoveWords): MoveWords {
  out.f = out.z = out.e = NaN;
  out.xy = false;
  for (let i = 1; i < line.length; i++) {
    if (line.charCodeAt(i) === CH_SEMI) break; // a comment: its words are not the move's
    const c = line.charCodeAt(i) | 0x20; // lower case
    if (c !== 102 /* f */ && c !== 122 /* z */ && c !== 101 /* e */ && c !== 120 /* x */ && c !== 121 /* y */) continue;
    if (!isSpace(line.charCodeAt(i - 1))) continue;
    let j = i + 1;
    while (j < line.length && !isSpace(line.charCodeAt(j)) && line.charCodeAt(j) !== CH_SEMI) j++;
    if (c === 120 || c === 121) out.xy = true;
    else if (j > i + 1) {
      // the first of a letter counts, as param() reads it
      const v = numberAt(line, i + 1, j);
      if (c === 102) out.f = Number.isNaN(out.f) ? v : out.f;
      else if (c === 122) out.z = Number.isNaN(out.z) ? v : out.z;
      else out.e = Number.isNaN(out.e) ? v : out.e;
    }
    i = j - 1;
  }
  return out;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `Number(line.slice(start, end))` without the slice, for the plain decimals a slicer writes (`-.01489`, `9000`):
 * digits and a point make an integer and a power of ten, both exact doubles, so one division rounds it exactly as
 * Number() does. Anything else (an exponent, 16+ digits, a stray character) goes to Number() itself.
 */
export function numberAt(line: string, start: number, end: number): number {
  let i = start;
  const c0 = line.charCodeAt(i);
  const negative = c0 === 45; /* - */
  if (negative || c0 === 43 /* + */) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1; // digits after the point, once there is one
  for (; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 /* . */ && fraction < 0) fraction = 0;
    else return Number(line.slice(start, end));
  }
  if (digits === 0 || digits > 15) return Number(line.slice(start, end));
  const v = fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
  return negative ? -v : v;
}
