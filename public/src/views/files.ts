// Files: folders, thumbnails and analysis figures; upload (button or drag and drop) with a progress bar;
// print, queue (this printer's, or the farm's: farm-add.ts), download and delete.
import { api, postForm, upload } from '../api.js';
import { $, act, bytes, confirmDialog, duration, h, toast, when } from '../dom.js';
import type { Ctx, FileEntry } from '../types.js';
import { farmAdd } from './farm-add.js';

const enc = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export function initFiles(ctx: Ctx): void {
  let folder = '';
  let tree: FileEntry[] = [];
  let busy = new Set<string>();
  const list = $('#file-list');

  const load = async () => {
    const r = await api<{ files: FileEntry[]; free: number; total: number }>('/api/files/local?recursive=true').catch((err: Error) => {
      toast(err.message, 'error');
      return undefined;
    });
    if (!r) return;
    tree = r.files;
    $('#disk').textContent = `${bytes(r.free)} free of ${bytes(r.total)}`;
    render();
  };

  const entriesOf = (path: string): FileEntry[] => {
    let level = tree;
    for (const part of path ? path.split('/') : []) level = level.find((e) => e.type === 'folder' && e.name === part)?.children ?? [];
    return level;
  };

  const render = () => {
    const crumbs = $('#crumbs');
    const parts = folder ? folder.split('/') : [];
    crumbs.replaceChildren(
      h('button', { type: 'button', class: 'ghost small', onclick: () => go('') }, 'All files'),
      ...parts.flatMap((p, i) => ['/', h('button', { type: 'button', class: 'ghost small', onclick: () => go(parts.slice(0, i + 1).join('/')) }, p)]),
    );
    const entries = [...entriesOf(folder)].sort((a, b) => (a.type === b.type ? (b.date ?? 0) - (a.date ?? 0) : a.type === 'folder' ? -1 : 1));
    list.replaceChildren(...(entries.length ? entries.map(item) : [h('li', { class: 'empty' }, folder ? 'This folder is empty.' : 'No files yet. Upload G-code from your slicer or with the Upload button.')]));
  };

  const go = (path: string) => {
    folder = path;
    render();
  };

  const item = (e: FileEntry): HTMLElement => {
    if (e.type === 'folder') {
      const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
      del.onclick = async (ev) => {
        ev.stopPropagation();
        if (await confirmDialog(`Delete the folder ${e.name} and everything in it?`, 'Delete')) await act(del, () => api(`/api/files/local/${enc(e.path)}`, { method: 'DELETE' }));
      };
      const open = h('button', { type: 'button', class: 'small' }, 'Open');
      open.onclick = () => go(e.path);
      return h('li', { class: 'item folder nothumb' }, h('div', { class: 'name' }, e.name), h('div', { class: 'meta' }, `${e.children?.length ?? 0} items`), h('div', { class: 'buttons' }, open, ctx.can('FILES_DELETE') && del));
    }
    const a = e.gcodeAnalysis;
    const filament = a?.filament ? Object.values(a.filament).reduce((n, f) => n + f.length, 0) : 0;
    const meta = [
      bytes(e.size),
      e.date ? when(e.date) : null,
      a?.estimatedPrintTime ? `≈ ${duration(a.estimatedPrintTime)}` : 'analysing…',
      filament ? `${(filament / 1000).toFixed(2)} m filament` : null,
      a?.layers?.count ? `${a.layers.count} layers` : null,
      e.prints ? `printed ${e.prints.success}×` : null,
    ].filter(Boolean).join(' · ');
    const printing = busy.has(e.path);
    const print = h('button', { type: 'button', class: 'small primary' }, 'Print');
    print.onclick = () => act(print, () => api(ctx.at(`/api/files/local/${enc(e.path)}`), { json: { command: 'select', print: true } }), `Printing ${e.display ?? e.name}`);
    const queue = h('button', { type: 'button', class: 'small' }, 'Queue');
    queue.onclick = () => act(queue, () => api(ctx.at('/api/gantry/queue'), { json: { path: e.path, copies: 1 } }), `${e.name} added to the queue`);
    // shown with two printers or more (printer-switch.ts marks the page): with one, the farm is just its queue
    const farm = h('button', { type: 'button', class: 'small farm-only' }, 'Farm queue');
    farm.onclick = () => void farmAdd(e.path, e.display ?? e.name);
    const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
    del.onclick = async () => {
      if (await confirmDialog(`Delete ${e.display ?? e.name}?`, 'Delete')) await act(del, () => api(`/api/files/local/${enc(e.path)}`, { method: 'DELETE' }));
    };
    const download = h('a', { class: 'button small', href: `/downloads/files/local/${enc(e.path)}`, download: e.name }, 'Download');
    const thumb = e.thumbnail ? h('img', { class: 'thumb', src: `/${e.thumbnail}`, alt: '', loading: 'lazy' }) : null;
    return h(
      'li',
      { class: `item${thumb ? '' : ' nothumb'}` },
      thumb,
      h('div', { class: 'name' }, e.display ?? e.name),
      h('div', { class: 'meta' }, meta),
      h('div', { class: 'buttons' }, ctx.can('PRINT') && !printing && print, ctx.can('PRINT') && queue, ctx.can('PRINT') && farm, ctx.can('FILES_DOWNLOAD') && download, ctx.can('FILES_DELETE') && !printing && del),
    );
  };

  // uploads, one at a time, each with its progress
  const status = $('#upload-status');
  const bar = $('#upload-bar');
  const sendAll = async (files: File[]) => {
    for (const f of files) {
      if (!/\.(gcode|gco|g|gc)$/i.test(f.name)) {
        toast(`${f.name} is not a G-code file`, 'error');
        continue;
      }
      status.hidden = false;
      $('#upload-name').textContent = f.name;
      const progress = (x: number) => {
        const pct = Math.round(x * 100);
        bar.style.width = `${pct}%`;
        $('.progress', status).setAttribute('aria-valuenow', String(pct));
        $('#upload-pct').textContent = `${pct} %`;
      };
      progress(0);
      try {
        await upload(f, folder, progress);
        toast(`${f.name} uploaded`, 'ok');
      } catch (err) {
        toast(`${f.name}: ${(err as Error).message}`, 'error');
      }
    }
    await load();
  };
  const input = $<HTMLInputElement>('#upload-input');
  input.onchange = () => {
    void sendAll([...(input.files ?? [])]);
    input.value = '';
  };
  let depth = 0;
  document.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    depth++;
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => {
    if (--depth <= 0) document.body.classList.remove('dragging');
  });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    document.body.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length && ctx.can('FILES_UPLOAD')) {
      location.hash = '#files';
      void sendAll(files);
    }
  });
  const mkdir = $<HTMLButtonElement>('#new-folder');
  mkdir.onclick = async () => {
    const name = prompt('Name of the new folder');
    if (!name) return;
    const form = new FormData();
    form.append('foldername', name);
    if (folder) form.append('path', folder);
    await act(mkdir, async () => {
      await postForm('/api/files/local', form);
      await load();
    });
  };
  if (!ctx.can('FILES_UPLOAD')) {
    $('label.button', $('#view-files')).hidden = true;
    mkdir.hidden = true;
  }

  let timer: number | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void load(), 300);
  };
  ctx.onEvent(['UpdatedFiles', 'FileAdded', 'FileRemoved', 'FolderAdded', 'MetadataAnalysisFinished', 'PrintDone'], soon);
  ctx.onCurrent((c) => {
    const now = new Set(c.busyFiles.map((b) => b.path));
    if ([...now].join() !== [...busy].join()) {
      busy = now;
      if (ctx.visible('files')) render();
    }
  });
  ctx.onShow('files', (shown) => shown && void load());
}
