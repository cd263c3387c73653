// Moving the head: jog by the chosen step, home, extrude/retract, motors and fan.
import { api } from '../api.js';
import { $, act } from '../dom.js';
import type { Ctx } from '../types.js';

export function initControlsCard(ctx: Ctx): void {
  const card = $('#card-controls');
  if (!ctx.can('CONTROL')) {
    card.hidden = true;
    return;
  }
  const step = () => Number(card.querySelector<HTMLInputElement>('input[name=step]:checked')?.value ?? 10);
  for (const b of card.querySelectorAll<HTMLButtonElement>('button[data-jog]')) {
    b.onclick = () => act(b, () => api(ctx.at('/api/printer/printhead'), { json: { command: 'jog', [b.dataset['jog']!]: step() * Number(b.dataset['dir']) } }));
  }
  for (const b of card.querySelectorAll<HTMLButtonElement>('button[data-home]')) {
    b.onclick = () => act(b, () => api(ctx.at('/api/printer/printhead'), { json: { command: 'home', axes: b.dataset['home']!.split(',') } }));
  }
  const gcode = (id: string, commands: string[]) => {
    const b = $<HTMLButtonElement>(`#${id}`);
    b.onclick = () => act(b, () => api(ctx.at('/api/printer/command'), { json: { commands } }));
  };
  gcode('motors-off', ['M84']);
  gcode('fan-on', ['M106 S255']);
  gcode('fan-off', ['M107']);
  const form = $<HTMLFormElement>('#extrude-form');
  const amount = () => Number(new FormData(form).get('amount'));
  const extrude = (sign: number, b: HTMLButtonElement) => act(b, () => api(ctx.at('/api/printer/tool'), { json: { command: 'extrude', amount: sign * amount() } }));
  form.onsubmit = (e) => {
    e.preventDefault();
    void extrude(1, $<HTMLButtonElement>('button[type=submit]', form));
  };
  $<HTMLButtonElement>('#retract').onclick = () => void extrude(-1, $<HTMLButtonElement>('#retract'));
  ctx.onCurrent((c) => {
    const busy = !c.state.flags.operational || c.state.flags.printing;
    for (const b of card.querySelectorAll<HTMLButtonElement>('button')) b.disabled = busy;
  });
}
