// "New printer found": serial devices plugged in that no printer claims, each asked who it is (port-probe.ts), listed
// for the API and announced on the bus, so adding one is a single action.
//
// Cheap by design: the glob folders (/dev, /dev/serial/by-id) are watched with fs.watch, and read again on a slow
// poll where watching is not possible (a folder that appears only with the first device). Never a shell, never
// SerialPort.list() (it runs udevadm, and kills the process where that is missing).
//
// What is never touched: a device any printer is bound to or connected to, and any device while a printer is
// connecting (its autodetection may be trying that very device). While a printer set to AUTO is not connected, new
// devices are listed but not probed: connecting that printer would take the first free device itself, and a probe
// in the way would only confuse its handshake. They are probed once no AUTO printer waits.
import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { FirmwareInfo } from '../printer/firmware.js';
import { deviceOf, listCandidatePorts } from '../transport/discovery.js';
import type { ProbeResult } from './port-probe.js';
import type { PrinterUnit } from './unit.js';

export interface FoundPrinter {
  /** the stable name when there is one (/dev/serial/by-id/…), else the device */
  port: string;
  firmware: { name: string; machineType: string | null; version: string | null; flavor: FirmwareInfo['flavor'] } | null;
  /** the baud rate it answered at */
  baudrate: number | null;
  seenAt: number;
  /** why it was not asked, or did not say, who it is */
  note: string | null;
}

export type FinderPrinter = Pick<PrinterUnit, 'id' | 'printer' | 'boundPort' | 'connectTarget'>;

export interface PortFinderDeps {
  printers: () => FinderPrinter[];
  /** where devices are looked for (the default printer's serial.portGlobs) */
  globs: () => string[];
  probe: (port: string) => Promise<ProbeResult>;
  /** a device being probed: autodetection elsewhere leaves it alone until `done` */
  hold: (device: string, done: Promise<unknown>) => void;
  bus: EventBus;
  log: Logger;
  pollMs?: number;
}

const CONNECTING = new Set(['OPEN_SERIAL', 'DETECT_SERIAL', 'CONNECTING']);
/** a burst of device nodes (a hub with two printers, by-id links made after the tty) is one look */
const SETTLE_MS = 300;
/** how soon a device left alone while a printer connected is looked at again */
const RETRY_MS = 2_000;

interface Entry extends FoundPrinter {
  probed: boolean;
}

export class PortFinder {
  /** by device (a by-id link and its tty are one) */
  private readonly found = new Map<string, Entry>();
  private readonly watchers = new Map<string, FSWatcher>();
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly d: PortFinderDeps) {}

  start(): void {
    this.poll = setInterval(() => this.soon(), this.d.pollMs ?? 10_000);
    this.poll.unref();
    this.soon();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.settle);
    clearTimeout(this.retry);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.scanning;
  }

  /** What is found now, claimed devices left out (a printer may have taken one since). */
  async list(): Promise<FoundPrinter[]> {
    const claimed = await this.claimed();
    return [...this.found.entries()].filter(([dev]) => !claimed.has(dev)).map(([, e]) => ({ port: e.port, firmware: e.firmware, baudrate: e.baudrate, seenAt: e.seenAt, note: e.note }));
  }

  /** Looks again shortly (a device node came or went). */
  private soon(): void {
    if (this.stopped) return;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.scanning = this.scanning.then(() => this.scan()).catch((err: Error) => this.d.log.warn(`port finder: ${err.message}`));
    }, SETTLE_MS);
    this.settle.unref();
  }

  private watchFolders(globs: string[]): void {
    for (const dir of new Set(globs.map((g) => dirname(g)))) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.soon());
        w.on('error', () => {
          // the folder went away (the last by-id device unplugged): the poll watches it again when it is back
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // not there yet: the poll looks again
      }
    }
  }

  private async claimed(): Promise<Set<string>> {
    const ports: string[] = [];
    for (const u of this.d.printers()) {
      const bound = u.boundPort();
      if (bound) ports.push(bound);
      if (u.printer.port) ports.push(u.printer.port);
    }
    return new Set(await Promise.all(ports.map(deviceOf)));
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const globs = this.d.globs();
    this.watchFolders(globs);
    const ports = await listCandidatePorts(globs);
    const present = new Map<string, string>();
    for (const port of ports) present.set(await deviceOf(port), port);
    for (const dev of [...this.found.keys()]) {
      if (!present.has(dev)) {
        this.found.delete(dev); // unplugged: forgotten, probed again when it is back
      }
    }
    const claimed = await this.claimed();
    for (const [dev, port] of present) {
      if (this.stopped) return;
      if (claimed.has(dev)) {
        this.found.delete(dev);
        continue;
      }
      // the same device node under another name (a by-id link, a link in the globs) is another device plugged in
      // where one was unplugged between two looks (a freed /dev/ttyUSB0 or /dev/pts/N is handed out again): ask anew
      let known = this.found.get(dev);
      if (known && known.port !== port) {
        this.found.delete(dev);
        known = undefined;
      }
      if (known?.probed) continue;
      const printers = this.d.printers();
      const auto = printers.find((u) => u.connectTarget().port.toUpperCase() === 'AUTO' && !u.printer.port);
      if (auto) {
        if (!known) this.record(dev, { port, firmware: null, baudrate: null, seenAt: Date.now(), note: `not asked who it is: printer "${auto.id}" is set to AUTO and not connected, and connecting it takes the first free device`, probed: false });
        continue;
      }
      if (printers.some((u) => CONNECTING.has(u.printer.state))) {
        // a printer is connecting, maybe autodetecting on this very device: look again in a moment
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.soon(), RETRY_MS);
        this.retry.unref();
        continue;
      }
      await this.probe(dev, port, known?.seenAt ?? Date.now());
    }
  }

  private async probe(dev: string, port: string, seenAt: number): Promise<void> {
    this.d.log.info(`port finder: ${port} is new and no printer claims it; asking who it is`);
    const result = this.d.probe(port);
    this.d.hold(dev, result);
    const r = await result;
    // a printer may have been given the device while it was probed
    if (this.stopped || (await this.claimed()).has(dev)) return;
    const fw = r.firmware;
    const firmware = fw ? { name: fw.name, machineType: fw.fields['MACHINE_TYPE'] ?? null, version: fw.fields['FIRMWARE_VERSION'] ?? null, flavor: fw.flavor } : null;
    const note = r.error ? `no printer answered: ${r.error}` : fw ? null : 'it answered the handshake but not M115';
    this.record(dev, { port, firmware, baudrate: r.baudrate, seenAt, note, probed: true });
    this.d.log.info(`port finder: ${port}: ${firmware ? firmware.name : (note ?? '')}`);
  }

  private record(dev: string, e: Entry): void {
    this.found.set(dev, e);
    this.d.bus.emit('printers.found', { port: e.port, firmware: e.firmware?.name ?? null });
  }
}
