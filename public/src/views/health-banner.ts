// The Pi's health: a warning banner on the dashboard when the power supply is too weak (under-voltage), the Pi is
// throttled, or the card is nearly full; and the figures (temperature, memory, disk, uptime, Wi-Fi) under
// Settings → System; and what was wrong in the image's first-boot file (firstboot-banner.ts). Live from the push
// socket's gantry_system plugin message (every 30 s), and read once at start.
import { api } from '../api.js';
import { $, h } from '../dom.js';
import type { Ctx } from '../types.js';
import { type FirstBootRecord, firstBootBanner } from './firstboot-banner.js';

interface Health {
  cpuTemperature: number | null;
  load: number[] | null;
  memory: { total: number; available: number } | null;
  disk: { free: number; total: number } | null;
  uptime: number | null;
  wifi: { interface: string; signal: number } | null;
  warnings: { code: string; text: string }[];
  firstBoot?: FirstBootRecord | null;
}

const MB = 1048576;

function figures(x: Health): string {
  const parts: string[] = [];
  if (x.cpuTemperature !== null) parts.push(`CPU ${x.cpuTemperature.toFixed(1)} °C`);
  if (x.load) parts.push(`load ${x.load[0]!.toFixed(2)}`);
  if (x.memory) parts.push(`memory ${Math.round(x.memory.available / MB)} of ${Math.round(x.memory.total / MB)} MB free`);
  if (x.disk) parts.push(`card ${(x.disk.free / 1024 / MB).toFixed(1)} of ${(x.disk.total / 1024 / MB).toFixed(1)} GB free`);
  if (x.uptime !== null) parts.push(`up ${x.uptime >= 86400 ? `${Math.floor(x.uptime / 86400)} d ` : ''}${Math.floor((x.uptime % 86400) / 3600)} h`);
  if (x.wifi) parts.push(`Wi-Fi ${x.wifi.signal} dBm`);
  return parts.join(' · ');
}

export function initHealthBanner(ctx: Ctx): void {
  const list = h('ul', { class: 'health-warnings' });
  const banner = h('div', { class: 'banner health', id: 'health-banner', role: 'alert' }, list);
  banner.hidden = true;
  const firstBoot = firstBootBanner();
  $('#banners').append(banner, firstBoot.el);
  const show = (x: Health) => {
    firstBoot.update(x.firstBoot);
    list.replaceChildren(...x.warnings.map((w) => h('li', { 'data-code': w.code }, w.text)));
    banner.hidden = x.warnings.length === 0;
    $('#system-health').textContent = figures(x);
  };
  ctx.onPlugin((plugin, data) => {
    if (plugin === 'gantry_system') show(data as unknown as Health);
  });
  // the socket sends it right after sign-in, maybe before this view listened: ask once
  if (ctx.can('STATUS')) void api<Health>('/api/gantry/system').then(show, () => undefined);
}
