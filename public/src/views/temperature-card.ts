// Temperatures: each heater's reading and target (set one, or a preset for all), and a 30-minute chart.
import { api } from '../api.js';
import { $, act, h } from '../dom.js';
import { heaterName } from '../figures.js';
import type { Ctx, Heater, TempSample } from '../types.js';

const WINDOW_S = 30 * 60;
const COLORS: Record<string, string> = { tool0: '#e4572e', tool1: '#f3a712', tool2: '#b5179e', tool3: '#8d6a9f', bed: '#3d8bfd', chamber: '#2ca58d' };

/** uPlot (the chart library) loads after the page is live: the readings come first, the chart a moment later. */
function loadChartLibrary(): Promise<void> {
  return new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = 'vendor/uplot.css';
    document.head.append(css);
    const js = document.createElement('script');
    js.src = 'vendor/uplot.js';
    js.onload = () => resolve();
    js.onerror = () => reject(new Error('the chart library did not load'));
    document.head.append(js);
  });
}

export function initTemperatureCard(ctx: Ctx): void {
  const rows = new Map<string, { now: HTMLElement; input: HTMLInputElement }>();
  const box = $('#heaters');

  const setTarget = (heater: string, value: number) =>
    heater === 'bed' || heater === 'chamber'
      ? api(ctx.at(`/api/printer/${heater}`), { json: { command: 'target', target: value } })
      : api(ctx.at('/api/printer/tool'), { json: { command: 'target', targets: { [heater]: value } } });

  const row = (key: string) => {
    let r = rows.get(key);
    if (r) return r;
    const now = h('div', { class: 'now' });
    const input = h('input', { type: 'number', min: '0', max: '400', step: '1', inputmode: 'numeric', 'aria-label': `${heaterName(key)} target °C` });
    const set = h('button', { type: 'submit' }, 'Set');
    const form = h('form', {}, input, set);
    form.onsubmit = (e) => {
      e.preventDefault();
      const v = Number(input.value);
      if (input.value === '' || !Number.isFinite(v)) return;
      void act(set, () => setTarget(key, v), `${heaterName(key)} target ${v} °C`);
    };
    const el = h('div', { class: 'heater' }, h('div', {}, h('div', {}, heaterName(key)), now), form);
    if (!ctx.can('CONTROL')) form.hidden = true;
    box.append(el);
    r = { now, input };
    rows.set(key, r);
    return r;
  };

  // presets from the settings (PLA, PETG, …) and Off
  const presets = $('#presets');
  const applyAll = async (tool: number, bed: number) => {
    const heaters = [...rows.keys()];
    for (const k of heaters.filter((k) => k.startsWith('tool'))) await setTarget(k, tool);
    if (heaters.includes('bed')) await setTarget('bed', bed);
  };
  if (ctx.can('CONTROL')) {
    for (const p of ctx.settings()?.temperature.profiles ?? []) {
      const b = h('button', { type: 'button' }, `${p.name} ${p.extruder}/${p.bed}`);
      b.onclick = () => act(b, () => applyAll(p.extruder, p.bed), `${p.name}: heating`);
      presets.append(b);
    }
    const off = h('button', { type: 'button' }, 'Off');
    off.onclick = () => act(off, () => applyAll(0, 0), 'Heaters off');
    presets.append(off);
  }

  // the chart: one line per heater's reading, dashed for its target
  const series: { key: string; kind: 'actual' | 'target' }[] = [];
  let data: number[][] = [[]];
  let plot: uPlot | undefined;
  const chartBox = $('#chart');
  const ensurePlot = (keys: string[]) => {
    if (keys.join() !== series.filter((x) => x.kind === 'actual').map((x) => x.key).join()) {
      // a heater appeared (or went): new series, earlier samples blank for it
      series.length = 0;
      for (const k of keys) series.push({ key: k, kind: 'actual' }, { key: k, kind: 'target' });
      const times = data[0] ?? [];
      data = [times, ...series.map(() => times.map(() => null as unknown as number))];
      plot?.destroy();
      plot = undefined;
    }
    if (plot || typeof uPlot === 'undefined') return;
    plot = new uPlot(
      {
        width: Math.max(260, chartBox.clientWidth),
        height: 200,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(50, max + 10)] } },
        axes: [{ stroke: getComputedStyle(document.body).color }, { stroke: getComputedStyle(document.body).color, label: '°C' }],
        series: [
          {},
          ...series.map((s) => ({
            label: `${heaterName(s.key)}${s.kind === 'target' ? ' target' : ''}`,
            stroke: COLORS[s.key] ?? '#888',
            width: s.kind === 'actual' ? 2 : 1,
            points: { show: false },
            dash: s.kind === 'target' ? [6, 4] : [],
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v.toFixed(1)} °C`),
          })),
        ],
      },
      data as uPlot.AlignedData,
      chartBox,
    );
  };
  const add = (samples: TempSample[], replace: boolean) => {
    if (replace) data = [[], ...series.map(() => [] as number[])];
    for (const s of samples) {
      const keys = Object.keys(s).filter((k) => k !== 'time').sort();
      if (keys.length >= series.length / 2) ensurePlot(keys);
      data[0]!.push(s.time);
      series.forEach((x, i) => {
        const hv = s[x.key] as Heater | undefined;
        data[i + 1]!.push((x.kind === 'actual' ? hv?.actual : hv?.target) ?? (null as unknown as number));
      });
    }
    const cutoff = Date.now() / 1000 - WINDOW_S;
    let drop = 0;
    while (drop < data[0]!.length && data[0]![drop]! < cutoff) drop++;
    if (drop) data = data.map((d) => d.slice(drop));
    if (ctx.visible('dashboard')) plot?.setData(data as uPlot.AlignedData);
  };

  let library: Promise<void> | undefined;
  // readings and targets as text, from the newest sample
  ctx.onCurrent((c, fromHistory) => {
    library ??= loadChartLibrary().then(
      () => {
        ensurePlot(series.filter((x) => x.kind === 'actual').map((x) => x.key));
        plot?.setData(data as uPlot.AlignedData);
      },
      () => undefined,
    );
    const last = c.temps.at(-1);
    if (last) {
      for (const [k, v] of Object.entries(last)) {
        if (k === 'time') continue;
        const hv = v as Heater;
        const r = row(k);
        r.now.replaceChildren(`${hv.actual === null ? '–' : hv.actual.toFixed(1)} °C`, h('small', {}, ` → ${hv.target ? `${hv.target} °C` : 'off'}`));
        if (document.activeElement !== r.input && hv.target !== null) r.input.placeholder = String(hv.target);
      }
    }
    // the printer API answers 409 while the printer is away; the push history is all there is then
    if (fromHistory && c.state.flags.operational) void loadHistory(c.temps);
    else if (fromHistory) add(c.temps, true);
    else add(c.temps, false);
  });
  // the push history holds five minutes; the printer API holds the full half hour
  const loadHistory = async (fallback: TempSample[]) => {
    const r = await api<{ temperature: { history?: TempSample[] } }>(ctx.at(`/api/printer?history=true&limit=${WINDOW_S}&exclude=sd,state`)).catch(() => undefined);
    add(r?.temperature.history?.length ? [...r.temperature.history].sort((a, b) => a.time - b.time) : fallback, true);
  };
  ctx.onShow('dashboard', (shown) => {
    if (shown) plot?.setData(data as uPlot.AlignedData);
  });
  new ResizeObserver(() => plot?.setSize({ width: Math.max(260, chartBox.clientWidth), height: 200 })).observe(chartBox);
  // the axes take the text colour when the chart is built: rebuild it when the system switches light/dark
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    plot?.destroy();
    plot = undefined;
    ensurePlot(series.filter((x) => x.kind === 'actual').map((x) => x.key));
    (plot as uPlot | undefined)?.setData(data as uPlot.AlignedData); // rebuilt by ensurePlot
  });
}
