// Settings → Printers (administrators): this Gantry's printers, each removable (after a confirmation; Gantry
// refuses while it prints, and says so), and a form to add one: its id (its address, /printers/<id>/), a name, the
// port (what the default printer's connection finds, the virtual printer, or any path or network address typed in)
// and the baud rate. Gantry's own words are shown when it refuses (a bad id, a port another printer holds).
import { api } from '../api.js';
import { $, act, confirmDialog, h, toast } from '../dom.js';
import { pageFor } from '../printer-url.js';
import type { Ctx, PrinterView } from '../types.js';
import { type Connection, fillConnectionChoices } from './connection-card.js';

const OTHER = '';

export function initPrintersAdmin(ctx: Ctx): { load(): Promise<void> } {
  $('#printers-section').hidden = false;
  const form = $<HTMLFormElement>('#printer-form');
  const error = $('.form-error', form);
  const port = $<HTMLSelectElement>('#printer-port');
  const baud = $<HTMLSelectElement>('#printer-baud');
  const other = $<HTMLInputElement>('#printer-port-other');
  const showOther = () => ($('#printer-port-other-label').hidden = port.value !== OTHER);
  port.onchange = showOther;

  const loadPrinters = async () => {
    const r = await api<{ printers: PrinterView[] }>('/api/gantry/printers').catch(() => undefined);
    $('#printer-list').replaceChildren(
      ...(r?.printers ?? []).map((p) => {
        const remove = h('button', { type: 'button', class: 'small danger' }, 'Remove');
        remove.onclick = async () => {
          if (await confirmDialog(`Remove the printer ${p.name}? Its address /printers/${p.id}/ stops answering.`, 'Remove')) await act(remove, async () => (await api(`/api/gantry/printers/${encodeURIComponent(p.id)}`, { method: 'DELETE' }), loadPrinters()), `${p.name} removed`);
        };
        return h(
          'li',
          { class: 'item nothumb', 'data-printer': p.id },
          h('div', { class: 'name' }, h('a', { href: pageFor(p.id, '#dashboard') }, p.name)),
          h('div', { class: 'meta' }, `${p.path} · ${p.port} · ${p.stateText}`),
          !p.default && h('div', { class: 'buttons' }, remove),
        );
      }),
    );
  };
  const loadPorts = async () => {
    const c = await api<Connection>('/api/connection').catch(() => undefined);
    if (!c) return;
    fillConnectionChoices(port, baud, c.options, port.value || 'AUTO', baud.value || '0');
    port.append(h('option', { value: OTHER }, 'Other (type it in)'));
    showOther();
  };

  form.onsubmit = (e) => {
    e.preventDefault();
    error.textContent = '';
    const f = new FormData(form);
    const name = String(f.get('name') ?? '').trim();
    const body = { id: String(f.get('id') ?? '').trim(), ...(name ? { name } : {}), serial: { port: port.value === OTHER ? other.value.trim() : port.value, baudrate: Number(baud.value) } };
    const submit = $<HTMLButtonElement>('button[type=submit]', form);
    submit.disabled = true;
    void api('/api/gantry/printers', { json: body })
      .then(async () => {
        toast(`Printer ${body.id} added`, 'ok');
        form.reset();
        await Promise.all([loadPrinters(), loadPorts()]);
      }, (err: Error) => void (error.textContent = err.message))
      .finally(() => (submit.disabled = false));
  };
  ctx.onPlugin((plugin) => plugin === 'gantry_printers' && ctx.visible('settings') && void loadPrinters());
  return { load: async () => void (await Promise.all([loadPrinters(), loadPorts()])) };
}
