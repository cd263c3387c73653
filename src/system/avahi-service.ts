// Zeroconf: PrusaSlicer's "Browse", Cura's OctoPrint plugin, OctoPod and Home Assistant find OctoPrint by mDNS
// (_octoprint._tcp with TXT path, version, api, uuid; and _http._tcp). On the appliance avahi-daemon announces
// what an avahi service file says; Gantry keeps that file current (name, port, the install's UUID that Home
// Assistant matches against /api/settings). The file is created by image/install.sh and owned by Gantry.
import { writeFile } from 'node:fs/promises';
import { OCTOPRINT_COMPAT_VERSION } from '../octoprint/version.js';

export interface ZeroconfInfo {
  name: string;
  port: number;
  uuid: string;
  version: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function avahiServiceXml(i: ZeroconfInfo): string {
  const txt = (k: string, v: string) => `    <txt-record>${esc(k)}=${esc(v)}</txt-record>`;
  const service = (type: string, records: string[]) => [`  <service>`, `    <type>${type}</type>`, `    <port>${i.port}</port>`, ...records, `  </service>`].join('\n');
  return [
    '<?xml version="1.0" standalone="no"?>',
    '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">',
    '<!-- written by Gantry at start and when its name changes -->',
    '<service-group>',
    `  <name replace-wildcards="yes">${esc(i.name)} on %h</name>`,
    service('_octoprint._tcp', [txt('path', '/'), txt('version', OCTOPRINT_COMPAT_VERSION), txt('api', '0.1'), txt('uuid', i.uuid), txt('model', 'Gantry'), txt('vendor', 'Gantry'), txt('gantry', i.version)]),
    service('_http._tcp', [txt('path', '/')]),
    '</service-group>',
    '',
  ].join('\n');
}

/** Rewrites the file in place (the directory belongs to root; avahi-daemon reloads on the change). */
export async function writeAvahiService(path: string, info: ZeroconfInfo): Promise<void> {
  await writeFile(path, avahiServiceXml(info));
}
