// The Pi's health: CPU temperature, under-voltage and throttling, load, memory, disk free, uptime, Wi-Fi signal.
// Read from /proc and /sys only (a few small files, no process spawned: vcgencmd would cost a fork and ~30 ms on a
// Pi Zero). What a machine does not have (no thermal zone in a container, no firmware file off the Pi, no Wi-Fi)
// is null, never an error.
import { readFile, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { type FirstBootRecord, readFirstBootRecord } from './firstboot-record.js';

/** The firmware's throttle flags (get_throttled, as `vcgencmd get_throttled` prints them). */
export interface Throttling {
  /** where they come from: the Raspberry Pi kernel's get_throttled file (every flag), or, on a mainline kernel
   * (Debian's, the image's), its raspberrypi-hwmon driver, which tells under-voltage alone: the other flags are
   * then false, and "occurred" means since Gantry started */
  source: 'firmware' | 'hwmon';
  /** the raw bit field */
  raw: number;
  underVoltage: boolean;
  frequencyCapped: boolean;
  throttled: boolean;
  softTempLimit: boolean;
  underVoltageOccurred: boolean;
  frequencyCappedOccurred: boolean;
  throttledOccurred: boolean;
  softTempLimitOccurred: boolean;
}

export interface SystemHealth {
  /** °C, one decimal */
  cpuTemperature: number | null;
  /** null off a Raspberry Pi (no firmware file) */
  throttling: Throttling | null;
  /** 1, 5 and 15 minute load averages */
  load: [number, number, number] | null;
  cpus: number | null;
  /** bytes */
  memory: { total: number; available: number } | null;
  /** the data directory's file system, bytes */
  disk: { free: number; total: number } | null;
  /** seconds since boot */
  uptime: number | null;
  wifi: { interface: string; signal: number; quality: number } | null;
  /** the image's first boot: what gantry-firstboot.txt set and what was wrong in it (null off the image) */
  firstBoot: FirstBootRecord | null;
  /** what the page shows as a warning, and why */
  warnings: { code: 'under-voltage' | 'under-voltage-occurred' | 'throttled' | 'disk-low'; text: string }[];
}

/** Less than this much free, or less than DISK_LOW_FRACTION of the card: the page warns. */
export const DISK_LOW_BYTES = 500 * 1024 * 1024;
export const DISK_LOW_FRACTION = 0.05;

/** raspberrypi-hwmon polls the firmware every 2 s: its alarm is read as often. */
const HWMON_POLL_MS = 2_000;
/** A machine where no rpi_volt hwmon was found is looked at again after this long. */
const HWMON_RESCAN_MS = 60_000;

/** Bits of get_throttled (raspberrypi firmware mailbox RPI_FIRMWARE_GET_THROTTLED). */
export function decodeThrottled(raw: number, source: Throttling['source'] = 'firmware'): Throttling {
  const bit = (n: number) => (raw & (1 << n)) !== 0;
  return {
    source,
    raw,
    underVoltage: bit(0),
    frequencyCapped: bit(1),
    throttled: bit(2),
    softTempLimit: bit(3),
    underVoltageOccurred: bit(16),
    frequencyCappedOccurred: bit(17),
    throttledOccurred: bit(18),
    softTempLimitOccurred: bit(19),
  };
}

/** /proc/net/wireless: the first interface's link quality and signal level (dBm). */
export function parseWireless(text: string): SystemHealth['wifi'] {
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s+\S+\s+(-?\d+(?:\.\d*)?)\s+(-?\d+(?:\.\d*)?)/.exec(line);
    if (m) return { interface: m[1]!, quality: Number.parseFloat(m[2]!), signal: Number.parseFloat(m[3]!) };
  }
  return null;
}

/** /proc/meminfo: MemTotal and MemAvailable in bytes. */
export function parseMeminfo(text: string): SystemHealth['memory'] {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return total !== undefined && available !== undefined ? { total, available } : null;
}

export function warningsOf(h: Omit<SystemHealth, 'warnings'>): SystemHealth['warnings'] {
  const w: SystemHealth['warnings'] = [];
  const t = h.throttling;
  if (t?.underVoltage) w.push({ code: 'under-voltage', text: 'Under-voltage: the power supply is too weak for the Pi. Prints and the SD card are at risk; use the official power supply.' });
  else if (t?.underVoltageOccurred) w.push({ code: 'under-voltage-occurred', text: 'The Pi has been under-volted since it started: the power supply is too weak at times.' });
  if (t?.throttled || t?.frequencyCapped) w.push({ code: 'throttled', text: 'The Pi is slowed down (too hot or too little power).' });
  if (h.disk && (h.disk.free < DISK_LOW_BYTES || h.disk.free < h.disk.total * DISK_LOW_FRACTION)) {
    w.push({ code: 'disk-low', text: `The card is nearly full: ${Math.round(h.disk.free / 1048576)} MB free. Delete files or timelapses.` });
  }
  return w;
}

export class SystemHealthReader {
  /** the raspberrypi-hwmon device's folder: the scan in progress or done, and when it last found none */
  private voltHwmon: Promise<string | null> | undefined;
  private voltHwmonMissedAt = 0;
  /** the hwmon alarm was seen on since this reader started (watched every HWMON_POLL_MS: it only covers ~2 s) */
  private underVoltageSeen = false;
  private hwmonPoll: NodeJS.Timeout | undefined;

