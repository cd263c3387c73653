// The farm queue as the page words it, and the constraints its "add" form sends. Pure (no DOM): the unit tests run
// it in Node.

/** a farm queue item as GET /api/gantry/farm/queue lists it (src/farm/farm-queue.ts FarmItemView), as far as the
 * page reads it */
export interface FarmItem {
  id: string;
  path: string;
  copies: number;
  printed: number;
  state: 'waiting' | 'printing' | 'interrupted' | 'done';
  printing: { printer: string; since: number; interrupted: boolean }[];
  addedBy: string | null;
  reason: string | null;
}

export interface FarmQueueView {
  items: FarmItem[];
  printers: { id: string; name: string; ready: boolean; reason: string | null }[];
}

export interface FarmConstraints {
  nozzleDiameter?: number;
  filamentType?: string;
  printers?: string[];
}

/** 'printing on Printer two, Printer three': where its copies are, by the printers' names */
export function farmWhere(item: FarmItem, names: ReadonlyMap<string, string>): string {
  const on = (xs: FarmItem['printing']) => xs.map((p) => names.get(p.printer) ?? p.printer).join(', ');
  const cut = item.printing.filter((p) => p.interrupted);
  const running = item.printing.filter((p) => !p.interrupted);
  return [running.length ? `printing on ${on(running)}` : '', cut.length ? `interrupted on ${on(cut)}: was it printed?` : ''].filter(Boolean).join(' · ');
}

/** An item's line under its name: copies printed, where it prints, and why the rest wait (Gantry's words). */
export function farmItemLine(item: FarmItem, names: ReadonlyMap<string, string>): string {
  return [`${item.printed} of ${item.copies} printed`, farmWhere(item, names), item.reason ? `waiting: ${item.reason}` : '', item.addedBy ? `added by ${item.addedBy}` : '']
    .filter(Boolean)
    .join(' · ');
}

/** The "add to the farm queue" form's optional fields as the API's `constraints`; undefined when none is set.
 * Printers: none ticked, or every one, means any printer. */
export function farmConstraints(f: { nozzle: string; filament: string; printers: string[] }, printerCount: number): FarmConstraints | undefined {
  const out: FarmConstraints = {};
  const nozzle = Number(f.nozzle.trim().replace(',', '.'));
  if (f.nozzle.trim() && Number.isFinite(nozzle) && nozzle > 0) out.nozzleDiameter = nozzle;
  if (f.filament.trim()) out.filamentType = f.filament.trim();
  if (f.printers.length > 0 && f.printers.length < printerCount) out.printers = [...f.printers];
  return Object.keys(out).length ? out : undefined;
}
