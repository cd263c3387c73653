// One mDNS announcement per printer: the default printer in the avahi service file, each other printer by an
// avahi-publish process (here a stand-in script that records its arguments and stays up as the real one does).
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { Zeroconf, publishArgs } from '../../src/system/zeroconf.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { processAlive } from '../helpers/process.js';

const alive = processAlive;

test('the default printer in the service file, every other printer published, kept current', async () => {
  const { dir, cleanup } = await tempDir();
  const z = new Zeroconf(
    { serviceFile: join(dir, 'gantry.service'), publishCommand: join(dir, 'avahi-publish'), port: () => 80, uuid: () => 'u-1', version: '9.9.9', log: createLogger('silent') },
    'gantry',
  );
  try {
    // the stand-in: writes "<pid> <args>" to a file named after the printer (its TXT printer=…), then waits
    await writeFile(join(dir, 'avahi-publish'), `#!/bin/sh\nfor a; do case "$a" in printer=*) id="\${a#printer=}";; esac; done\necho "$$ $*" > "${dir}/published-$id"\nexec sleep 600\n`);
    await chmod(join(dir, 'avahi-publish'), 0o755);
    const def = { id: 'printer', name: 'Ender', path: '/', default: true };
    const voron = { id: 'voron', name: 'Voron', path: '/printers/voron/', default: false };
    const mk4 = { id: 'mk4', name: 'MK4', path: '/printers/mk4/', default: false };
    await z.update([def, voron, mk4]);
    const xml = await readFile(join(dir, 'gantry.service'), 'utf8');
    assert.match(xml, /<name replace-wildcards="yes">Ender on %h<\/name>/);
    assert.match(xml, /<txt-record>path=\/<\/txt-record>/);
    const published = async (id: string) => {
      const text = await readFile(join(dir, `published-${id}`), 'utf8').catch(() => '');
      return text ? { pid: Number(text.split(' ')[0]), args: text.trim().split(' ').slice(1).join(' ') } : undefined;
    };
    const v = await waitFor('voron published', () => published('voron'));
    await waitFor('mk4 published', () => published('mk4'));
    assert.equal(v.args, publishArgs(voron, 'gantry', 80, 'u-1', '9.9.9').join(' '));
    assert.match(v.args, /^-s Voron on gantry _octoprint\._tcp 80 path=\/printers\/voron\/ .*uuid=u-1/);

    // mk4 removed: its announcement ends; voron renamed: announced again under the new name
    await z.update([def, { ...voron, name: 'Voron 2.4' }]);
    const m = (await published('mk4'))!;
    await waitFor('mk4 no longer announced', () => !alive(m.pid));
    await waitFor('voron announced again', async () => (await published('voron'))?.args.includes('-s Voron 2.4 on gantry') || undefined);
    const v2 = (await published('voron'))!;
    assert.ok(!alive(v.pid), 'the old announcement ended');
    z.stop();
    await waitFor('every announcement ended', () => !alive(v2.pid));
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.service')), ['gantry.service']);
  } finally {
    z.stop();
    await cleanup();
  }
});

test('without a service file (not the appliance) nothing is announced or spawned', async () => {
  const z = new Zeroconf({ serviceFile: undefined, publishCommand: '/nonexistent', port: () => 80, uuid: () => 'u', version: '1', log: createLogger('silent') }, 'h');
  await z.update([{ id: 'a', name: 'A', path: '/printers/a/', default: false }]);
  z.stop();
});
