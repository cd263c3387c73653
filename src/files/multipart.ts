// A streaming multipart/form-data parser (RFC 7578) that finds boundaries with Buffer#indexOf, which runs in C++
// (memchr for the first byte, then Boyer-Moore-Horspool): ~10 ms per 100 MB of G-code here, where busboy's
// JavaScript search (streamsearch) took ~50 ms and its three stream layers as much again. It is synchronous and
// push-driven (write each chunk of the body, end), so the caller decides about back-pressure, and a part's data
// is handed on as views of the chunks it came in, not copied. Bytes are copied only when a chunk ends in what may
// be the start of a boundary (a CR): that tail is joined to the next chunk.

export class MultipartError extends Error {}

export interface PartInfo {
  /** the form field's name (Content-Disposition `name`) */
  name: string;
  /** set for a file part: `filename*` (RFC 5987) if given, else `filename`, as UTF-8 */
  filename?: string;
}

export interface PartHandler {
  /** a part begins; its data follows in `data` calls, then `partEnd` */
  part(info: PartInfo): void;
  /** the next bytes of the current part: a view valid only until the handler returns unless it keeps the Buffer */
  data(bytes: Buffer): void;
  partEnd(): void;
}

export interface MultipartLimits {
  /** the most bytes a part's header block may have (busboy: 80 KB; browsers send < 1 KB) */
  headerBytes: number;
  /** the most parts a body may have */
  parts: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const CR = 0x0d;

/** The boundary of a multipart/form-data Content-Type, or an error saying what is wrong with it. */
export function boundaryOf(contentType: string): string {
  if (!/^multipart\/form-data\s*(;|$)/i.test(contentType)) throw new MultipartError('Expected a multipart/form-data upload');
  const m = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1]?.replace(/\\(.)/g, '$1') ?? m?.[2];
  // RFC 2046: 1 to 70 characters
  if (!boundary || boundary.length > 70) throw new MultipartError('Bad multipart request: no valid boundary in the Content-Type');
  return boundary;
}

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'done';

export class MultipartParser {
  /** CRLF "--" boundary: what ends a part's data (the body is read as if it began with CRLF, so the first
   * boundary, at its very start, is found the same way) */
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  /** bytes held back from the previous chunk (a possible start of the delimiter, or an unfinished header block) */
  private carry: Buffer = CRLF;
  private parts = 0;
  /** the part being read is passed on (false: a part without a form-data name, skipped as busboy does) */
  private passing = false;

  constructor(
    boundary: string,
    private readonly handler: PartHandler,
    private readonly limits: MultipartLimits,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** Parses the next chunk of the body; throws a MultipartError on a malformed body (and stays failed). */
  write(chunk: Buffer): void {
    if (this.state === 'done' || chunk.length === 0) return; // the epilogue after the final boundary is ignored
    let buf = chunk;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = Buffer.alloc(0);
    }
    let pos = 0;
    while (pos < buf.length && !this.finished) {
      switch (this.state) {
        case 'preamble':
        case 'body':
          pos = this.scanData(buf, pos);
          break;
        case 'afterDelimiter':
          pos = this.afterDelimiter(buf, pos);
          break;
        case 'headers':
          pos = this.headers(buf, pos);
          break;
      }
    }
  }

  /** The body has ended: throws unless the final boundary was seen. */
  end(): void {
    if (this.state !== 'done') throw new MultipartError('Bad multipart request: Unexpected end of form');
  }

  /** Data up to the next delimiter goes to the part (and is dropped in the preamble); a tail that may be the
   * delimiter's start waits for the next chunk. */
  private scanData(buf: Buffer, pos: number): number {
    const d = this.delimiter;
    const at = buf.indexOf(d, pos);
    if (at >= 0) {
      if (this.state === 'body' && this.passing) {
        if (at > pos) this.handler.data(buf.subarray(pos, at));
        this.handler.partEnd();
      }
      this.state = 'afterDelimiter';
      return at + d.length;
    }
    let tail = Math.max(pos, buf.length - d.length + 1);
    while (tail < buf.length && !(buf[tail] === CR && buf.compare(d, 0, buf.length - tail, tail) === 0)) tail++;
    if (this.state === 'body' && this.passing && tail > pos) this.handler.data(buf.subarray(pos, tail));
    if (tail < buf.length) this.carry = buf.subarray(tail);
    return buf.length;
  }

