// What a file needs of a printer (from its analysis: where it prints, the slicer's nozzle and filament) and whether
// a printer's profile gives it. A mismatch is said in words a person acts on: "bed 220×220 < 235×205 needed".
import type { PrinterProfile } from '../config/settings.js';
import type { Box } from '../files/analysis/analyze.js';
import type { StoredAnalysis } from '../files/analysis/analysis-queue.js';

/** What an item's sender may ask for besides what the file says (it wins over the file's slicer metadata). */
export interface FarmConstraints {
  nozzleDiameter?: number;
  filamentType?: string;
  /** only these printers (ids) */
  printers?: string[];
}

export interface Requirements {
  /** where the file extrudes, in the file's coordinates; null: not known (no analysis, or nothing extruded) */
  area: Box | null;
  nozzleDiameter: number | null;
  filamentType: string | null;
  /** the machine the slicer was set up for, as it names it (shown; not matched: names differ between slicers) */
  slicedFor: string | null;
  printers: string[] | null;
}

/** A multi-extruder slicer lists one value per extruder (`0.4,0.4`, `PLA;PETG`): the first tool's is the one a
 * single-nozzle printer needs. */
const firstOf = (v: string | undefined): string | undefined => v?.split(/[,;]/)[0]?.trim() || undefined;

export function requirementsOf(analysis: StoredAnalysis | undefined, c: FarmConstraints): Requirements {
  const s = analysis?.slicer.settings ?? {};
  const nozzle = Number(firstOf(s['nozzle_diameter']));
  return {
    area: analysis?.printingArea ?? null,
    nozzleDiameter: c.nozzleDiameter ?? (Number.isFinite(nozzle) && nozzle > 0 ? nozzle : null),
    filamentType: c.filamentType ?? firstOf(s['filament_type']) ?? null,
    slicedFor: s['printer_model'] || s['printer_settings_id'] || null,
    printers: c.printers ?? null,
  };
}

/** slicers round coordinates, and a skirt may touch the edge: half a millimetre either way is not a misfit */
const TOLERANCE = 0.5;
const mm = (v: number) => String(Math.ceil(v - TOLERANCE));
/** how far below 0 a lower-left printer still prints: purge lines just off the front edge (Prusa's at Y-3) */
const OFF_BED = 10;

/** Why a printer with this profile cannot print it, or null when it can. */
export function misfit(printerId: string, p: PrinterProfile, r: Requirements): string | null {
  if (r.printers && !r.printers.includes(printerId)) return 'not one of the printers the item asks for';
  const v = p.volume;
  if (r.area) {
    const a = r.area;
    if (v.formFactor === 'circular' || v.origin === 'center') {
      // measured from the bed's centre: what matters is the farthest point either way
      const halfX = Math.max(Math.abs(a.minX), Math.abs(a.maxX));
      const halfY = Math.max(Math.abs(a.minY), Math.abs(a.maxY));
      if (v.formFactor === 'circular') {
        const radius = Math.hypot(halfX, halfY);
        if (radius > v.width / 2 + TOLERANCE) return `bed ⌀${v.width} < ⌀${mm(2 * radius)} needed`;
      } else if (2 * halfX > v.width + TOLERANCE || 2 * halfY > v.depth + TOLERANCE) {
        return `bed ${v.width}×${v.depth} < ${mm(2 * halfX)}×${mm(2 * halfY)} needed`;
      }
    } else if (a.minX < -OFF_BED || a.minY < -OFF_BED) {
      // coordinates around 0: sliced for a printer whose origin is the bed's centre; here half would miss the bed
      return `bed origin lower-left, the file prints from X${Math.floor(a.minX)} Y${Math.floor(a.minY)} (sliced for a centred origin)`;
    } else if (a.maxX > v.width + TOLERANCE || a.maxY > v.depth + TOLERANCE) {
      return `bed ${v.width}×${v.depth} < ${mm(Math.max(a.maxX, 0))}×${mm(Math.max(a.maxY, 0))} needed`;
    }
    if (a.maxZ > v.height + TOLERANCE) return `height ${v.height} < ${mm(a.maxZ)} needed`;
  }
  if (r.nozzleDiameter !== null && Math.abs(p.extruder.nozzleDiameter - r.nozzleDiameter) > 0.01) {
    return `nozzle ${p.extruder.nozzleDiameter} mm, ${r.nozzleDiameter} mm needed`;
  }
  const loaded = p.filamentType?.trim() ?? '';
  if (r.filamentType && loaded && loaded.toLowerCase() !== r.filamentType.toLowerCase()) return `${loaded} loaded, ${r.filamentType} needed`;
  return null;
}
