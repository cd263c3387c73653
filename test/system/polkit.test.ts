// The polkit rule the package installs, run as polkitd runs it (JavaScript with a `polkit` object), and the system
// commands Gantry runs through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { defaultSettings, migrateSystemCommands } from '../../src/config/settings.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

type Rule = (action: { id: string; lookup(k: string): string | undefined }, subject: { user: string }) => string;

async function loadRule(): Promise<Rule> {
  const rules: Rule[] = [];
  const polkit = { Result: { YES: 'yes', NO: 'no', NOT_HANDLED: 'not-handled' }, addRule: (r: Rule) => rules.push(r) };
  runInNewContext(await readFile(join(ROOT, 'image/polkit/50-gantry.rules'), 'utf8'), { polkit });
  assert.equal(rules.length, 1);
  return rules[0]!;
}

const action = (id: string, details: Record<string, string> = {}) => ({ id, lookup: (k: string) => details[k] });

test('polkit: the gantry user may reboot, power off and restart gantry.service, and nothing else', async () => {
  const rule = await loadRule();
  const gantry = { user: 'gantry' };
  for (const id of ['org.freedesktop.login1.reboot', 'org.freedesktop.login1.reboot-multiple-sessions', 'org.freedesktop.login1.power-off', 'org.freedesktop.login1.power-off-multiple-sessions']) {
    assert.equal(rule(action(id), gantry), 'yes', id);
    assert.equal(rule(action(id), { user: 'pi' }), 'not-handled', `${id} for another user`);
  }
  assert.equal(rule(action('org.freedesktop.systemd1.manage-units', { unit: 'gantry.service', verb: 'restart' }), gantry), 'yes');
  assert.equal(rule(action('org.freedesktop.systemd1.manage-units', { unit: 'gantry.service', verb: 'stop' }), gantry), 'not-handled');
  assert.equal(rule(action('org.freedesktop.systemd1.manage-units', { unit: 'ssh.service', verb: 'restart' }), gantry), 'not-handled');
  assert.equal(rule(action('org.freedesktop.systemd1.manage-unit-files'), gantry), 'not-handled');
  assert.equal(rule(action('org.freedesktop.login1.reboot-ignore-inhibit'), gantry), 'not-handled');
  assert.equal(rule(action('org.freedesktop.systemd1.manage-units', { unit: 'gantry.service', verb: 'restart' }), { user: 'nobody' }), 'not-handled');
});

test('system commands: argv arrays for systemctl without sudo (NoNewPrivileges), the old sudo defaults migrated', () => {
  const d = defaultSettings().system;
  assert.deepEqual(d.rebootCommand, ['/usr/bin/systemctl', 'reboot']);
  assert.deepEqual(d.shutdownCommand, ['/usr/bin/systemctl', 'poweroff']);
  assert.deepEqual(d.restartCommand, ['/usr/bin/systemctl', 'restart', '--no-block', 'gantry.service']);
  const old = defaultSettings();
  old.system.rebootCommand = ['sudo', '-n', '/usr/bin/systemctl', 'reboot'];
  old.system.shutdownCommand = ['sudo', '-n', '/usr/bin/systemctl', 'poweroff'];
  assert.equal(migrateSystemCommands(old), true);
  assert.deepEqual(old.system, d);
  const own = defaultSettings();
  own.system.rebootCommand = ['/usr/local/bin/my-reboot'];
  assert.equal(migrateSystemCommands(own), false);
  assert.deepEqual(own.system.rebootCommand, ['/usr/local/bin/my-reboot']);
});