  /** After a delimiter: `--` ends the body, CRLF (after optional blanks, RFC 2046's transport padding) starts a part. */
  private afterDelimiter(buf: Buffer, pos: number): number {
    let i = pos;
    while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
    if (buf.length - i < 2) {
      if (i - pos > 256) throw new MultipartError('Bad multipart request: malformed boundary line');
      this.carry = buf.subarray(pos);
      return buf.length;
    }
    if (i === pos && buf[i] === 0x2d && buf[i + 1] === 0x2d) {
      this.state = 'done';
      return buf.length;
    }
    if (buf[i] !== CR || buf[i + 1] !== 0x0a) throw new MultipartError('Bad multipart request: malformed boundary line');
    if (++this.parts > this.limits.parts) throw new MultipartError(`Bad multipart request: more than ${this.limits.parts} parts`);
    this.state = 'headers';
    return i + 2;
  }

  /** A part's header block, up to the empty line; held back across chunks until it is complete. */
  private headers(buf: Buffer, pos: number): number {
    // no headers at all: the empty line comes at once
    let end: number;
    if (buf.length - pos >= 2 && buf[pos] === CR && buf[pos + 1] === 0x0a) end = pos;
    else {
      const at = buf.indexOf(HEADER_END, pos);
      end = at < 0 ? -1 : at + 2;
    }
    if (end < 0 || end - pos > this.limits.headerBytes) {
      if (buf.length - pos > this.limits.headerBytes + 4) throw new MultipartError(`Bad multipart request: part headers longer than ${this.limits.headerBytes} bytes`);
      this.carry = buf.subarray(pos);
      return buf.length;
    }
    const info = partInfo(buf.toString('utf8', pos, end));
    this.passing = info !== undefined;
    if (info) this.handler.part(info);
    this.state = 'body';
    return end + 2;
  }
}

/** Name and file name from a part's header block (UTF-8, what browsers and slicers send; folded lines joined);
 * undefined for a part that is not a named form-data field. */
function partInfo(block: string): PartInfo | undefined {
  const lines = block.split('\r\n').reduce<string[]>((out, line) => {
    if (/^[ \t]/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else if (line) out.push(line);
    return out;
  }, []);
  const disposition = lines.find((l) => /^content-disposition\s*:/i.test(l));
  const value = disposition?.slice(disposition.indexOf(':') + 1) ?? '';
  if (!/^\s*form-data\s*(;|$)/i.test(value)) return undefined;
  const params = dispositionParams(value);
  const name = params.get('name');
  if (name === undefined) return undefined;
  const star = params.get('filename*');
  const filename = (star === undefined ? undefined : decodeExtValue(star)) ?? params.get('filename');
  return filename === undefined ? { name } : { name, filename };
}

/** `form-data; name="a"; filename="b"`: parameter names lower-cased, quoted strings unquoted (\x escapes x). */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const key = m[1]!.toLowerCase();
    if (!params.has(key)) params.set(key, m[2] === undefined ? m[3]!.trim() : m[2].replace(/\\(.)/g, '$1'));
  }
  return params;
}

/** RFC 5987 `charset'language'percent-encoded`, for UTF-8 and ISO-8859-1; undefined if malformed. */
function decodeExtValue(v: string): string | undefined {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (!m) return undefined;
  const charset = m[1]!.toLowerCase();
  if (charset !== 'utf-8' && charset !== 'iso-8859-1') return undefined;
  const bytes: number[] = [];
  const s = m[2]!;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-f]{2}$/i.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString(charset === 'utf-8' ? 'utf8' : 'latin1');
}
