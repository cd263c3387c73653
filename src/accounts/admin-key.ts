// The admin API key at start: the operator's (--api-key), which closes keyless first-run setup, or one Gantry
// generates once and keeps.
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { JsonStore } from '../store/json-store.js';
import { generateApiKey } from './api-keys.js';
import type { AccountsFile } from './users.js';

export async function ensureAdminKey(keys: JsonStore<AccountsFile>, operatorKey: string | undefined, dataDir: string, log: Logger): Promise<void> {
  if (operatorKey && (keys.data.admin?.key !== operatorKey || keys.data.admin.source !== 'operator')) {
    // an operator's key: this install is taken, so keyless first-run setup is closed (Accounts.setupOpen)
    await keys.update((k) => (k.admin = { key: operatorKey, user: 'admin', app: null, created: Date.now(), source: 'operator' }));
    log.info('admin API key set from --api-key');
  } else if (!keys.data.admin) {
    await keys.update((k) => (k.admin = { key: generateApiKey(), user: 'admin', app: null, created: Date.now(), source: 'generated' }));
    log.info(`generated an admin API key (stored in ${join(dataDir, 'keys.json')})`);
  }
}
