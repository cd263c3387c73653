// Several printers in one Gantry, as a test drives them: each its own print file, uploads and states at a
// printer's base URL ('/' for the default printer, '/printers/<id>/' for every printer).
import type { PrinterView } from '../../src/api/context.js';
import type { GantryRig } from './gantry-rig.js';
import { waitFor } from './wait.js';

/** a short print of its own for each printer: the moves name the printer, so a mix-up shows */
export function gcodeFor(id: string, lines = 400): string {
  const out = ['G28', 'G90', 'M83'];
  for (let i = 0; i < lines; i++) out.push(`G1 X${(i % 100) + 1} Y${id.length + (i % 7)} E0.0${i % 10} F3000 ; ${id} ${i}`);
  return out.join('\n') + '\n';
}

/** a print that lasts: long slow moves (each a second or more for the simulator); the test cancels it */
export function slowGcode(): string {
  const out = ['G28', 'G90'];
  for (let i = 0; i < 400; i++) out.push(`G1 X${i % 2 ? 200 : 0} Y${i % 2 ? 200 : 0} F60`);
  return out.join('\n') + '\n';
}

/** Uploads a file at a printer's base URL, with form fields such as print=true. */
export async function uploadAt(rig: GantryRig, base: string, name: string, text: string, fields: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([text]), name);
  return rig.api(`${base}api/files/local`, { method: 'POST', body: form });
}

export async function stateAt(rig: GantryRig, base: string): Promise<string> {
  const r = await rig.api(`${base}api/connection`);
  return ((await r.json()) as { current: { state: string } }).current.state;
}

export async function listPrinters(rig: GantryRig): Promise<PrinterView[]> {
  return ((await (await rig.api('/api/gantry/printers')).json()) as { printers: PrinterView[] }).printers;
}

/** Waits until the printer at `base` has finished its print (idle again at 100 %). */
export async function waitPrinted(rig: GantryRig, id: string, base: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${id} done`, async () => {
    const j = (await (await rig.api(`${base}api/job`)).json()) as { state: string; progress: { completion: number | null } };
    return (j.state === 'Operational' && j.progress.completion === 100) || undefined;
  }, timeoutMs, 50);
}
