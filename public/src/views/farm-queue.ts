// The farm queue under the farm view's cards: each item with its state, the printers its copies are on and why the
// rest wait (Gantry's words); reorder and remove; for a copy cut short by a stop, the choice between "it was printed"
// and "print it again". A printer waiting only for its bed to be confirmed clear gets the button for that here.
// Live: Gantry's farm_changed message (sent on every printer's push socket) refetches the list while it is shown.
import { api } from '../api.js';
import { $, act, h } from '../dom.js';
import { type FarmQueueView, farmItemLine } from '../farm-words.js';
import { printerBase, printerPath } from '../printer-url.js';
import type { Ctx } from '../types.js';

const BED = 'bed not confirmed clear';

export function initFarmQueue(ctx: Ctx): void {
  const may = ctx.can('PRINT');
  const list = $('#farm-queue');
  const beds = $('#farm-beds');
  const item = (id: string, body: Record<string, unknown>) => api(`/api/gantry/farm/queue/${encodeURIComponent(id)}`, { json: body });

  const load = async () => {
    const q = await api<FarmQueueView>('/api/gantry/farm/queue').catch(() => undefined);
    if (!q) return;
    const names = new Map(q.printers.map((p) => [p.id, p.name]));
    const button = (label: string, run: () => Promise<unknown>, kind = 'small', aria?: string) => {
      const b = h('button', { type: 'button', class: kind, 'aria-label': aria }, label);
      b.onclick = () => act(b, async () => (await run(), load()));
      return b;
    };
    list.replaceChildren(
      ...(q.items.length
        ? q.items.map((it, i) => {
            const move = (to: number, label: string) => {
              const b = button(label, () => item(it.id, { command: 'move', position: to }), 'small', `${label} ${it.path}`);
              b.disabled = to < 0 || to >= q.items.length;
              return b;
            };
            const cut = it.printing.some((p) => p.interrupted);
            return h(
              'li',
              { class: 'item nothumb', 'data-item': it.id, 'data-state': it.state },
              h('div', { class: 'farm-head' }, h('span', { class: 'name' }, `${i + 1}. ${it.path}`), h('span', { class: `pill ${it.state === 'printing' ? 'busy' : it.state === 'interrupted' ? 'warn' : ''}` }, it.state)),
              h('div', { class: 'meta' }, farmItemLine(it, names)),
              may &&
                h(
                  'div',
                  { class: 'buttons' },
                  cut && button('It was printed', () => item(it.id, { command: 'printed' }), 'small primary'),
                  cut && button('Print it again', () => item(it.id, { command: 'requeue' })),
                  move(i - 1, 'Up'),
                  move(i + 1, 'Down'),
                  button('Remove', () => api(`/api/gantry/farm/queue/${encodeURIComponent(it.id)}`, { method: 'DELETE' }), 'small danger'),
                ),
            );
          })
        : [h('li', { class: 'empty' }, 'The farm queue is empty. Add files from the Files tab: each goes to the first idle printer it fits.')]),
    );
    // work waits and a printer's only obstacle is its bed: ask for it here rather than in that printer's page
    const blocked = may && q.items.some((it) => it.reason) ? q.printers.filter((p) => p.reason === BED) : [];
    beds.replaceChildren(
      ...blocked.map((p) =>
        h('div', { class: 'banner', 'data-printer': p.id }, h('span', {}, `${p.name}: is its bed clear?`), button('Bed is clear', () => api(printerPath(printerBase(p.id), '/api/gantry/queue/bed-clear'), { json: {} }), 'primary')),
      ),
    );
  };

  // a burst of changes (a dispatch is several) is one refetch
  let timer: number | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void load(), 200);
  };
  ctx.onShow('farm', (shown) => shown && void load());
  ctx.onPlugin((plugin, data) => plugin === 'gantry' && data['type'] === 'farm_changed' && ctx.visible('farm') && soon());
  ctx.onPlugin((plugin) => plugin === 'gantry_printers' && ctx.visible('farm') && soon());
}
