// Runs an upload body through busboy as src/files/upload.ts does, without a server: which file parts the route
// keeps (field "file", a G-code name) and which it only resume()s, and whether busboy ends by destroying one
// of the latter with an error (nothing listens for it: an uncaught exception). Busboy's own parsing decides
// (what counts as a file, which boundary it reads), so the known finding matches exactly the crashing bodies.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type BusboyModule from 'busboy';
import { isGcodeName } from '../../../src/files/paths.js';

const busboy = createRequire(import.meta.url)('busboy') as typeof BusboyModule;

export function errorsAnUnkeptFile(contentType: string, body: Buffer): boolean {
  let bb: BusboyModule.Busboy;
  try {
    // the limits upload.ts uses (fileSize does not matter for these small bodies)
    bb = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fields: 32, fieldSize: 64 * 1024 } });
  } catch {
    return false; // upload.ts answers 400
  }
  const unkept: Readable[] = [];
  let kept = false;
  bb.on('file', (field: string, stream: Readable, info: { filename?: string }) => {
    if (field === 'file' && !kept && isGcodeName(info.filename ?? '')) kept = true;
    else unkept.push(stream);
    stream.on('error', () => undefined); // here, unlike upload.ts, the probe listens
    stream.resume();
  });
  bb.on('error', () => undefined);
  // _final runs inside end(): a stream it destroys is marked errored at once
  bb.end(body);
  return unkept.some((s) => s.errored !== null);
}
