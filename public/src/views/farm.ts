// The farm view: every printer as a card (name, state, file, progress, time left, temperatures, a camera still);
// a tap opens that printer. Polled, not pushed: a printer's push socket carries its whole terminal traffic (every
// line sent while it prints), so a socket per printer would ship a dozen printers' serial logs to a phone. Instead,
// while this view is on screen, one request every 5 s (longer with many printers, farmPollMs) asks for every
// printer with its status model (GET /api/gantry/printers?status=true): state, progress, time left, temperatures
// and whether it has a camera, the same model the dashboard's push messages are made from. A camera still is asked
// only of a printer that has a camera and whose card is on screen. Nothing is asked while the view is hidden or the
// tab is away. The farm queue under the cards is farm-queue.ts's.
import { api } from '../api.js';
import { $, clock, duration, h } from '../dom.js';
import { heatersLine, isLinked, progressFigures, stateClass } from '../figures.js';
import { farmPollMs, pageFor, printerBase, printerPath } from '../printer-url.js';
import type { Ctx, PrinterView, PrinterWithStatus } from '../types.js';
import { initFarmQueue } from './farm-queue.js';

interface Card {
  el: HTMLElement;
  /** the camera still's URL, null when the printer has none (asked once each time the view opens) */
  still: string | null | undefined;
  pill: HTMLElement;
  cam: HTMLImageElement;
  file: HTMLElement;
  bar: HTMLElement;
  job: HTMLElement;
  temps: HTMLElement;
  onScreen: boolean;
}

export function initFarm(ctx: Ctx): void {
  const list = $('#farm-list');
  const cards = new Map<string, Card>();
  let order = '';
  const mayWatch = ctx.can('WEBCAM') && ctx.can('SETTINGS_READ');
  // a new still only once the last one has arrived: a slow Pi is never asked for two at a time
  const snap = (c: Card) => {
    if (c.still && c.onScreen && ctx.visible('farm') && (c.cam.complete || !c.cam.getAttribute('src'))) c.cam.src = `${c.still}${c.still.includes('?') ? '&' : '?'}t=${Date.now()}`;
  };
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const c = cards.get((e.target as HTMLElement).dataset['printer'] ?? '');
      if (!c) continue;
      c.onScreen = e.isIntersecting;
      if (!c.cam.getAttribute('src')) snap(c); // scrolled into view: its still at once, not at the next round
    }
  });

  const card = (p: PrinterView): Card => {
    let c = cards.get(p.id);
    if (c) return c;
    const pill = h('span', { class: 'pill' });
    const cam = h('img', { class: 'farm-cam', alt: `${p.name}: camera` });
    cam.hidden = true;
    const bar = h('div');
    const el = h(
      'a',
      { class: 'card farm-card', href: pageFor(p.id, '#dashboard'), 'data-printer': p.id },
      h('div', { class: 'farm-head' }, h('strong', {}), pill),
      cam,
      h('div', { class: 'farm-file' }),
      h('div', { class: 'progress', role: 'progressbar', 'aria-label': `${p.name}: progress`, 'aria-valuemin': '0', 'aria-valuemax': '100' }, bar),
      h('div', { class: 'farm-job' }),
      h('div', { class: 'farm-temps' }),
    );
    c = { el, still: undefined, pill, cam, bar, file: $('.farm-file', el), job: $('.farm-job', el), temps: $('.farm-temps', el), onScreen: false };
    cards.set(p.id, c);
    seen.observe(el);
    return c;
  };

  // the still's URL from the printer's settings (it may carry the camera's token), asked once each time the view
  // opens and only of a printer whose status says it has a camera
  const cameraOf = async (p: PrinterWithStatus, c: Card): Promise<void> => {
    if (!p.status.camera.available || !mayWatch) c.still = null;
    if (c.still !== undefined) return;
    const s = await api<{ webcam: { webcamEnabled: boolean; snapshotUrl: string } }>(printerPath(printerBase(p.id), '/api/settings')).catch(() => undefined);
    c.still = s?.webcam.webcamEnabled ? printerPath(printerBase(p.id), s.webcam.snapshotUrl) : null;
  };

  const update = async (p: PrinterWithStatus) => {
    const c = card(p);
    const s = p.status;
    $('strong', c.el).textContent = p.name;
    c.pill.textContent = s.state.text;
    c.pill.className = `pill ${stateClass(s.state.id)}`;
    c.temps.textContent = isLinked(s.state.id) ? heatersLine(s.temperatures) : '';
    // the figures of a print, worked out as the dashboard's job card does; an idle printer's card is its name,
    // state and temperatures
    const on = s.job.active;
    const { pct, left, endsAt } = progressFigures(s.progress, s.state.flags);
    c.file.textContent = on ? (s.job.file?.display ?? s.job.file?.name ?? '') : '';
    c.bar.style.width = `${pct}%`;
    c.bar.parentElement!.setAttribute('aria-valuenow', String(Math.round(pct)));
    c.bar.parentElement!.hidden = !on;
    c.job.textContent = on ? `${pct.toFixed(1)} % · ${duration(left)} left${endsAt ? ` · done ${clock(endsAt)}` : ''}` : '';
    await cameraOf(p, c);
    c.cam.hidden = c.still === null;
    snap(c);
  };

  let timer: number | undefined;
  let busy = false;
  const round = async () => {
    clearTimeout(timer);
    if (busy || !ctx.visible('farm')) return;
    busy = true;
    try {
      const r = await api<{ printers: PrinterWithStatus[] }>('/api/gantry/printers?status=true').catch(() => undefined);
      if (r) {
        for (const [id, c] of cards) {
          if (r.printers.some((p) => p.id === id)) continue;
          seen.unobserve(c.el);
          cards.delete(id);
        }
        await Promise.all(r.printers.map(update));
        const ids = r.printers.map((p) => p.id).join();
        if (ids !== order) list.replaceChildren(...r.printers.map((p) => h('li', {}, card(p).el)));
        order = ids;
      }
    } finally {
      busy = false;
    }
    if (ctx.visible('farm')) timer = window.setTimeout(() => void round(), farmPollMs(cards.size));
  };
  ctx.onShow('farm', (shown) => {
    if (!shown) return clearTimeout(timer);
    for (const c of cards.values()) c.still = undefined;
    void round();
  });
  ctx.onPlugin((plugin) => plugin === 'gantry_printers' && void round());
  initFarmQueue(ctx);
}
