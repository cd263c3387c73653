// The print queue (reorder, remove, confirm the bed is clear) and the history with its totals.
import { api } from '../api.js';
import { $, act, duration, h, when } from '../dom.js';
import type { Ctx } from '../types.js';

interface QueueView {
  items: { id: string; path: string; copies: number; printed: number; addedBy: string | null }[];
  bedClear: boolean;
  enabled: boolean;
}
interface HistoryView {
  jobs: { id: string; file: { display: string; path: string }; result: 'success' | 'failed' | 'cancelled'; printTime: number; end: number; reason: string | null }[];
  totals: { prints: number; success: number; failed: number; cancelled: number; printTime: number };
}

export function initQueue(ctx: Ctx): void {
  const may = ctx.can('PRINT');
  const loadQueue = async () => {
    const q = await api<QueueView>(ctx.at('/api/gantry/queue')).catch(() => undefined);
    if (!q) return;
    $('#bedclear').hidden = q.bedClear || q.items.length === 0 || !may;
    const list = $('#queue-list');
    list.replaceChildren(
      ...(q.items.length
        ? q.items.map((it, i) => {
            const move = (to: number, label: string) => {
              const b = h('button', { type: 'button', class: 'small', 'aria-label': `${label} ${it.path}` }, label);
              b.disabled = to < 0 || to >= q.items.length;
              b.onclick = () => act(b, async () => (await api(ctx.at(`/api/gantry/queue/${it.id}`), { json: { command: 'move', position: to } }), loadQueue()));
              return b;
            };
            const remove = h('button', { type: 'button', class: 'small danger' }, 'Remove');
            remove.onclick = () => act(remove, async () => (await api(ctx.at(`/api/gantry/queue/${it.id}`), { method: 'DELETE' }), loadQueue()));
            return h(
              'li',
              { class: 'item nothumb' },
              h('div', { class: 'name' }, `${i + 1}. ${it.path}`),
              h('div', { class: 'meta' }, `${it.printed} of ${it.copies} printed${it.addedBy ? ` · added by ${it.addedBy}` : ''}`),
              may && h('div', { class: 'buttons' }, move(i - 1, 'Up'), move(i + 1, 'Down'), remove),
            );
          })
        : [h('li', { class: 'empty' }, 'The queue is empty. Add files from the Files tab.')]),
    );
  };
  const loadHistory = async () => {
    const r = await api<HistoryView>(`/api/gantry/history?limit=50&printer=${encodeURIComponent(ctx.printerId)}`).catch(() => undefined);
    if (!r) return;
    const t = r.totals;
    $('#history-totals').textContent = `${t.prints} prints: ${t.success} finished, ${t.failed} failed, ${t.cancelled} cancelled; ${duration(t.printTime)} printing in all.`;
    $('#history-list').replaceChildren(
      ...(r.jobs.length
        ? r.jobs.map((j) =>
            h(
              'li',
              { class: 'item nothumb' },
              h('div', { class: 'name' }, j.file.display ?? j.file.path),
              h('div', { class: 'meta' }, h('span', { class: `result-${j.result}` }, j.result), ` · ${duration(j.printTime)} · ${when(j.end)}${j.reason && j.result !== 'success' ? ` · ${j.reason}` : ''}`),
            ),
          )
        : [h('li', { class: 'empty' }, 'Nothing printed yet.')]),
    );
  };
  const bedClear = $<HTMLButtonElement>('#bedclear-ok');
  bedClear.onclick = () => act(bedClear, async () => (await api(ctx.at('/api/gantry/queue/bed-clear'), { json: {} }), loadQueue()));
  const both = () => void Promise.all([loadQueue(), loadHistory()]);
  ctx.onShow('queue', (shown) => shown && both());
  ctx.onEvent(['PrintDone', 'PrintFailed', 'PrintCancelled', 'PrintStarted'], () => ctx.visible('queue') && both());
  ctx.onPlugin((plugin, data) => plugin === 'gantry' && data['type'] === 'queue_changed' && ctx.visible('queue') && void loadQueue());
}
