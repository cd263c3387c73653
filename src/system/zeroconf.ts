// mDNS for every printer (the appliance): PrusaSlicer's "Browse", Cura and Home Assistant list each printer as an
// OctoPrint instance of its own. The default printer is announced by the avahi service file Gantry owns
// (avahi-service.ts, TXT path=/); every other printer by an `avahi-publish` process of its own (avahi-utils), which
// talks to avahi-daemon over D-Bus: no write access to /etc/avahi/services, which belongs to root, is needed.
// Kept current as printers are added, removed and renamed.
import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { writeAvahiService } from './avahi-service.js';
import { OCTOPRINT_COMPAT_VERSION } from '../octoprint/version.js';

export interface AnnouncedPrinter {
  id: string;
  name: string;
  /** its OctoPrint-compatible base URL's path: '/' for the default printer, '/printers/<id>/' for every one */
  path: string;
  default: boolean;
}

export interface ZeroconfOptions {
  /** the avahi service file for the default printer (GANTRY_AVAHI_SERVICE); unset: no mDNS at all (not the appliance) */
  serviceFile: string | undefined;
  /** avahi-utils' publisher */
  publishCommand?: string;
  port: () => number;
  uuid: () => string;
  version: string;
  log: Logger;
}

/** The TXT records OctoPrint announces, for one printer. */
export function octoprintTxt(p: AnnouncedPrinter, uuid: string, version: string): string[] {
  return [`path=${p.path}`, `version=${OCTOPRINT_COMPAT_VERSION}`, 'api=0.1', `uuid=${uuid}`, 'model=Gantry', 'vendor=Gantry', `gantry=${version}`, ...(p.default ? [] : [`printer=${p.id}`])];
}

/** avahi-publish's arguments for one (non-default) printer. */
export function publishArgs(p: AnnouncedPrinter, host: string, port: number, uuid: string, version: string): string[] {
  return ['-s', `${p.name} on ${host}`, '_octoprint._tcp', String(port), ...octoprintTxt(p, uuid, version)];
}

export class Zeroconf {
  private readonly publishers = new Map<string, { key: string; child: ChildProcess }>();
  private defaultKey = '';
  private publisherMissing = false;
  private stopped = false;

  constructor(
    private readonly o: ZeroconfOptions,
    private readonly host: string,
  ) {}

  /** Announces exactly `printers` (the default one by the file, the rest by publishers). */
  async update(printers: AnnouncedPrinter[]): Promise<void> {
    if (!this.o.serviceFile || this.stopped) return;
    const def = printers.find((p) => p.default);
    if (def) {
      const key = `${def.name}|${this.o.port()}|${this.o.uuid()}`;
      if (key !== this.defaultKey) {
        this.defaultKey = key;
        const info = { name: def.name, port: this.o.port(), uuid: this.o.uuid(), version: this.o.version };
        await writeAvahiService(this.o.serviceFile, info).catch((err: Error) => this.o.log.warn(`zeroconf: cannot write ${this.o.serviceFile}: ${err.message}`));
      }
    }
    const others = printers.filter((p) => !p.default);
    for (const [id, pub] of this.publishers) {
      const p = others.find((x) => x.id === id);
      if (!p || this.keyOf(p) !== pub.key) this.unpublish(id);
    }
    if (others.length === 0) return;
    const command = this.o.publishCommand ?? '/usr/bin/avahi-publish';
    if (!(await access(command, constants.X_OK).then(() => true, () => false))) {
      if (!this.publisherMissing) this.o.log.warn(`zeroconf: ${command} not found (install avahi-utils): printers other than the default are not announced by mDNS`);
      this.publisherMissing = true;
      return;
    }
    for (const p of others) if (!this.publishers.has(p.id)) this.publish(command, p);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.publishers.keys()]) this.unpublish(id);
  }

  private keyOf(p: AnnouncedPrinter): string {
    return `${p.name}|${p.path}|${this.o.port()}|${this.o.uuid()}`;
  }

  private publish(command: string, p: AnnouncedPrinter): void {
    const child = spawn(command, publishArgs(p, this.host, this.o.port(), this.o.uuid(), this.o.version), { stdio: 'ignore' });
    const entry = { key: this.keyOf(p), child };
    this.publishers.set(p.id, entry);
    child.once('error', (err) => this.o.log.warn(`zeroconf: ${command} for ${p.id}: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (this.publishers.get(p.id) !== entry) return; // replaced or removed on purpose
      this.publishers.delete(p.id);
      this.o.log.warn(`zeroconf: the announcement of ${p.id} ended (${signal ?? `exit ${code}`}); it is made again with the next change`);
    });
  }

  private unpublish(id: string): void {
    const pub = this.publishers.get(id);
    this.publishers.delete(id);
    pub?.child.kill('SIGTERM');
  }
}
