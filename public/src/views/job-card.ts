// The job card: file, thumbnail, progress, times, and print / pause / resume / cancel.
import { api } from '../api.js';
import { $, act, clock, confirmDialog, duration } from '../dom.js';
import { progressFigures } from '../figures.js';
import type { Ctx, FileEntry } from '../types.js';

export function initJobCard(ctx: Ctx): void {
  const btn = (id: string) => $<HTMLButtonElement>(`#job-${id}`);
  const job = (command: string, extra: Record<string, unknown> = {}) => api(ctx.at('/api/job'), { json: { command, ...extra } });
  btn('print').onclick = () => act(btn('print'), () => job('start'));
  btn('pause').onclick = () => act(btn('pause'), () => job('pause', { action: 'pause' }));
  btn('resume').onclick = () => act(btn('resume'), () => job('pause', { action: 'resume' }));
  btn('cancel').onclick = async () => {
    if (await confirmDialog('Cancel this print? It cannot be resumed.', 'Cancel print')) await act(btn('cancel'), () => job('cancel'));
  };

  let thumbFor: string | null = null;
  const thumb = $<HTMLImageElement>('#job-thumb');
  ctx.onCurrent((c) => {
    const f = c.state.flags;
    const file = c.job.file;
    $('#job-file').textContent = file.display ?? file.name ?? 'No file selected';
    const { pct, left, endsAt } = progressFigures(c.progress, f);
    $('#job-bar').style.width = `${pct}%`;
    $('.progress', $('#card-job')).setAttribute('aria-valuenow', String(Math.round(pct)));
    $('#job-pct').textContent = c.progress.completion === null ? '–' : `${pct.toFixed(1)} %`;
    $('#job-elapsed').textContent = duration(c.progress.printTime);
    $('#job-left').textContent = duration(left);
    $('#job-eta').textContent = endsAt ? clock(endsAt) : '–';
    const active = f.printing || f.paused || f.pausing || f.resuming;
    const may = ctx.can('PRINT');
    btn('print').hidden = !may || active || !f.ready || !file.path;
    // as the job's state table allows: a resume while pausing is remembered, no pause once the job is ending, and a
    // cancel until it is cancelling (while Finishing too: the job then ends cancelled, with the cancel script)
    const ending = f.cancelling || f.finishing;
    btn('pause').hidden = !may || !f.printing || f.pausing || ending;
    btn('resume').hidden = !may || !(f.paused || f.pausing);
    btn('cancel').hidden = !may || !(f.printing || f.paused) || f.cancelling;
    if (file.path !== thumbFor) {
      thumbFor = file.path;
      thumb.hidden = true;
      if (file.path) void loadThumb(file.path);
    }
  });

  const loadThumb = async (path: string) => {
    const entry = await api<FileEntry>(`/api/files/local/${path.split('/').map(encodeURIComponent).join('/')}`).catch(() => undefined);
    if (entry?.thumbnail && thumbFor === path) {
      thumb.src = `/${entry.thumbnail}`;
      thumb.hidden = false;
    }
  };
}
