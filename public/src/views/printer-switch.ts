// The printer switcher in the header, shown when this Gantry has more than one printer: each printer by name, and
// "All printers" (the farm view). Choosing a printer opens the page for it (its own base URL for everything
// printer-scoped); a printer that went away (removed elsewhere, an old bookmark) falls back to the default one.
import { api } from '../api.js';
import { $, h } from '../dom.js';
import { DEFAULT_PRINTER, pageFor } from '../printer-url.js';
import type { Ctx, PrinterView } from '../types.js';

const FARM = '*';

export function initPrinterSwitch(ctx: Ctx): void {
  const select = $<HTMLSelectElement>('#printer-switch');
  const name = $('#printer-name');
  const onFarm = () => location.hash === '#farm';
  const mark = () => (select.value = onFarm() ? FARM : ctx.printerId);

  const load = async () => {
    const r = await api<{ printers: PrinterView[] }>('/api/gantry/printers').catch(() => undefined);
    if (!r) return;
    if (!r.printers.some((p) => p.id === ctx.printerId)) {
      localStorage.removeItem('gantry.printer');
      location.replace(pageFor(DEFAULT_PRINTER, location.hash));
      return;
    }
    select.replaceChildren(...r.printers.map((p) => h('option', { value: p.id }, p.name)), h('option', { value: FARM }, 'All printers'));
    const many = r.printers.length > 1;
    select.hidden = !many;
    name.hidden = many;
    // what only makes sense with several printers (a file's "Farm queue") shows with the second one (style.css)
    document.body.classList.toggle('many-printers', many);
    mark();
  };
  select.onchange = () => {
    if (select.value === FARM) location.hash = '#farm';
    else location.assign(pageFor(select.value, onFarm() ? '#dashboard' : location.hash));
  };
  window.addEventListener('hashchange', mark);
  ctx.onPlugin((plugin) => plugin === 'gantry_printers' && void load());
  ctx.onEvent('SettingsUpdated', () => void load()); // a printer renamed
  if (ctx.can('STATUS')) void load();
}
