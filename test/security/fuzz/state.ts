// What a request without a key, with a wrong key or with the readonly key must never change: settings, users
// and keys, the files on disk, the queue, the selected job, the recovery checkpoint and the printer's state.
// Background work (analysis results in files.json, sessions, app-key requests, which are public by design)
// is left out, so a change here is the request's doing.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GantryRig } from '../../helpers/gantry-rig.js';
import { FIXTURE_USERS } from './fixtures.js';

interface KeyRecord {
  key: string;
  user: string;
}

async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (prefix === '' && e.name === '.tmp') continue; // uploads in flight
    const rel = prefix + e.name;
    out.push(e.isDirectory() ? rel + '/' : rel);
    if (e.isDirectory()) out.push(...(await tree(join(dir, e.name), rel + '/')));
  }
  return out.sort();
}

/** One string per part, so a failure can say which part changed. */
export async function snapshot(rig: GantryRig): Promise<Record<string, string>> {
  const data = join(rig.dir, 'data');
  const accounts = JSON.parse(await readFile(join(data, 'keys.json'), 'utf8')) as { admin: KeyRecord; users: unknown[]; keys: KeyRecord[] };
  const g = rig.gantry;
  return {
    settings: JSON.stringify(g.settings.data),
    users: JSON.stringify(accounts.users),
    // every identity may make keys for itself (permission ANY, by design): the readonly user's own new keys
    // are not a change; everyone else's keys are
    keys: JSON.stringify([accounts.admin, ...accounts.keys.filter((k) => k.user !== FIXTURE_USERS.readonly)]),
    files: JSON.stringify(await tree(join(data, 'files'))),
    queue: JSON.stringify(g.queue.data),
    job: JSON.stringify({ selected: g.jobs.selected?.path ?? null, checkpoint: g.jobs.checkpoint }),
    printer: JSON.stringify({ state: g.printer.stateText, error: g.printer.error, port: g.printer.port }),
  };
}

export function changedParts(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((k) => before[k] !== after[k]);
}
