// The multipart parser (src/files/multipart.ts) on its own: every body cut at every offset parses the same, data that
// looks like the boundary stays data, CRLF edge cases, a missing final boundary, oversized part headers, UTF-8 and
// RFC 5987 file names, and fields before and after the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultipartError, MultipartParser, type PartInfo, boundaryOf } from '../../src/files/multipart.js';

const B = 'XyZ-b0undary';
const LIMITS = { headerBytes: 1024, parts: 16 };

interface Part extends PartInfo {
  data: string;
}

/** Parses `body` cut into the given pieces; returns the parts (data as latin1, so every byte shows) or the error. */
function parse(body: Buffer, cuts: number[] = [], boundary = B): Part[] {
  const parts: Part[] = [];
  let open: Part | undefined;
  const p = new MultipartParser(
    boundary,
    {
      part(info) {
        assert.equal(open, undefined, 'a part begins only after the one before ended');
        open = { ...info, data: '' };
      },
      data(bytes) {
        assert.ok(open, 'data only inside a part');
        assert.ok(bytes.length > 0, 'no empty data calls');
        open.data += bytes.toString('latin1');
      },
      partEnd() {
        parts.push(open!);
        open = undefined;
      },
    },
    LIMITS,
  );
  let at = 0;
  for (const cut of [...cuts, body.length]) {
    p.write(body.subarray(at, cut));
    at = cut;
  }
  p.end();
  return parts;
}

const part = (disposition: string, data: string | Buffer, extra = '') =>
  Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: ${disposition}\r\n${extra}\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
const close = Buffer.from(`--${B}--\r\n`);

/** data with everything that looks like a boundary but is not one: CRs, CRLF--, the boundary without its CRLF */
const tricky = `G1 X1\r\nG1 Y2\r\r\n--\r\n-${B}\r\n--XyZ\r\n--${B.slice(0, -1)}\r\n--${B.slice(0, -1)}Q\n${B}\r`;
const body = Buffer.concat([
  Buffer.from('a preamble, ignored\r\n'),
  part('form-data; name="print"', 'true'),
  part('form-data; name="file"; filename="cube.gcode"', tricky, 'Content-Type: application/octet-stream\r\n'),
  part('form-data; name="path"', 'sub/dir'),
  close,
  Buffer.from('an epilogue, ignored'),
]);
const expected: Part[] = [
  { name: 'print', data: 'true' },
  { name: 'file', filename: 'cube.gcode', data: tricky },
  { name: 'path', data: 'sub/dir' },
];

test('a body in one piece: fields before and after the file, boundary-like data kept as data', () => {
  assert.deepEqual(parse(body), expected);
});

test('the same body cut at every offset, and into 1-byte pieces, parses the same', () => {
  for (let cut = 1; cut < body.length; cut++) assert.deepEqual(parse(body, [cut]), expected, `cut at ${cut}`);
  for (let cut = 1; cut + 7 < body.length; cut += 3) assert.deepEqual(parse(body, [cut, cut + 7]), expected, `cut at ${cut} and ${cut + 7}`);
  assert.deepEqual(
    parse(body, [...body.keys()].slice(1)),
    expected,
  );
});

