// Settings: the printer's profile, serial, camera, timelapse (the printer the page shows); MQTT; API keys, users,
// app access requests; this Gantry's printers; system.
import { api } from '../api.js';
import { $, act, confirmDialog, h, toast, when } from '../dom.js';
import type { Ctx, SettingsView } from '../types.js';
import { initBackup } from './backup.js';
import { initPrintersAdmin } from './printers-admin.js';

type Values = Record<string, string | boolean>;

/** Fills a form's fields by name; checkboxes take booleans. */
function fill(form: HTMLFormElement, values: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(values)) {
    const el = form.elements.namedItem(k);
    if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = Boolean(v);
    else if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) el.value = v === null || v === undefined ? '' : String(v);
  }
}

function read(form: HTMLFormElement): Values {
  const out: Values = {};
  for (const el of form.elements) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement) || !el.name) continue;
    out[el.name] = el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value;
  }
  return out;
}

function onSave(id: string, build: (v: Values) => [string, unknown], after?: () => void): void {
  const form = $<HTMLFormElement>(`#${id}`);
  form.onsubmit = (e) => {
    e.preventDefault();
    const [path, body] = build(read(form));
    void act($<HTMLButtonElement>('button[type=submit]', form), async () => {
      await api(path, { json: body });
      after?.();
    }, 'Saved');
  };
}

