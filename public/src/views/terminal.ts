// The terminal: the printer's log (filtered; temperature reports hidden by default), and commands with a history
// kept in the browser (arrow keys).
import { api } from '../api.js';
import { $, toast } from '../dom.js';
import type { Ctx } from '../types.js';

const MAX_LINES = 2000;
const TEMP_REPORT = /^(Recv:\s*)?(ok\s+)?(T\d?|B):-?[\d.]+|^Send:\s*(N\d+\s+)?M105\b/;

export function initTerminal(ctx: Ctx): void {
  const log = $('#term-log');
  const filter = $<HTMLInputElement>('#term-filter');
  const hideTemps = $<HTMLInputElement>('#term-hide-temps');
  let lines: string[] = [];
  let dirty = false;

  const shown = (l: string) => (!hideTemps.checked || !TEMP_REPORT.test(l)) && (!filter.value || l.toLowerCase().includes(filter.value.toLowerCase()));
  const render = () => {
    dirty = false;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.textContent = lines.filter(shown).join('\n');
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  ctx.onCurrent((c, fromHistory) => {
    lines = fromHistory ? [...c.logs] : lines.concat(c.logs);
    if (lines.length > MAX_LINES) lines = lines.slice(-MAX_LINES);
    if (c.logs.length || fromHistory) {
      if (ctx.visible('terminal')) render();
      else dirty = true;
    }
  });
  ctx.onShow('terminal', (s) => s && dirty && render());
  filter.oninput = render;
  hideTemps.onchange = render;

  const input = $<HTMLInputElement>('#term-input');
  const history: string[] = JSON.parse(localStorage.getItem('gantry.termHistory') ?? '[]') as string[];
  let pos = history.length;
  input.onkeydown = (e) => {
    if (e.key === 'ArrowUp' && pos > 0) input.value = history[--pos]!;
    else if (e.key === 'ArrowDown') input.value = pos < history.length - 1 ? history[++pos]! : ((pos = history.length), '');
    else return;
    e.preventDefault();
  };
  const form = $<HTMLFormElement>('#term-form');
  if (!ctx.can('CONTROL')) form.hidden = true;
  form.onsubmit = async (e) => {
    e.preventDefault();
    const cmds = input.value.split(/\r?\n|;(?=\s*[GMTgmt]\d)/).map((s) => s.trim()).filter(Boolean);
    if (!cmds.length) return;
    try {
      await api(ctx.at('/api/printer/command'), { json: { commands: cmds } });
      history.push(input.value.trim());
      while (history.length > 100) history.shift();
      localStorage.setItem('gantry.termHistory', JSON.stringify(history));
      pos = history.length;
      input.value = '';
    } catch (err) {
      toast((err as Error).message, 'error');
    }
  };
}
