// The farm view: every printer as a card (name, state, file, progress, time left, temperatures, a camera still);
// a tap opens that printer. Polled, not pushed: a printer's push socket carries its whole terminal traffic (every
// line sent while it prints), so a socket per printer would ship a dozen printers' serial logs to a phone. Instead,
// while this view is on screen, one round every 5 s (longer with many printers, farmPollMs) asks for the list and,
// per printer, only what its card shows: temperatures when it is connected, the job when it prints, a camera still
// when it has a camera and its card is on screen. Nothing is asked while the view is hidden or the tab is away.
import { api } from '../api.js';
import { $, clock, duration, h } from '../dom.js';
import { heatersLine, isLinked, stateClass } from '../figures.js';
import { farmPollMs, pageFor, printerBase, printerPath } from '../printer-url.js';
import type { Ctx, Heater, PrinterView } from '../types.js';

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

interface JobView {
  job: { file: { display: string | null; name: string | null } };
  progress: { completion: number | null; printTimeLeft: number | null };
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

  const cameraOf = async (id: string, c: Card): Promise<void> => {
    if (c.still !== undefined) return;
    const s = mayWatch ? await api<{ webcam: { webcamEnabled: boolean; snapshotUrl: string } }>(printerPath(printerBase(id), '/api/settings')).catch(() => undefined) : undefined;
    c.still = s?.webcam.webcamEnabled ? printerPath(printerBase(id), s.webcam.snapshotUrl) : null;
  };

  const update = async (p: PrinterView) => {
    const c = card(p);
    const base = printerBase(p.id);
    $('strong', c.el).textContent = p.name;
    c.pill.textContent = p.stateText;
    c.pill.className = `pill ${stateClass(p.state)}`;
    const [temps, job] = await Promise.all([
      isLinked(p.state) ? api<{ temperature: Record<string, Heater> }>(printerPath(base, '/api/printer?exclude=sd,state')).catch(() => undefined) : undefined,
      p.printing ? api<JobView>(printerPath(base, '/api/job')).catch(() => undefined) : undefined,
      cameraOf(p.id, c),
    ]);
    c.temps.textContent = temps ? heatersLine(temps.temperature) : '';
    // the figures of a print; an idle printer's card is its name, state and temperatures
    const pct = job?.progress.completion ?? p.progress ?? 0;
    const left = job?.progress.printTimeLeft ?? null;
    c.file.textContent = p.printing ? (job?.job.file.display ?? job?.job.file.name ?? p.file ?? '') : '';
    c.bar.style.width = `${Math.min(100, Math.max(0, pct))}%`;
    c.bar.parentElement!.setAttribute('aria-valuenow', String(Math.round(pct)));
    c.bar.parentElement!.hidden = !p.printing;
    c.job.textContent = p.printing ? `${pct.toFixed(1)} % · ${duration(left)} left${left !== null ? ` · done ${clock(new Date(Date.now() + left * 1000))}` : ''}` : '';
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
      const r = await api<{ printers: PrinterView[] }>('/api/gantry/printers').catch(() => undefined);
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
}
