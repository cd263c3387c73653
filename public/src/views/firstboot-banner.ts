// What was wrong in gantry-firstboot.txt (the SD-card image's first-boot file): a warning banner on the dashboard
// listing each mistake, so a user who only has a phone learns that, say, the Wi-Fi passphrase was refused without
// reading a log on the card. The record comes with the system health (src/system/firstboot-record.ts). Dismissed
// per first-boot run (its time, kept in this browser): a later file with new mistakes shows again.
import { h } from '../dom.js';

export interface FirstBootRecord {
  at: string;
  applied: string[];
  errors: string[];
}

const DISMISSED = 'gantry.firstBootDismissed';

/** The banner, hidden; update() shows it for a record with errors not dismissed yet. */
export function firstBootBanner(): { el: HTMLElement; update(record: FirstBootRecord | null | undefined): void } {
  const list = h('ul', { class: 'health-warnings' });
  let shown: FirstBootRecord | null = null;
  const dismiss = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => {
    if (shown) localStorage.setItem(DISMISSED, shown.at);
    el.hidden = true;
  } }, '×');
  const el = h('div', { class: 'banner health', id: 'firstboot-banner', role: 'alert' },
    h('div', {}, h('strong', {}, 'The first-boot file (gantry-firstboot.txt) had mistakes; the rest of it was applied:'), list),
    dismiss);
  el.hidden = true;
  return {
    el,
    update(record) {
      shown = record && record.errors.length > 0 && localStorage.getItem(DISMISSED) !== record.at ? record : null;
      if (shown) list.replaceChildren(...shown.errors.map((e) => h('li', {}, e)));
      el.hidden = shown === null;
    },
  };
}
