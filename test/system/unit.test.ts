// The systemd unit as systemd reads it: `systemd-analyze verify` finds nothing, the hardening scores as the README
// says, and the settings that matter are where systemd looks for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'systemd/gantry.service');

/** `key=value` lines of one section */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) current = line;
    else if (current === `[${name}]` && line && !line.startsWith('#')) {
      const i = line.indexOf('=');
      const k = line.slice(0, i);
      out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
    }
  }
  return out;
}

test('the unit: start limit in [Unit], notify with a watchdog, unprivileged and confined', async () => {
  const text = await readFile(UNIT, 'utf8');
  const unit = section(text, 'Unit');
  const service = section(text, 'Service');
  // systemd 257 ignores these in [Service]
  assert.deepEqual(unit.get('StartLimitIntervalSec'), ['60']);
  assert.deepEqual(unit.get('StartLimitBurst'), ['5']);
  // DeviceAllow classes resolve at start: their drivers must be loaded first (systemd/modules-load.conf)
  assert.match(unit.get('After')!.join(' '), /systemd-modules-load\.service/);
  const modules = (await readFile(join(ROOT, 'systemd/modules-load.conf'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(modules, ['usbserial', 'cdc_acm', 'videodev']);
  assert.equal(service.has('StartLimitIntervalSec'), false);
  assert.deepEqual(service.get('Type'), ['notify']);
  assert.deepEqual(service.get('WatchdogSec'), ['30']);
  assert.deepEqual(service.get('User'), ['gantry']);
  assert.deepEqual(service.get('SupplementaryGroups'), ['dialout video']);
  assert.deepEqual(service.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(service.get('DevicePolicy'), ['closed']);
  for (const cls of ['char-ttyUSB rw', 'char-ttyACM rw', 'char-video4linux rw']) assert.ok(service.get('DeviceAllow')!.includes(cls), cls);
  assert.deepEqual(service.get('ProtectSystem'), ['strict']);
  assert.ok(service.get('ReadWritePaths')!.includes('/var/lib/gantry'));
  assert.deepEqual(service.get('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6 AF_NETLINK']);
  // V8's JIT needs writable+executable memory
  assert.equal(service.has('MemoryDenyWriteExecute'), false);
  // sudo cannot work under it: the system commands go through polkit
  assert.deepEqual(service.get('NoNewPrivileges'), ['yes']);
});

test('systemd-analyze verify finds nothing, and the security exposure is at most 2.0', async (t) => {
  const have = await run('systemd-analyze', ['--version']).catch(() => undefined);
  if (!have) return t.skip('systemd-analyze is not installed');
  const { dir, cleanup } = await tempDir();
  try {
    // a copy under its own name: verify loads the unit from the file, not from /etc/systemd
    const copy = join(dir, 'gantry.service');
    await copyFile(UNIT, copy);
    const verify = await run('systemd-analyze', ['verify', copy]).catch((err: { stderr: string; stdout: string }) => err);
    assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'systemd-analyze verify printed warnings');
    const security = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', copy]).catch((err: { stdout: string }) => err);
    const score = /Overall exposure level for gantry\.service: (\d+\.\d+)/.exec(security.stdout);
    assert.ok(score, security.stdout.slice(-500));
    assert.ok(Number(score[1]) <= 2.0, `exposure ${score[1]}`);
  } finally {
    await cleanup();
  }
});
