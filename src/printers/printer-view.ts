// A printer as GET /api/gantry/printers lists it: the API builds it (PrinterRegistry) and the web page reads it, so
// both take the shape from here. No imports: the page's compile reads this file too.

export interface PrinterView {
  id: string;
  name: string;
  /** the printer today's URLs (/api/…) answer for */
  default: boolean;
  /** its OctoPrint-compatible base URL, to give a slicer, Home Assistant or a farm manager */
  path: string;
  port: string;
  baudrate: number;
  state: string;
  stateText: string;
  printing: boolean;
  progress: number | null;
  file: string | null;
}

/** GET /api/gantry/printers?status=true: each printer with its whole status model (src/status/types.ts, served as
 * JSON; typed loosely here because this file takes no imports), so a farm view needs one request per refresh. */
export interface PrinterViewWithStatus extends PrinterView {
  status: Record<string, unknown>;
}
