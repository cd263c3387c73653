// The mDNS announcement: what PrusaSlicer's browser and Home Assistant read, kept current by a running Gantry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { avahiServiceXml } from '../../src/system/avahi-service.js';
import { gantryRig } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('the service file announces _octoprint._tcp with path, version, api and uuid, and _http._tcp; names are escaped', () => {
  const xml = avahiServiceXml({ name: 'Bench <1> & "two"', port: 80, uuid: 'a-b-c', version: '0.1.0' });
  assert.match(xml, /<name replace-wildcards="yes">Bench &lt;1&gt; &amp; &quot;two&quot; on %h<\/name>/);
  const octo = /<service>\s*<type>_octoprint\._tcp<\/type>([\s\S]*?)<\/service>/.exec(xml)![1]!;
  assert.match(octo, /<port>80<\/port>/);
  for (const r of ['path=/', 'version=1.11.8', 'api=0.1', 'uuid=a-b-c']) assert.ok(octo.includes(`<txt-record>${r}</txt-record>`), r);
  assert.match(xml, /<type>_http\._tcp<\/type>\s*<port>80<\/port>\s*<txt-record>path=\/<\/txt-record>/);
});

test('a running Gantry writes the file with its port and the UUID /api/settings shows, and rewrites it on a rename', async () => {
  const { dir, cleanup } = await tempDir();
  const file = join(dir, 'gantry.service');
  const rig = await gantryRig({ serial: 'NONE', avahiService: file });
  try {
    const settings = (await (await rig.api('/api/settings')).json()) as { plugins: { discovery: { upnpUuid: string } } };
    const xml = await readFile(file, 'utf8');
    assert.ok(xml.includes(`<txt-record>uuid=${settings.plugins.discovery.upnpUuid}</txt-record>`));
    assert.ok(xml.includes(`<port>${new URL(rig.gantry.url).port}</port>`));
    assert.equal((await rig.api('/api/settings', { method: 'POST', json: { appearance: { name: 'Garage' } } })).status, 200);
    await waitFor('the new name announced', async () => (await readFile(file, 'utf8')).includes('>Garage on %h<'));
  } finally {
    await rig.close();
    await cleanup();
  }
});
