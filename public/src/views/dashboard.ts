// The printer page: state in the header, then the job, temperatures, camera, movement and connection cards.
import { api } from '../api.js';
import { $, act, h } from '../dom.js';
import type { Ctx } from '../types.js';
import { initCameraCard } from './camera-card.js';
import { initConnectionCard } from './connection-card.js';
import { initControlsCard } from './controls-card.js';
import { initJobCard } from './job-card.js';
import { initHealthBanner } from './health-banner.js';
import { initPromptBanner } from './prompt-banner.js';
import { initTemperatureCard } from './temperature-card.js';

export function initDashboard(ctx: Ctx): void {
  $('#printer-name').textContent = ctx.settings()?.appearance.name ?? 'Gantry';
  const pill = $('#state-pill');
  ctx.onCurrent((c) => {
    const f = c.state.flags;
    pill.textContent = c.state.text;
    pill.className = `pill ${f.error || f.closedOrError ? 'bad' : f.printing || f.pausing || f.resuming || f.cancelling ? 'busy' : f.paused ? 'warn' : f.operational ? 'ok' : ''}`;
  });
  initPromptBanner(ctx);
  initHealthBanner(ctx);
  initJobCard(ctx);
  initTemperatureCard(ctx);
  initCameraCard(ctx);
  initControlsCard(ctx);
  initConnectionCard(ctx);
  void showRecovery(ctx);
}

/** An interrupted print (power cut, crash) offered for resuming, as a banner on top. */
async function showRecovery(ctx: Ctx): Promise<void> {
  const r = await api<{ checkpoint: { path: string; layer: number; z: number } | null }>(ctx.at('/api/gantry/recovery')).catch(() => undefined);
  const cp = r?.checkpoint;
  if (!cp || !ctx.can('PRINT')) return;
  const banner = h(
    'div',
    { class: 'banner', role: 'region', 'aria-label': 'Interrupted print' },
    h('span', {}, `The print of ${cp.path} stopped at layer ${cp.layer} (Z ${cp.z} mm).`),
  );
  const resume = h('button', { type: 'button', class: 'primary' }, 'Resume it');
  const discard = h('button', { type: 'button' }, 'Forget it');
  resume.onclick = () => act(resume, async () => (await api(ctx.at('/api/gantry/recovery'), { json: { command: 'resume' } }), banner.remove()), 'Resuming the print');
  discard.onclick = () => act(discard, async () => (await api(ctx.at('/api/gantry/recovery'), { json: { command: 'discard' } }), banner.remove()));
  banner.append(h('span', { class: 'buttons' }, resume, discard));
  $('#banners').append(banner);
}