export function initSettings(ctx: Ctx): void {
  const admin = ctx.can('ADMIN') || ctx.me.admin;
  const canSettings = ctx.can('SETTINGS');
  for (const id of ['set-printer', 'set-serial', 'set-camera', 'set-timelapse', 'set-mqtt']) {
    if (!canSettings) $(`#${id}`).closest('details')!.hidden = true;
  }
  $('#users-section').hidden = !admin;
  $('#system-section').hidden = !ctx.can('SYSTEM');

  const show = (s: SettingsView) => {
    const g = s.gantry;
    fill($<HTMLFormElement>('#set-printer'), { name: s.appearance.name, ...g.printerProfile.volume, extruders: g.printerProfile.extruder.count, nozzle: g.printerProfile.extruder.nozzleDiameter, heatedBed: g.printerProfile.heatedBed, heatedChamber: g.printerProfile.heatedChamber });
    fill($<HTMLFormElement>('#set-serial'), { port: s.serial.port ?? 'AUTO', autoconnect: s.serial.autoconnect, autoReconnect: s.serial.autoReconnect });
    $<HTMLSelectElement>('#set-baud').replaceChildren(...[0, 250000, 115200, 230400, 57600, 38400, 19200, 9600].map((b) => h('option', { value: String(b) }, b ? String(b) : 'Detect')));
    $<HTMLSelectElement>('#set-baud').value = String(s.serial.baudrate ?? 0);
    fill($<HTMLFormElement>('#set-camera'), g.camera);
    $<HTMLInputElement>('#cam-link').value = new URL(ctx.at(s.webcam.streamUrl), location.origin).href;
    fill($<HTMLFormElement>('#set-timelapse'), g.timelapse);
    fill($<HTMLFormElement>('#set-mqtt'), g.mqtt);
  };

  onSave('set-printer', (v) => [
    ctx.at('/api/settings'),
    {
      appearance: { name: v['name'] },
      gantry: {
        printerProfile: {
          name: v['name'],
          volume: { width: Number(v['width']), depth: Number(v['depth']), height: Number(v['height']) },
          heatedBed: v['heatedBed'],
          heatedChamber: v['heatedChamber'],
          extruder: { count: Number(v['extruders']), nozzleDiameter: Number(v['nozzle']) },
        },
      },
    },
  ], () => ($('#printer-name').textContent = String(read($<HTMLFormElement>('#set-printer'))['name'])));
  onSave('set-serial', (v) => [ctx.at('/api/settings'), { serial: { port: String(v['port']).trim() || 'AUTO', baudrate: Number(v['baudrate']), autoconnect: v['autoconnect'], autoReconnect: v['autoReconnect'] } }]);
  onSave('set-camera', (v) => [
    ctx.at('/api/settings'),
    { gantry: { camera: { source: v['source'], width: Number(v['width']), height: Number(v['height']), fps: Number(v['fps']), flipH: v['flipH'], flipV: v['flipV'], rotate90: v['rotate90'], lanOpen: v['lanOpen'] } } },
  ]);
  // the camera link carries a camera-only token: a new one revokes every link handed out so far
  $<HTMLButtonElement>('#cam-new-link').onclick = (e) =>
    act(e.currentTarget as HTMLButtonElement, async () => show(((await api(ctx.at('/api/settings'), { json: { gantry: { camera: { newToken: true } } } })) as SettingsView)), 'New camera link made');
  onSave('set-timelapse', (v) => [
    ctx.at('/api/timelapse'),
    { type: v['type'], interval: Number(v['interval']), minDelay: Number(v['minDelay']), postRoll: Number(v['postRoll']), renderAfterPrint: v['renderAfterPrint'], preset: v['preset'], park: v['park'] },
  ]);
  onSave('set-mqtt', (v) => [
    ctx.at('/api/settings'),
    { gantry: { mqtt: { url: v['url'], username: v['username'], password: v['password'], baseTopic: v['baseTopic'], discovery: v['discovery'], cameraInterval: Number(v['cameraInterval']) } } },
  ]);

  const loadCameras = async () => {
    const sel = $<HTMLSelectElement>('#cam-source');
    const want = ctx.settings()?.gantry.camera.source ?? 'none';
    const found = await api<{ cameras: { kind: string; device: string; name: string }[] }>('/api/gantry/cameras').catch(() => ({ cameras: [] }));
    const opts: [string, string][] = [['none', 'No camera'], ['auto', 'The first camera found'], ['testsrc', 'Test pattern'], ['rpicam', 'Raspberry Pi camera']];
    for (const c of found.cameras) opts.push([c.kind === 'rpicam' ? `rpicam:${c.device}` : c.device, `${c.name} (${c.device})`]);
    if (!opts.some(([v]) => v === want)) opts.push([want, want]);
    sel.replaceChildren(...opts.map(([v, label]) => h('option', { value: v }, label)));
    sel.value = want;
  };
  const loadPorts = async () => {
    const c = await api<{ options: { ports: string[] } }>(ctx.at('/api/connection')).catch(() => undefined);
    $('#port-options').replaceChildren(...['AUTO', ...(c?.options.ports ?? [])].map((p) => h('option', { value: p })));
  };

  // API keys: the user's own, shown in full; admins see everyone's, shortened
  const loadKeys = async () => {
    const r = await api<{ keys: { user: string; app: string | null; created: number; key: string }[] }>('/api/gantry/keys').catch(() => undefined);
    $('#key-list').replaceChildren(
      ...(r?.keys ?? []).map((k) => {
        const revoke = h('button', { type: 'button', class: 'small danger' }, 'Revoke');
        revoke.onclick = async () => {
          if (await confirmDialog(`Revoke the key for ${k.app ?? k.user}? Apps using it stop working.`, 'Revoke')) await act(revoke, async () => (await api('/api/gantry/keys', { method: 'DELETE', json: { key: k.key } }), loadKeys()));
        };
        const own = k.user === ctx.me.name;
        return h('li', { class: 'item nothumb' }, h('div', { class: 'name' }, k.app ?? 'General key'), h('div', { class: 'meta' }, h('code', { class: 'key' }, k.key), ` · ${k.user} · ${when(k.created / 1000)}`), h('div', { class: 'buttons' }, (own || admin) && revoke));
      }),
    );
  };
  const keyForm = $<HTMLFormElement>('#key-form');
  keyForm.onsubmit = (e) => {
    e.preventDefault();
    const app = String(new FormData(keyForm).get('app') ?? '').trim();
    void act($<HTMLButtonElement>('button', keyForm), async () => {
      await api('/api/gantry/keys', { json: { app: app || null } });
      keyForm.reset();
      await loadKeys();
    }, 'New key made');
  };

  const loadUsers = async () => {
    if (!admin) return;
    const r = await api<{ users: { name: string; roles: string[] }[] }>('/api/gantry/users').catch(() => undefined);
    $('#user-list').replaceChildren(
      ...(r?.users ?? []).map((u) => {
        const del = h('button', { type: 'button', class: 'small danger' }, 'Remove');
        del.onclick = async () => {
          if (await confirmDialog(`Remove the user ${u.name}?`, 'Remove')) await act(del, async () => (await api(`/api/gantry/users/${encodeURIComponent(u.name)}`, { method: 'DELETE' }), loadUsers()));
        };
        return h('li', { class: 'item nothumb' }, h('div', { class: 'name' }, u.name), h('div', { class: 'meta' }, u.roles.join(', ')), u.name !== ctx.me.name && h('div', { class: 'buttons' }, del));
      }),
    );
  };
  const userForm = $<HTMLFormElement>('#user-form');
  userForm.onsubmit = (e) => {
    e.preventDefault();
    const v = read(userForm);
    void act($<HTMLButtonElement>('button', userForm), async () => {
      await api('/api/gantry/users', { json: { name: v['name'], password: v['password'], roles: [v['role']] } });
      userForm.reset();
      await loadUsers();
    }, 'User added');
  };

  // apps asking for a key (Home Assistant, Cura, OctoPod …): approve or refuse here
  const loadApprovals = async () => {
    if (!ctx.can('PLUGIN_APPKEYS_GRANT')) return;
    const r = await api<{ pending: { id: string; app: string; user: string | null; remoteAddress: string | null }[] }>('/api/gantry/appkeys').catch(() => undefined);
    $('#approvals').replaceChildren(
      ...(r?.pending ?? []).map((p) => {
        const decide = (yes: boolean, b: HTMLButtonElement) => act(b, async () => (await api(`/api/gantry/appkeys/${encodeURIComponent(p.id)}`, { json: { decision: yes } }), loadApprovals(), loadKeys()), yes ? `${p.app} may now use Gantry` : `${p.app} refused`);
        const allow = h('button', { type: 'button', class: 'primary' }, 'Allow');
        const deny = h('button', { type: 'button', class: 'danger' }, 'Deny');
        allow.onclick = () => decide(true, allow);
        deny.onclick = () => decide(false, deny);
        return h('div', { class: 'banner', role: 'region', 'aria-label': 'Access request' }, h('span', {}, `${p.app} wants access${p.user ? ` as ${p.user}` : ''}${p.remoteAddress ? ` (from ${p.remoteAddress})` : ''}.`), h('span', { class: 'buttons' }, allow, deny));
      }),
    );
  };
  ctx.onPlugin((plugin, data) => {
    if (plugin !== 'appkeys') return;
    if (data['type'] === 'end_request') return void loadApprovals(); // decided elsewhere
    if (data['type'] !== 'request_access') return;
    toast(`${String(data['app_name'])} wants access to Gantry`, 'info', { label: 'Review', run: () => (location.hash = '#settings') });
    void loadApprovals();
    void printers?.load();
  });

  if (ctx.can('SYSTEM')) initBackup();
  const printers = admin ? initPrintersAdmin(ctx) : undefined;
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-system]')) {
    const action = b.dataset['system']!;
    b.onclick = async () => {
      const what = action === 'restart' ? 'Restart Gantry? A print in progress would stop.' : action === 'reboot' ? 'Reboot the machine?' : 'Shut the machine down? You will need to power it on by hand.';
      if (await confirmDialog(what, b.textContent ?? 'OK')) await act(b, () => api(`/api/system/commands/core/${action}`, { json: {} }), 'Done');
    };
  }

  ctx.onShow('settings', (shown) => {
    if (!shown) return;
    void ctx.reloadSettings().then(show).catch(() => undefined);
    void loadCameras();
    void loadPorts();
    void loadKeys();
    void loadUsers();
    void loadApprovals();
    void printers?.load();
  });
  void api<{ version: string; text: string }>('/api/version').then((v) => ($('#about').textContent = v.text)).catch(() => undefined);
}
