// Timelapses: play, download and delete videos; render or delete recordings that are not rendered yet.
import { api } from '../api.js';
import { $, act, confirmDialog, h } from '../dom.js';
import type { Ctx } from '../types.js';

interface TimelapseList {
  files: { name: string; size: string; date: string; url: string; thumbnail: string | null }[];
  unrendered: { name: string; size: string; date: string; frames: number; recording: boolean; rendering: boolean; processing: boolean; progress: number | null }[];
}

export function initTimelapse(ctx: Ctx): void {
  const path = (u: string) => new URL(u, location.href).pathname;
  const load = async () => {
    const r = await api<TimelapseList>(ctx.at('/api/timelapse?unrendered=true')).catch(() => undefined);
    if (!r) return;
    $('#tl-list').replaceChildren(
      ...(r.files.length
        ? r.files.map((f) => {
            const play = h('button', { type: 'button', class: 'small primary' }, 'Play');
            play.onclick = () => {
              const v = $<HTMLVideoElement>('#player-video');
              v.src = path(f.url);
              $<HTMLDialogElement>('#player').showModal();
              void v.play().catch(() => undefined);
            };
            const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
            del.onclick = async () => {
              if (await confirmDialog(`Delete ${f.name}?`, 'Delete')) await act(del, async () => (await api(ctx.at(`/api/timelapse/${encodeURIComponent(f.name)}`), { method: 'DELETE' }), load()));
            };
            return h(
              'li',
              { class: `item${f.thumbnail ? '' : ' nothumb'}` },
              f.thumbnail && h('img', { class: 'thumb', src: path(f.thumbnail), alt: '', loading: 'lazy' }),
              h('div', { class: 'name' }, f.name),
              h('div', { class: 'meta' }, `${f.size} · ${f.date}`),
              h('div', { class: 'buttons' }, play, h('a', { class: 'button small', href: path(f.url), download: f.name }, 'Download'), ctx.can('TIMELAPSE_DELETE') && del),
            );
          })
        : [h('li', { class: 'empty' }, 'No timelapses yet. With a camera, each print makes one.')]),
    );
    $('#tl-unrendered').replaceChildren(
      ...(r.unrendered.length
        ? r.unrendered.map((u) => {
            const state = u.recording ? 'recording…' : u.rendering ? `rendering ${u.progress ?? 0} %` : u.processing ? 'waiting to render' : 'not rendered';
            const render = h('button', { type: 'button', class: 'small primary' }, 'Render');
            render.onclick = () => act(render, async () => (await api(ctx.at(`/api/timelapse/unrendered/${encodeURIComponent(u.name)}`), { json: { command: 'render' } }), load()));
            const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
            del.onclick = async () => {
              if (await confirmDialog(`Delete the ${u.frames} frames of ${u.name}?`, 'Delete')) await act(del, async () => (await api(ctx.at(`/api/timelapse/unrendered/${encodeURIComponent(u.name)}`), { method: 'DELETE' }), load()));
            };
            const idle = !u.recording && !u.processing;
            return h(
              'li',
              { class: 'item nothumb' },
              h('div', { class: 'name' }, u.name),
              h('div', { class: 'meta' }, `${u.frames} frames · ${u.size} · ${state}`),
              idle && h('div', { class: 'buttons' }, ctx.can('TIMELAPSE_ADMIN') && render, ctx.can('TIMELAPSE_DELETE') && del),
            );
          })
        : [h('li', { class: 'empty' }, 'Nothing waiting.')]),
    );
  };
  $<HTMLDialogElement>('#player').addEventListener('close', () => {
    const v = $<HTMLVideoElement>('#player-video');
    v.pause();
    v.removeAttribute('src');
  });
  let timer: number | undefined;
  const soon = () => {
    if (!ctx.visible('timelapse')) return;
    clearTimeout(timer);
    timer = window.setTimeout(() => void load(), 500);
  };
  ctx.onShow('timelapse', (shown) => shown && void load());
  ctx.onEvent(['MovieRendering', 'MovieDone', 'MovieFailed', 'PrintStarted', 'PrintDone', 'PrintFailed', 'PrintCancelled'], soon);
  ctx.onPlugin((plugin, data) => plugin === 'gantry' && String(data['type']).startsWith('timelapse') && soon());
}
