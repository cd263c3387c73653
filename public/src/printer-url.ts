// Which printer the page controls and where it answers. Every printer has an OctoPrint-compatible base URL,
// /printers/<id>/; the default one also answers at /, and the page keeps using / for it, so a Gantry with one
// printer talks exactly as before. Pure (no DOM): the unit tests run it in Node.

export const DEFAULT_PRINTER = 'printer';
/** the registry's printer id rule (a slug): anything else in a URL or in storage is ignored */
const ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The printer to open: the URL's ?printer= first, then the one chosen last time, else the default. */
export function choosePrinter(fromUrl: string | null, stored: string | null): string {
  for (const id of [fromUrl, stored]) if (id && ID.test(id)) return id;
  return DEFAULT_PRINTER;
}

/** The base a printer's URLs start with, without the trailing slash: '' for the default printer. */
export function printerBase(id: string): string {
  return id === DEFAULT_PRINTER ? '' : `/printers/${encodeURIComponent(id)}`;
}

/** A printer-scoped path ('/api/job', '/webcam/?action=snapshot') at that printer's base. */
export function printerPath(base: string, path: string): string {
  return base + (path.startsWith('/') ? path : `/${path}`);
}

/** The page showing one printer, in the given section: the address kept in the URL bar and opened on a switch. */
export function pageFor(id: string, hash = ''): string {
  return `/?printer=${encodeURIComponent(id)}${hash}`;
}

/** How often the farm view asks each printer for its figures: every 5 s, stretched with many printers, so a
 * dozen printers cost a Pi Zero a few small requests a second at most. */
export function farmPollMs(printers: number): number {
  return Math.max(5000, printers * 500);
}