  /**
   * @param dataDir the directory whose file system "disk" describes
   * @param root where /proc and /sys are (tests point it at a fake tree for the Pi-only files)
   * @param pollMs how often the under-voltage alarm is read once found
   */
  constructor(
    private readonly dataDir: string,
    private readonly root = '/',
    private readonly pollMs = HWMON_POLL_MS,
  ) {}

  /** Under-voltage was seen (on a mainline kernel's sensor) since this reader started. */
  get underVoltageWasSeen(): boolean {
    return this.underVoltageSeen;
  }

  private text(path: string): Promise<string | undefined> {
    return readFile(join(this.root, path), 'utf8').catch(() => undefined);
  }

  async read(): Promise<SystemHealth> {
    const [cpuTemperature, throttled, loadavg, meminfo, uptime, wireless, cpuinfo, fs, firstBoot] = await Promise.all([
      this.cpuTemperature(),
      this.text('sys/devices/platform/soc/soc:firmware/get_throttled'),
      this.text('proc/loadavg'),
      this.text('proc/meminfo'),
      this.text('proc/uptime'),
      this.text('proc/net/wireless'),
      this.text('proc/stat'),
      statfs(this.dataDir).catch(() => undefined),
      readFirstBootRecord(this.dataDir),
    ]);
    const raw = throttled !== undefined ? Number.parseInt(throttled.trim().replace(/^0x/, ''), 16) : Number.NaN;
    const throttling = Number.isFinite(raw) ? decodeThrottled(raw) : await this.hwmonThrottling();
    const loads = loadavg?.split(/\s+/).slice(0, 3).map(Number);
    const up = uptime !== undefined ? Number.parseFloat(uptime) : Number.NaN;
    const h = {
      cpuTemperature,
      throttling,
      load: loads?.length === 3 && loads.every(Number.isFinite) ? (loads as [number, number, number]) : null,
      cpus: cpuinfo !== undefined ? cpuinfo.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length || null : null,
      memory: meminfo !== undefined ? parseMeminfo(meminfo) : null,
      disk: fs ? { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize } : null,
      uptime: Number.isFinite(up) ? Math.round(up) : null,
      wifi: wireless !== undefined ? parseWireless(wireless) : null,
      firstBoot,
    };
    return { ...h, warnings: warningsOf(h) };
  }

  /** Under-voltage from a mainline kernel's raspberrypi-hwmon (hwmon named rpi_volt): in0_lcrit_alarm is the
   * firmware's under-voltage bit, which the driver reads (and clears) every 2 s, so 1 means "now". Null where
   * there is no such device (not a Pi, or the Pi kernel's get_throttled is there instead). */
  private async hwmonThrottling(): Promise<Throttling | null> {
    // looked for again a while after finding none: the driver may register after Gantry starts
    const missedLongAgo = this.voltHwmonMissedAt > 0 && Date.now() - this.voltHwmonMissedAt > HWMON_RESCAN_MS;
    if (this.voltHwmon === undefined || missedLongAgo) {
      this.voltHwmonMissedAt = 0;
      this.voltHwmon = this.findVoltHwmon().then((dir) => {
        if (dir === null) this.voltHwmonMissedAt = Date.now();
        return dir;
      });
    }
    const dir = await this.voltHwmon;
    if (dir === null) return null;
    const alarm = await this.readAlarm(dir);
    if (alarm === undefined) return null;
    this.watchAlarm(dir);
    return decodeThrottled((alarm ? 1 : 0) | (this.underVoltageSeen ? 1 << 16 : 0), 'hwmon');
  }

  private async findVoltHwmon(): Promise<string | null> {
    for (const h of await readdir(join(this.root, 'sys/class/hwmon')).catch(() => [] as string[])) {
      if ((await this.text(`sys/class/hwmon/${h}/name`))?.trim() === 'rpi_volt') return `sys/class/hwmon/${h}`;
    }
    return null;
  }

  /** in0_lcrit_alarm: true (under-volted in the driver's last poll), false, or undefined (unreadable). */
  private async readAlarm(dir: string): Promise<boolean | undefined> {
    const v = (await this.text(`${dir}/in0_lcrit_alarm`))?.trim();
    const alarm = v === '1' ? true : v === '0' ? false : undefined;
    if (alarm) this.underVoltageSeen = true;
    return alarm;
  }

  /** The alarm covers the driver's last 2 s poll only; a dip between two readings of the page or MQTT would go
   * unseen. One small sysfs read every HWMON_POLL_MS (no process), so "occurred" means what it says. */
  private watchAlarm(dir: string): void {
    if (this.hwmonPoll) return;
    this.hwmonPoll = setInterval(() => void this.readAlarm(dir), this.pollMs);
    this.hwmonPoll.unref();
  }

  /** Stops watching the under-voltage alarm. */
  close(): void {
    clearInterval(this.hwmonPoll);
    this.hwmonPoll = undefined;
  }

  /** The CPU's thermal zone (type cpu-thermal on a Pi), else the first zone that reads. */
  private async cpuTemperature(): Promise<number | null> {
    const zones = (await readdir(join(this.root, 'sys/class/thermal')).catch(() => [] as string[])).filter((z) => /^thermal_zone\d+$/.test(z)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
    let first: number | null = null;
    for (const z of zones) {
      const milli = Number.parseInt((await this.text(`sys/class/thermal/${z}/temp`)) ?? '', 10);
      if (!Number.isFinite(milli)) continue;
      const c = Math.round(milli / 100) / 10;
      const type = (await this.text(`sys/class/thermal/${z}/type`))?.trim() ?? '';
      if (/cpu|soc|x86_pkg/i.test(type)) return c;
      first ??= c;
    }
    return first;
  }
}
