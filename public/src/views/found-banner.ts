// "New printer found" (administrators): a serial device plugged in that no printer claims, with its port and the
// firmware it answered with, and one "Add" that makes it a printer (an id and a name may be given; else Gantry picks
// them from the firmware). Shown on every section, from GET /api/gantry/printers/found at start and again when Gantry
// announces one (printer_found) or the printers change (an added device is no longer listed).
import { api } from '../api.js';
import { $, act, h, toast } from '../dom.js';
import { pageFor } from '../printer-url.js';
import type { Ctx, PrinterView } from '../types.js';

interface Found {
  port: string;
  firmware: { name: string; machineType: string | null; version: string | null } | null;
  note: string | null;
  add: string;
}

/** 'Marlin 2.1 · Virtual Printer', or Gantry's note on why it did not ask the device */
const about = (f: Found) => (f.firmware ? [f.firmware.name, f.firmware.version, f.firmware.machineType].filter(Boolean).join(' · ') : (f.note ?? 'firmware not known yet'));

export function initFoundBanner(ctx: Ctx): void {
  if (!ctx.me.admin) return;
  const box = $('#found-banners');
  const load = async () => {
    const r = await api<{ found: Found[] }>('/api/gantry/printers/found').catch(() => undefined);
    if (!r) return;
    box.replaceChildren(
      ...r.found.map((f) => {
        const id = h('input', { name: 'id', 'aria-label': 'Id (optional)', placeholder: 'id (optional)', maxlength: 32, autocapitalize: 'none', spellcheck: 'false' });
        const name = h('input', { name: 'name', 'aria-label': 'Name (optional)', placeholder: 'name (optional)', maxlength: 100 });
        const add = h('button', { type: 'button', class: 'primary' }, 'Add');
        add.onclick = () =>
          act(add, async () => {
            const body = { ...(id.value.trim() ? { id: id.value.trim() } : {}), ...(name.value.trim() ? { name: name.value.trim() } : {}) };
            const p = await api<PrinterView>(f.add, { json: body });
            toast(`Printer ${p.name} added`, 'ok', { label: 'Open it', run: () => location.assign(pageFor(p.id, '#dashboard')) });
            await load();
          });
        return h(
          'div',
          { class: 'banner found', role: 'region', 'aria-label': 'New printer found', 'data-port': f.port },
          h('span', {}, h('strong', {}, 'New printer found'), ` on ${f.port}: ${about(f)}`),
          h('span', { class: 'inline' }, id, name, add),
        );
      }),
    );
  };
  ctx.onPlugin((plugin, data) => ((plugin === 'gantry' && data['type'] === 'printer_found') || plugin === 'gantry_printers') && void load());
  void load();
}
