// Small DOM helpers: element building (text is always text, never HTML), toasts, a confirm dialog, formatting.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

export function $<T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
}

export function toast(message: string, kind: 'info' | 'error' | 'ok' = 'info', action?: { label: string; run: () => void }): void {
  const box = $('#toasts');
  const t = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('span', {}, message));
  if (action) t.append(h('button', { type: 'button', onclick: () => (action.run(), t.remove()) }, action.label));
  t.append(h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'));
  box.append(t);
  if (!action) setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/** A modal question; resolves true when confirmed. */
export function confirmDialog(question: string, confirmLabel = 'Yes', danger = true): Promise<boolean> {
  const dlg = $<HTMLDialogElement>('#confirm');
  $('#confirm-text').textContent = question;
  const ok = $<HTMLButtonElement>('#confirm-ok');
  ok.textContent = confirmLabel;
  ok.classList.toggle('danger', danger);
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true }));
}

export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  s = Math.max(0, Math.round(s));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return hh ? `${hh}h ${String(mm).padStart(2, '0')}m` : mm ? `${mm}m ${String(ss).padStart(2, '0')}s` : `${ss}s`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function clock(at: Date): string {
  return at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function when(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

/** Runs an action from a button: disables it meanwhile and shows the API's message if it fails. */
export async function act(button: HTMLButtonElement | null, fn: () => Promise<unknown>, done?: string): Promise<void> {
  if (button) button.disabled = true;
  try {
    await fn();
    if (done) toast(done, 'ok');
  } catch (err) {
    toast((err as Error).message, 'error');
  } finally {
    if (button) button.disabled = false;
  }
}