test('the first boundary at the very start, an empty part, a part with no headers, and transport padding', () => {
  const b = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--${B}  \t\r\n\r\nno headers: skipped\r\n--${B}\r\nContent-Disposition: form-data; name="b"\r\n\r\nx\r\n--${B}--`);
  assert.deepEqual(parse(b), [
    { name: 'a', data: '' },
    { name: 'b', data: 'x' },
  ]);
});

test('file data that ends in CR, CRLF or CRLF-- keeps those bytes', () => {
  for (const end of ['\r', '\r\n', '\r\n-', '\r\n--', `\r\n--${B.slice(0, 5)}`]) {
    const b = Buffer.concat([part('form-data; name="file"; filename="a.gcode"', `G28${end}`), close]);
    for (let cut = 1; cut < b.length; cut++) assert.deepEqual(parse(b, [cut]), [{ name: 'file', filename: 'a.gcode', data: `G28${end}` }], JSON.stringify(end));
  }
});

test('a missing final boundary, a body that stops mid-part, and no boundary at all are errors', () => {
  const unterminated = Buffer.concat([part('form-data; name="file"; filename="a.gcode"', 'G28')]);
  assert.throws(() => parse(unterminated), MultipartError);
  assert.throws(() => parse(unterminated.subarray(0, 60)), MultipartError);
  assert.throws(() => parse(Buffer.from('just text\r\n')), /Unexpected end of form/);
  assert.throws(() => parse(Buffer.alloc(0)), /Unexpected end of form/);
  // the boundary followed by something other than CRLF or --
  assert.throws(() => parse(Buffer.from(`--${B}Q\r\n\r\n--${B}--`)), /malformed boundary/);
});

test('part headers past the limit are refused, whether they arrive in one piece or byte by byte', () => {
  const huge = Buffer.concat([part('form-data; name="a"', 'x', `X-Pad: ${'y'.repeat(2000)}\r\n`), close]);
  assert.throws(() => parse(huge), /part headers longer than 1024 bytes/);
  assert.throws(() => parse(huge, [...huge.keys()].slice(1)), /part headers longer than 1024 bytes/);
  // an unterminated header block held across pieces is refused too, not kept growing
  const never = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\nX: ${'y'.repeat(5000)}`);
  assert.throws(() => parse(never, [100, 1100, 2100]), /part headers longer/);
});

test('more parts than the limit are refused', () => {
  const many = Buffer.concat([...Array.from({ length: 17 }, (_, i) => part(`form-data; name="f${i}"`, 'v')), close]);
  assert.throws(() => parse(many), /more than 16 parts/);
});

test('file names: raw UTF-8, RFC 5987 filename* (preferred), escaped quotes, unquoted values, odd casing', () => {
  const names = (disposition: string) => parse(Buffer.concat([part(disposition, 'G28'), close]))[0];
  assert.deepEqual(names('form-data; name="file"; filename="Würfel ✓.gcode"'), { name: 'file', filename: 'Würfel ✓.gcode', data: 'G28' });
  assert.equal(names(`form-data; name="file"; filename="fallback.gcode"; filename*=UTF-8''W%C3%BCrfel%20%E2%9C%93.gcode`)!.filename, 'Würfel ✓.gcode');
  assert.equal(names(`form-data; name="file"; filename*=iso-8859-1'en'caf%E9.gcode`)!.filename, 'café.gcode');
  // a charset we do not know: the plain filename stands
  assert.equal(names(`form-data; name="file"; filename*=koi8-r''x.gcode; filename="y.gcode"`)!.filename, 'y.gcode');
  assert.equal(names('form-data; name="file"; filename="say \\"hi\\".gcode"')!.filename, 'say "hi".gcode');
  assert.equal(names('form-data; name="file"; filename="a;b=c.gcode"')!.filename, 'a;b=c.gcode');
  assert.deepEqual(names('FORM-DATA; NAME=file; FILENAME=plain.gcode'), { name: 'file', filename: 'plain.gcode', data: 'G28' });
  assert.deepEqual(names('form-data; name="field"'), { name: 'field', data: 'G28' });
  // not form-data, or no name: the part is read past, as busboy does
  assert.deepEqual(parse(Buffer.concat([part('attachment; name="x"', 'G28'), part('form-data; filename="a.gcode"', 'G28'), close])), []);
});

test('boundaryOf: plain, quoted, with other parameters; refuses what is not multipart/form-data', () => {
  assert.equal(boundaryOf(`multipart/form-data; boundary=${B}`), B);
  assert.equal(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b:c"'), 'a b:c');
  assert.equal(boundaryOf('multipart/form-data;boundary=----x;charset=utf-8'), '----x');
  assert.throws(() => boundaryOf('multipart/form-data'), /no valid boundary/);
  assert.throws(() => boundaryOf('multipart/form-data; boundary=""'), /no valid boundary/);
  assert.throws(() => boundaryOf(`multipart/form-data; boundary=${'x'.repeat(71)}`), /no valid boundary/);
  assert.throws(() => boundaryOf('multipart/mixed; boundary=x'), /Expected a multipart\/form-data upload/);
  assert.throws(() => boundaryOf('application/json'), /Expected a multipart\/form-data upload/);
});
