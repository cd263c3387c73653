// The printer's question (M0, M600 filament change, runout): a banner on the dashboard with the firmware's text
// and its buttons. A button answers it (M876, which reaches the printer while it waits). Shown from the push
// socket's action_command_prompt messages, as OctoPrint's plugin sends them, and from the API when the page opens.
import { api } from '../api.js';
import { $, act, h } from '../dom.js';
import type { Ctx } from '../types.js';

interface Prompt {
  text?: string;
  choices?: string[];
}

const PROMPT_PATH = '/api/plugin/action_command_prompt';

export function initPromptBanner(ctx: Ctx): void {
  const may = ctx.can('CONTROL');
  const PROMPT_API = ctx.at(PROMPT_PATH);
  const text = h('span', { id: 'prompt-text' });
  const buttons = h('span', { class: 'buttons' });
  const banner = h('div', { class: 'banner prompt', id: 'prompt-banner', role: 'region', 'aria-label': 'The printer asks', 'aria-live': 'polite' }, text, buttons);
  banner.hidden = true;
  $('#banners').prepend(banner);

  const show = (p: Prompt) => {
    if (typeof p.text !== 'string') return close();
    text.textContent = p.text || 'The printer waits';
    const choices = Array.isArray(p.choices) ? p.choices : [];
    buttons.replaceChildren(
      ...(may
        ? choices.map((label, i) => {
            const b = h('button', { type: 'button', class: i === choices.length - 1 ? 'primary' : undefined }, label);
            b.onclick = () => act(b, async () => void (await api(PROMPT_API, { json: { command: 'select', choice: i } }), close()));
            return b;
          })
        : []),
    );
    banner.hidden = false;
  };
  const close = () => {
    banner.hidden = true;
    buttons.replaceChildren();
  };

  ctx.onPlugin((plugin, data) => {
    if (plugin !== 'action_command_prompt') return;
    if (data['action'] === 'show') show(data as Prompt);
    else if (data['action'] === 'close') close();
  });
  // the socket sends the open prompt when it connects, possibly before this view listened: ask once
  if (may) void api<Prompt>(PROMPT_API).then((p) => p && show(p), () => undefined);
}
