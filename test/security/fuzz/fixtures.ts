// The server the fuzzer runs against: no printer (serial NONE: printer commands answer 409, nothing prints),
// no camera whatever the machine has or the settings say (a stream never ends), restart a counter, reboot/shutdown commands that do nothing, a readonly and a user account with their own
// keys (made the way a client makes them: POST /api/gantry/users, then log in and POST /api/gantry/keys), and a
// few files and a folder for paths to hit.
import assert from 'node:assert/strict';
import { type GantryRig, TEST_KEY, gantryRig, uploadGcode } from '../../helpers/gantry-rig.js';
import type { KeyedIdentity } from './cases.js';

export const FIXTURE_USERS = { readonly: 'fuzz-readonly', user: 'fuzz-user' } as const;
const PASSWORD = 'fuzz-password-0';

export interface FuzzServer {
  rig: GantryRig;
  keys: Record<KeyedIdentity, string>;
  restarts(): number;
  close(): Promise<void>;
}

async function keyFor(rig: GantryRig, name: string, roles: string[]): Promise<string> {
  const created = await rig.api('/api/gantry/users', { method: 'POST', json: { name, password: PASSWORD, roles } });
  assert.equal(created.status, 201, `create ${name}: ${await created.text()}`);
  const login = await rig.api('/api/login', { key: null, method: 'POST', json: { user: name, pass: PASSWORD } });
  assert.equal(login.status, 200, `log in ${name}`);
  const { csrf } = (await login.json()) as { csrf: string };
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const issued = await rig.api('/api/gantry/keys', { key: null, method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': csrf }, json: { app: 'fuzz' } });
  assert.equal(issued.status, 201, `key for ${name}`);
  return ((await issued.json()) as { key: string }).key;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  let restarts = 0;
  const rig = await gantryRig({ serial: 'NONE', camera: 'none' }, { onRestart: () => restarts++ });
  // belt and braces: even if a reboot or shutdown got through, it would run `true`
  await rig.gantry.settings.update((s) => {
    s.system.rebootCommand = ['true'];
    s.system.shutdownCommand = ['true'];
  });
  const keys = {
    admin: TEST_KEY,
    readonly: await keyFor(rig, FIXTURE_USERS.readonly, ['readonly']),
    user: await keyFor(rig, FIXTURE_USERS.user, ['user']),
  };
  for (const path of ['fixture.gcode', 'fixture-dir/inner.gcode']) {
    const [folder, name] = path.includes('/') ? path.split('/') : ['', path];
    const res = await uploadGcode(rig, name!, 'G28\nG1 X10 Y10 Z0.3 F3000\n', folder ? { path: folder } : {});
    assert.equal(res.status, 201, `upload ${path}`);
  }
  rig.logs.splice(0); // the setup's own log lines are not any case's
  return { rig, keys, restarts: () => restarts, close: () => rig.close() };
}
