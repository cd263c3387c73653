// Gantry's bus events as OctoPrint push `event` (and `plugin`) messages, with OctoPrint's names and payloads.
import type { GantryEvents } from '../events.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { HostPrompt } from '../printer/host-prompt.js';

type Msg = Record<string, unknown>;
const ev = (type: string, payload: Record<string, unknown>): Msg => ({ event: { type, payload } });

/** The action_command_prompt plugin message for a shown prompt, or the close when there is none. */
export function promptMessage(p: HostPrompt | null | undefined): Msg {
  const data = p ? { action: 'show', text: p.text, choices: p.choices } : { action: 'close' };
  return { plugin: { plugin: 'action_command_prompt', data } };
}

/** What the mapping remembers between events (one per push server). */
export interface EventMapState {
  lastZ: number | null;
}

export function octoEvent(name: keyof GantryEvents, payload: unknown, d: { jobs: JobRunner }, state: EventMapState): Msg[] {
  switch (name) {
    case 'printer.state': {
      const p = payload as GantryEvents['printer.state'];
      return [ev('PrinterStateChanged', { state_id: p.state, state_string: p.text })];
    }
    case 'printer.connected': {
      const p = payload as GantryEvents['printer.connected'];
      return [ev('Connected', { port: p.port, baudrate: p.baudrate })];
    }
    case 'printer.disconnected':
      return [ev('Disconnected', {})];
    case 'printer.error': {
      const p = payload as GantryEvents['printer.error'];
      return [ev('Error', { error: p.message, reason: p.reason })];
    }
    case 'printer.reset':
      return [ev('PrinterReset', { idle: (payload as GantryEvents['printer.reset']).idle })];
    case 'printer.position': {
      const p = (payload as GantryEvents['printer.position']).position;
      const out = [ev('PositionUpdate', { x: p.x, y: p.y, z: p.z, e: p.e, t: null, f: null })];
      if (state.lastZ !== p.z) {
        out.push(ev('ZChange', { new: p.z, old: state.lastZ }));
        state.lastZ = p.z;
      }
      return out;
    }
    case 'job.selected': {
      const p = payload as GantryEvents['job.selected'];
      return [ev('FileSelected', { name: p.name, path: p.path, origin: 'local', size: p.size, owner: p.user, user: p.user })];
    }
    case 'job.deselected':
      return [ev('FileDeselected', {})];
    case 'job.started':
    case 'job.paused':
    case 'job.resumed': {
      const file = d.jobs.current().file;
      const user = d.jobs.current().user;
      const base = { name: file?.name ?? null, path: file?.path ?? null, origin: 'local', size: file?.size ?? null, owner: user, user };
      return [ev(name === 'job.started' ? 'PrintStarted' : name === 'job.paused' ? 'PrintPaused' : 'PrintResumed', base)];
    }
    case 'job.ended': {
      const p = payload as GantryEvents['job.ended'];
      // as OctoPrint sends them: `time` is the print time in seconds (FDM Monster and n8n flows read it)
      const base = { name: p.path.split('/').pop(), path: p.path, origin: 'local', size: p.size, owner: p.user, user: p.user, time: p.printTime };
      if (p.result === 'success') return [ev('PrintDone', base)];
      // as OctoPrint: a cancel is PrintCancelled and then PrintFailed with reason "cancelled" (clients that count
      // failures hear it); any other end is PrintFailed with reason "error" and the message in `error`
      if (p.result === 'cancelled') return [ev('PrintCancelled', base), ev('PrintFailed', { ...base, reason: 'cancelled' })];
      return [ev('PrintFailed', { ...base, reason: 'error', error: p.reason ?? 'The print failed' })];
    }
    case 'printer.prompt': {
      // as OctoPrint's action_command_prompt plugin pushes them, so its clients show and close the same dialog
      const p = (payload as GantryEvents['printer.prompt']).prompt;
      return [promptMessage(p)];
    }
    case 'files.changed': {
      const p = payload as GantryEvents['files.changed'];
      const name = p.path.split('/').pop();
      const type = p.kind === 'added' ? 'FileAdded' : p.kind === 'removed' ? 'FileRemoved' : 'FolderAdded';
      return [ev(type, { storage: 'local', path: p.path, name, type: p.kind === 'folder-added' ? ['folder'] : ['machinecode', 'gcode'] }), ev('UpdatedFiles', { type: 'printables' })];
    }
    case 'files.uploaded': {
      const p = payload as GantryEvents['files.uploaded'];
      return [
        ev('Upload', { name: p.path.split('/').pop(), path: p.path, target: 'local', select: p.select, print: p.print, effective_select: p.effectiveSelect, effective_print: p.effectivePrint }),
      ];
    }
    case 'files.analysed': {
      const p = payload as GantryEvents['files.analysed'];
      return [ev('MetadataAnalysisFinished', { name: p.path.split('/').pop(), path: p.path, origin: 'local' }), ev('UpdatedFiles', { type: 'printables' })];
    }
    case 'settings.updated':
      return [ev('SettingsUpdated', { config_hash: String(Date.now()), effective_hash: String(Date.now()) })];
    case 'appkeys.request': {
      const p = payload as GantryEvents['appkeys.request'];
      return [{ plugin: { plugin: 'appkeys', data: { type: 'request_access', app_name: p.app, user_token: p.id, user_id: p.user, remote_address: p.remoteAddress } } }];
    }
    case 'appkeys.decided': {
      // OctoPrint closes the request's dialog on every open page
      const p = payload as GantryEvents['appkeys.decided'];
      return [{ plugin: { plugin: 'appkeys', data: { type: 'end_request', user_token: p.id } } }];
    }
    case 'timelapse.frame': {
      const p = payload as GantryEvents['timelapse.frame'];
      return [ev('CaptureDone', { file: `${p.name}/frame-${String(p.frame).padStart(6, '0')}.jpg` })];
    }
    case 'timelapse.render': {
      const p = payload as GantryEvents['timelapse.render'];
      const base = { gcode: p.gcode, movie: `${p.name}.mp4`, movie_basename: `${p.name}.mp4`, movie_prefix: p.name };
      if (p.state === 'started') return [ev('MovieRendering', base)];
      if (p.state === 'done') return [ev('MovieDone', base)];
      if (p.state === 'failed') return [ev('MovieFailed', { ...base, returncode: 1, reason: 'returncode', error: p.error })];
      return [{ plugin: { plugin: 'gantry', data: { type: 'timelapse_progress', name: p.name, progress: p.progress } } }];
    }
    case 'queue.changed': {
      const p = payload as GantryEvents['queue.changed'];
      return [{ plugin: { plugin: 'gantry', data: { type: 'queue_changed', items: p.items, bedClear: p.bedClear } } }];
    }
    case 'timelapse.changed':
      return [{ plugin: { plugin: 'gantry', data: { type: 'timelapse_changed' } } }];
    case 'farm.changed': {
      const p = payload as GantryEvents['farm.changed'];
      return [{ plugin: { plugin: 'gantry', data: { type: 'farm_changed', items: p.items, printing: p.printing, waiting: p.waiting } } }];
    }
    case 'printers.found': {
      // "new printer found": GET /api/gantry/printers/found has it, with the call that adds it
      const p = payload as GantryEvents['printers.found'];
      return [{ plugin: { plugin: 'gantry', data: { type: 'printer_found', port: p.port, firmware: p.firmware } } }];
    }
    case 'printers.changed': {
      // Gantry's page redraws its printer switcher and farm view; OctoPrint clients ignore plugins they do not know
      const p = payload as GantryEvents['printers.changed'];
      return [{ plugin: { plugin: 'gantry_printers', data: { ids: p.ids } } }];
    }
    default:
      return [];
  }
}
