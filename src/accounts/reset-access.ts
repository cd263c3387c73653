// `gantry reset-access`: the way back in when every password is lost. It needs a shell on the machine (the data
// directory is readable only by Gantry's user), so it grants nothing a network attacker could use. It keeps a
// copy of the old accounts file, removes every account and key, and makes a fresh admin key: first-run setup is
// open again until someone completes it or uses the new key.
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateApiKey } from './api-keys.js';
import { type AccountsFile, defaultAccounts } from './users.js';
import { JsonStore } from '../store/json-store.js';
import type { Logger } from '../log.js';

export interface ResetResult {
  backup: string | null;
  apiKey: string;
}

export async function resetAccess(dataDir: string, log: Logger, operatorKey?: string): Promise<ResetResult> {
  const path = join(dataDir, 'keys.json');
  let backup: string | null = `${path}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await copyFile(path, backup).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    backup = null;
  });
  const store = await JsonStore.open<AccountsFile>(path, defaultAccounts(), log);
  const apiKey = operatorKey ?? generateApiKey();
  await store.update((d) => {
    d.users = [];
    d.keys = [];
    d.admin = { key: apiKey, user: 'admin', app: null, created: Date.now(), source: operatorKey ? 'operator' : 'generated' };
  });
  return { backup, apiKey };
}

/** The pid a running `gantry serve` on this data directory recorded, if that process is still alive. */
export async function runningServer(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'run', 'gantry.pid'), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmd.includes('serve') ? pid : undefined;
}
