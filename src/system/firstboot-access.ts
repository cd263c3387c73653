// The image's first boot (image/firstboot/gantry-firstboot): the admin API key and the first admin account from
// the first-boot file, written into keys.json before gantry.service starts, so a Pi set up without a keyboard is
// never open to keyless first-run setup. Reads one JSON object from stdin (never argv: other users may read a
// process's arguments): {"apiKey"?: string, "user"?: string, "password"?: string}. Prints one line per problem on
// stderr and exits 1 if anything was refused; what was valid is applied. Run as the gantry user:
//   node /opt/gantry/dist/src/system/firstboot-access.js /var/lib/gantry < secrets.json
import { join } from 'node:path';
import { Accounts, type AccountsFile, defaultAccounts } from '../accounts/users.js';
import { JsonStore } from '../store/json-store.js';
import { createLogger } from '../log.js';

export interface FirstbootAccess {
  apiKey?: string;
  user?: string;
  password?: string;
}

/** Applies what is valid; returns the problems (empty when all was applied). */
export async function applyFirstbootAccess(dataDir: string, req: FirstbootAccess): Promise<string[]> {
  const problems: string[] = [];
  const store = await JsonStore.open<AccountsFile>(join(dataDir, 'keys.json'), defaultAccounts(), createLogger('warn'));
  if (req.apiKey !== undefined) {
    if (!/^[A-Za-z0-9_-]{32,43}$/.test(req.apiKey)) {
      problems.push('api_key: must be 32 to 43 characters of A-Z a-z 0-9 _ - (not applied)');
    } else {
      const key = req.apiKey;
      // an operator's key, as with --api-key: keyless first-run setup is closed
      await store.update((k) => (k.admin = { key, user: 'admin', app: null, created: Date.now(), source: 'operator' }));
    }
  }
  if (req.password !== undefined) {
    const name = req.user ?? 'admin';
    const accounts = new Accounts(store);
    try {
      if (accounts.user(name)) await accounts.setPassword(name, req.password);
      else await accounts.addUser(name, req.password, ['admin']);
    } catch (err) {
      problems.push(`admin_password: ${(err as Error).message} (not applied)`);
    }
  }
  return problems;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2] ?? '/var/lib/gantry';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  let req: FirstbootAccess;
  try {
    req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FirstbootAccess;
  } catch {
    process.stderr.write('firstboot-access: stdin is not JSON\n');
    process.exit(2);
  }
  const problems = await applyFirstbootAccess(dataDir, req);
  for (const p of problems) process.stderr.write(p + '\n');
  process.exit(problems.length ? 1 : 0);
}

if (process.argv[1]?.endsWith('firstboot-access.js')) void main();
