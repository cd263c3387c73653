// Upload bodies for POST /api/files/local: well-formed multipart with odd names and fields, and broken
// multipart (bad or missing boundaries, missing parts, unterminated bodies) as a client could send them.
import { encodeComponent } from './encode.js';
import type { Rng } from './prng.js';
import { hostileString } from './values.js';

export interface UploadBody {
  contentType: string;
  body: Buffer;
  /** what the multipart holds, for the case description and for known-finding matchers */
  fields: Record<string, string>;
  filename: string | undefined;
  structure: string;
}

const GCODE = 'G28\nG1 X10 Y10 Z0.3 F3000\nG1 X20 E1\nM84\n';

function filename(r: Rng): string | undefined {
  return r.weighted<() => string | undefined>([
    [6, () => `fz-${r.int(0, 9)}.gcode`],
    [2, () => r.pick(['../../escape.gcode', '..gcode', '.gcode', ' .gcode', 'a\\b.gcode', 'fixture-dir/../x.gcode', '%2e%2e%2fx.gcode', 'CON.gcode', 'x.GCODE', 'x.gco', 'x.stl', 'x', '', 'é😀.gcode', '\u202egcode.exe', 'a'.repeat(300) + '.gcode', '"q".gcode', 'x;y=z.gcode', '.tmp.gcode'])],
    [2, () => hostileString(r).slice(0, 400) + r.pick(['.gcode', ''])],
    [1, () => undefined],
  ])();
}

function content(r: Rng): Buffer {
  return r.weighted<() => Buffer>([
    [6, () => Buffer.from(GCODE)],
    [1, () => Buffer.alloc(0)],
    [1, () => Buffer.from('G28\n\u0000\u0001binary')],
    [1, () => Buffer.from('; thumbnail begin 2x2 9999\n; AAAA\n; thumbnail end\n' + GCODE)],
    [1, () => Buffer.from(`M117 ${'é😀'.repeat(r.int(1, 2000))}\n`)],
    [1, () => Buffer.from([0xff, 0xfe, 0x47, 0x32, 0x38, 0x0a])],
  ])();
}

function fieldValue(r: Rng, key: string): string {
  if (r.chance(0.4)) return hostileString(r);
  switch (key) {
    case 'path':
      return r.pick(['', 'fixture-dir', 'fz-dir-1', 'fz-dir-1/sub', '/']);
    case 'foldername':
      return r.pick([`fz-dir-${r.int(0, 4)}`, 'fixture-dir', '']);
    case 'userdata':
      return r.pick(['{"a":1}', '{"__proto__":{"admin":true}}', '[1,2', 'null', '"x"', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, '{"constructor":{"prototype":{"polluted":true}}}']);
    default:
      return r.pick(['true', 'false', '1', 'yes', '']);
  }
}

/** Content-Disposition with quoting a client might get wrong. */
function disposition(r: Rng, name: string, file: string | undefined): string {
  const quoted = (s: string) => `"${s.replace(/"/g, r.chance(0.5) ? '\\"' : '%22').replace(/\r|\n/g, '')}"`;
  let d = `form-data; name=${quoted(name)}`;
  if (file !== undefined) d += r.chance(0.9) ? `; filename=${quoted(file)}` : `; filename*=UTF-8''${encodeComponent(file)}`;
  return d;
}

export function uploadBody(r: Rng): UploadBody {
  const boundary = r.weighted<() => string>([
    [8, () => `----fuzz${r.int(0, 1e9)}`],
    [1, () => 'x'.repeat(r.pick([70, 71, 200]))],
    [1, () => r.pick(['a b', '"quoted"', '--', 'é', ''])],
  ])();
  // without a file, the upload route makes a folder from `foldername`
  const withFile = r.chance(0.8);
  const fields: Record<string, string> = {};
  for (const key of ['path', 'foldername', 'select', 'print', 'noOverwrite', 'userdata']) {
    if (r.chance(key === 'foldername' ? (withFile ? 0.1 : 0.8) : 0.25)) fields[key] = fieldValue(r, key);
  }
  const fileName = filename(r);
  const parts: Buffer[] = [];
  const part = (headers: string, data: Buffer) => parts.push(Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), data, Buffer.from('\r\n'));
  for (const [k, v] of Object.entries(fields)) part(`Content-Disposition: ${disposition(r, k, undefined)}`, Buffer.from(v));
  if (withFile) {
    const fieldName = r.weighted<() => string>([[9, () => 'file'], [1, () => r.pick(['File', 'upload', ''])]])();
    const type = r.pick(['application/octet-stream', 'text/x-gcode', 'application/json', '']);
    part(`Content-Disposition: ${disposition(r, fieldName, fileName)}${type ? `\r\nContent-Type: ${type}` : ''}`, content(r));
    if (r.chance(0.05)) part(`Content-Disposition: ${disposition(r, 'file', 'second.gcode')}`, Buffer.from(GCODE));
  }
  const structure = r.weighted<() => string>([
    [14, () => 'well-formed'],
    [1, () => 'unterminated'],
    [1, () => 'header-boundary-differs'],
    [1, () => 'no-boundary-param'],
    [1, () => 'not-multipart'],
    [1, () => 'empty'],
    [1, () => 'garbage-part-headers'],
    [1, () => 'preamble-only'],
  ])();
  let headerBoundary = boundary;
  let type = 'multipart/form-data';
  let tail = Buffer.from(`--${boundary}--\r\n`);
  let body: Buffer;
  switch (structure) {
    case 'unterminated':
      tail = Buffer.alloc(0);
      break;
    case 'header-boundary-differs':
      headerBoundary = 'other-boundary';
      break;
    case 'not-multipart':
      type = r.pick(['multipart/mixed', 'application/octet-stream', 'text/plain', 'application/json']);
      break;
    case 'garbage-part-headers':
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name\r\nX: ${'y'.repeat(r.pick([10, 20_000]))}\r\n\r\nvalue\r\n`));
      break;
  }
  if (structure === 'empty') body = Buffer.alloc(0);
  else if (structure === 'preamble-only') body = Buffer.from('this is not a multipart body\r\n');
  else body = Buffer.concat([...parts, tail]);
  const quotedBoundary = r.chance(0.2) ? `"${headerBoundary}"` : headerBoundary;
  const contentType = structure === 'no-boundary-param' ? type : `${type}; boundary=${quotedBoundary}${r.chance(0.1) ? '; charset=utf-8' : ''}`;
  return { contentType, body, fields, filename: withFile ? fileName : undefined, structure };
}
