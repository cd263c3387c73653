// The serial connection: port and baud rate (or detect both), connect and disconnect.
import { api } from '../api.js';
import { $, act, h } from '../dom.js';
import type { Ctx } from '../types.js';

export interface Connection {
  current: { state: string; port: string | null; baudrate: number | null };
  options: { ports: string[]; baudrates: number[]; portPreference: string | null; baudratePreference: number | null };
}

/** The port and baud-rate choices (Detect first, then what Gantry found) into two selects, keeping the chosen ones
 * where they are still offered. */
export function fillConnectionChoices(port: HTMLSelectElement, baud: HTMLSelectElement, o: Connection['options'], keepPort: string, keepBaud: string): void {
  port.replaceChildren(h('option', { value: 'AUTO' }, 'Detect'), ...o.ports.filter((p) => p !== 'AUTO').map((p) => h('option', { value: p }, p === 'VIRTUAL' ? 'Virtual printer' : p)));
  port.value = [...port.options].some((x) => x.value === keepPort) ? keepPort : 'AUTO';
  baud.replaceChildren(h('option', { value: '0' }, 'Detect'), ...o.baudrates.map((b) => h('option', { value: String(b) }, String(b))));
  baud.value = [...baud.options].some((x) => x.value === keepBaud) ? keepBaud : '0';
}

export function initConnectionCard(ctx: Ctx): void {
  const card = $('#card-connection');
  if (!ctx.can('CONNECTION')) {
    card.hidden = true;
    return;
  }
  const port = $<HTMLSelectElement>('#conn-port');
  const baud = $<HTMLSelectElement>('#conn-baud');
  const load = async () => {
    const c = await api<Connection>(ctx.at('/api/connection')).catch(() => undefined);
    if (!c) return;
    fillConnectionChoices(port, baud, c.options, port.value || c.current.port || c.options.portPreference || 'AUTO', baud.value || String(c.current.baudrate ?? c.options.baudratePreference ?? 0));
  };
  void load();
  $<HTMLFormElement>('#conn-form').onsubmit = (e) => {
    e.preventDefault();
    void act($<HTMLButtonElement>('#conn-connect'), () => api(ctx.at('/api/connection'), { json: { command: 'connect', port: port.value, baudrate: Number(baud.value) } }));
  };
  const disconnect = $<HTMLButtonElement>('#conn-disconnect');
  disconnect.onclick = () => act(disconnect, () => api(ctx.at('/api/connection'), { json: { command: 'disconnect' } }));
  ctx.onCurrent((c) => {
    const f = c.state.flags;
    $<HTMLButtonElement>('#conn-connect').hidden = f.operational;
    disconnect.hidden = !f.operational && !f.error;
    disconnect.disabled = f.printing || f.paused;
  });
  ctx.onEvent(['Connected', 'Disconnected'], () => void load());
}
