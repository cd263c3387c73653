// Failures the fuzzer found in code other people are changing: reported, not fixed here. Each one's cases
// are skipped (not sent) so the suite stays green; remove an entry once its fix lands and the fuzzer passes.
import { sanitizeName } from '../../../src/files/paths.js';
import { errorsAnUnkeptFile } from './busboy-probe.js';
import type { FuzzCase } from './cases.js';
import { at, parsedBody, stringThrows } from './parsed.js';

export interface KnownFinding {
  id: string;
  /** where the bug is, and what happens */
  summary: string;
  matches(c: FuzzCase): boolean;
}

/** Body fields each route hands to parseBool (src/api/http.ts), by the fuzzer's route names. */
const PARSEBOOL_FIELDS: Record<string, string[][]> = {
  'POST /api/login': [['passive'], ['remember']],
  'POST /plugin/appkeys/decision/:token': [['decision']],
  'POST /api/gantry/appkeys/:token': [['decision']],
  'POST /api/connection': [['save'], ['autoconnect']],
  'POST /api/files/local/*': [['print']],
  'POST /api/printer/printhead': [['absolute']],
  'POST /api/timelapse': [['park'], ['hardwareEncoder']],
  'POST /api/settings': [
    ...['autoconnect', 'autoReconnect', 'alwaysChecksum', 'windowed'].map((k) => ['serial', k]),
    ...['flipH', 'flipV', 'rotate90'].map((k) => ['webcam', k]),
    ...['lanOpen', 'flipH', 'flipV', 'rotate90'].map((k) => ['gantry', 'camera', k]),
    ...['heatedBed', 'heatedChamber'].map((k) => ['gantry', 'printerProfile', k]),
  ],
};

/** The case may reach POST /api/files/local's handler: a key that may upload, and a path that can still route
 * there once dot segments are resolved (`/api/files/local%00` or `/api\\files/local` go elsewhere). Errs towards
 * yes: a case skipped needlessly costs one request, one sent wrongly stops the run. */
function reachesUpload(c: FuzzCase): boolean {
  if (c.upload === undefined || (c.identity !== 'user' && c.identity !== 'admin') || c.method !== 'POST') return false;
  // @hono/node-server refuses a backslash in the path (400) before any route
  if (c.target.split('?')[0]!.includes('\\')) return false;
  let path: string;
  try {
    path = new URL(c.target.startsWith('http://') ? c.target : `http://h${c.target}`).pathname.replace(/\/{2,}/g, '/');
  } catch {
    return false; // the adapter refuses the URL (400)
  }
  return path === '/api/files/local';
}

const throws = (f: () => unknown) => {
  try {
    f();
    return false;
  } catch {
    return true;
  }
};

export const KNOWN_FINDINGS: KnownFinding[] = [
  {
    id: 'parsebool-string',
    summary:
      'src/api/http.ts parseBool() calls String(v) on any JSON value. {"toString": 1} (TypeError: Cannot convert object to ' +
      'primitive value) or an array nested ~10 000 deep (RangeError in Array.prototype.join) make it throw → 500. Reachable ' +
      'without a key: POST /api/login {"passive": {"toString": 1}}; and on every route that reads a boolean from the body ' +
      '(appkeys decision, connection save/autoconnect, files select print, printhead jog absolute, settings, timelapse). ' +
      'Fix: parseBool returns the fallback for anything but a string, number or boolean.',
    matches: (c) => {
      const fields = PARSEBOOL_FIELDS[c.route];
      if (!fields) return false;
      const body = parsedBody(c);
      return fields.some((f) => stringThrows(at(body, f)));
    },
  },
  {
    id: 'upload-deep-userdata',
    summary:
      'src/api/routes/files.ts stores the upload field `userdata` as parsed, with no depth limit; JSON nested ~10 000 deep ' +
      'parses but cannot be written: FileStorage.commit → JsonStore.update → JSON.stringify RangeError → 500. JsonStore.update ' +
      '(src/store/json-store.ts) has already changed the in-memory data, so every later write of files.json fails too (every ' +
      'upload, delete, move and analysis result answers 500 or is lost) until Gantry restarts. Fix: refuse userdata that does ' +
      'not re-serialize (or is deeper than a few levels), and make JsonStore.update roll back when the write fails.',
    matches: (c) => {
      const userdata = c.upload?.fields['userdata'];
      if (userdata === undefined || !reachesUpload(c)) return false;
      try {
        JSON.stringify(JSON.parse(userdata));
        return false;
      } catch (err) {
        return err instanceof RangeError;
      }
    },
  },
  {
    id: 'upload-foldername-patherror',
    summary:
      'src/api/routes/files.ts POST /api/files/local without a file calls sanitizeName(foldername) directly; a name that ' +
      'sanitizes to nothing ("", "..", "!!!", "   ") throws PathError, which is not a ServiceError, so app.onError answers 500. ' +
      'Fix: wrap it as FileStorage.path does (StorageError 400).',
    matches: (c) => {
      const folder = c.upload?.fields['foldername'];
      return folder !== undefined && reachesUpload(c) && throws(() => sanitizeName(folder));
    },
  },
  {
    id: 'upload-unterminated-crash',
    summary:
      'src/files/upload.ts: a multipart body that ends without its closing boundary while inside a file part the upload ' +
      'does not keep (form field other than "file", a name that is not G-code, or no name: busboy takes any ' +
      'application/octet-stream part as a file) kills the process: parseUpload only stream.resume()s such a part, with no ' +
      '"error" listener, and busboy destroys it with "Unexpected end of form" → uncaught exception. Any key with ' +
      'FILES_UPLOAD (the user role) can stop Gantry, mid-print too. Fix: attach an error listener to every file stream ' +
      '(stream.on("error", () => {})) before resuming it.',
    matches: (c) => {
      if (!reachesUpload(c) || c.body === undefined) return false;
      const type = c.headers.find(([k]) => k === 'Content-Type')?.[1] ?? '';
      return errorsAnUnkeptFile(type, typeof c.body === 'string' ? Buffer.from(c.body) : c.body);
    },
  },
];
