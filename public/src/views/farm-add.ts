// "Farm queue" on a file: a dialog that adds it to the farm queue (the shared one, whose jobs go to the first idle
// printer they fit) with its copies and, optionally, what it asks of a printer beyond what its slicer wrote in it:
// a nozzle, a filament type, some printers only. Gantry's own words are shown when it refuses.
import { api } from '../api.js';
import { $, h, toast } from '../dom.js';
import { farmConstraints } from '../farm-words.js';
import type { PrinterView } from '../types.js';

export async function farmAdd(path: string, label: string): Promise<void> {
  const dlg = $<HTMLDialogElement>('#farm-add');
  const form = $<HTMLFormElement>('form', dlg);
  const error = $('.form-error', form);
  form.reset();
  error.textContent = '';
  $('#farm-add-file').textContent = label;
  const r = await api<{ printers: PrinterView[] }>('/api/gantry/printers').catch(() => undefined);
  const printers = r?.printers ?? [];
  $('#farm-add-printers').replaceChildren(...printers.map((p) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'printer', value: p.id }), p.name)));
  form.onsubmit = (e) => {
    // the Cancel button closes the dialog as a form of method="dialog" does
    if ((e.submitter as HTMLButtonElement | null)?.value === 'cancel') return;
    e.preventDefault();
    const f = new FormData(form);
    const constraints = farmConstraints({ nozzle: String(f.get('nozzle') ?? ''), filament: String(f.get('filament') ?? ''), printers: f.getAll('printer').map(String) }, printers.length);
    const submit = $<HTMLButtonElement>('button[value=ok]', form);
    submit.disabled = true;
    void api('/api/gantry/farm/queue', { json: { path, copies: Number(f.get('copies') || 1), ...(constraints ? { constraints } : {}) } })
      .then(() => {
        dlg.close();
        toast(`${label} added to the farm queue`, 'ok');
      }, (err: Error) => void (error.textContent = err.message))
      .finally(() => (submit.disabled = false));
  };
  dlg.showModal();
}
