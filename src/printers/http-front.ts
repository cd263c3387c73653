// Where a request goes: /printers/<id>/… to that printer's base URL (the whole OctoPrint API, SockJS, webcam and
// downloads, as if it stood alone at /), everything else to the default printer, which answers at today's URLs.
// So a slicer, Home Assistant or FDM Monster pointed at http://gantry.local/printers/ender3 needs no change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rememberBase } from '../api/http.js';
import type { PrinterUnit } from './unit.js';

const BASE = /^\/printers\/([^/]*)(\/.*)?$/;

export interface UnitLookup {
  get(id: string): PrinterUnit | undefined;
  readonly defaultUnit: PrinterUnit;
}

export function requestPath(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0]!.replace(/\/{2,}/g, '/');
}

function query(req: IncomingMessage): string {
  const url = req.url ?? '';
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i);
}

/** The printer a path names and the path under its base; undefined: not a /printers/ path. */
function route(units: UnitLookup, req: IncomingMessage): { unit: PrinterUnit | undefined; id: string; rest: string | undefined } | undefined {
  const m = BASE.exec(requestPath(req));
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]!);
  } catch {
    id = m[1]!;
  }
  return { unit: units.get(id), id, rest: withoutRepeatedBase(m[2], m[1]!) };
}

/** Home Assistant (pyoctoprintapi) joins the base URL it was given with the settings' webcam.streamUrl, which already
 * names the printer's base: `/printers/two/` + `/printers/two/webcam/?action=stream` (root-relative, as OctoPrint's
 * is and as browsers and Cura resolve it). The repeated base is dropped, so both readings reach the camera. */
function withoutRepeatedBase(rest: string | undefined, segment: string): string | undefined {
  const base = `/printers/${segment}`;
  if (rest === base) return '/';
  return rest?.startsWith(`${base}/`) ? rest.slice(base.length) : rest;
}

export function frontRequest(units: UnitLookup): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const r = route(units, req);
    if (!r) {
      units.defaultUnit.handleRequest(req, res, requestPath(req));
      return;
    }
    if (!r.unit) {
      const body = JSON.stringify({ error: `No printer "${r.id}"; GET /api/gantry/printers lists them` });
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
      return;
    }
    if ((r.rest === undefined || r.rest === '/') && (req.method === 'GET' || req.method === 'HEAD')) {
      // a person opening a printer's base URL gets the page, showing that printer
      res.writeHead(302, { Location: `/?printer=${encodeURIComponent(r.id)}`, 'Content-Length': 0 }).end();
      return;
    }
    const rest = r.rest ?? '/';
    req.url = rest + query(req);
    rememberBase(req, `/printers/${encodeURIComponent(r.id)}`);
    r.unit.handleRequest(req, res, rest);
  };
}

export function frontUpgrade(units: UnitLookup): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const r = route(units, req);
    let taken: boolean;
    if (!r) taken = units.defaultUnit.handleUpgrade(req, socket, head, requestPath(req));
    else if (!r.unit) taken = false;
    else {
      const rest = r.rest ?? '/';
      req.url = rest + query(req);
      taken = r.unit.handleUpgrade(req, socket, head, rest);
    }
    if (!taken) socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  };
}
