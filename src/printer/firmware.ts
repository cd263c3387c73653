// Firmware identification from the M115 report, and what each flavor needs the host to do differently.

export type FirmwareFlavor = 'marlin' | 'prusa' | 'klipper' | 'repetier' | 'smoothieware' | 'reprapfirmware' | 'unknown';

export interface FirmwareInfo {
  name: string;
  flavor: FirmwareFlavor;
  /** All `KEY:value` fields of the FIRMWARE_NAME line (FIRMWARE_VERSION, MACHINE_TYPE, EXTRUDER_COUNT…). */
  fields: Record<string, string>;
  /** `Cap:NAME:0|1` lines. */
  capabilities: Record<string, boolean>;
  /** the machine's travel limits, when the firmware reports them (Marlin's `area:{full:{min:…,max:…}}`) */
  area?: { min: { x: number; y: number; z: number }; max: { x: number; y: number; z: number } };
}

/** Marlin (EXTENDED_M115) reports its volume after the caps: `area:{full:{min:{x:0.00,y:0.00,z:0.00},max:{x:200.00,…}},work:…}`. */
export function parseArea(line: string): FirmwareInfo['area'] {
  const m = /^area:\{full:\{min:\{x:(-?[\d.]+),y:(-?[\d.]+),z:(-?[\d.]+)\},max:\{x:(-?[\d.]+),y:(-?[\d.]+),z:(-?[\d.]+)\}/.exec(line);
  if (!m) return undefined;
  const n = m.slice(1, 7).map(Number);
  if (n.some((v) => !Number.isFinite(v))) return undefined;
  return { min: { x: n[0]!, y: n[1]!, z: n[2]! }, max: { x: n[3]!, y: n[4]!, z: n[5]! } };
}

export interface FlavorQuirks {
  /** Send line numbers and checksums on every line, not only while printing (Repetier). */
  alwaysChecksum: boolean;
  /** Only G/M/T lines get an `ok` (Smoothieware ignores the rest silently). */
  onlyGcodeIsAcked: boolean;
  /** The firmware understands M155 even without a Cap line saying so. */
  m155WithoutCap: boolean;
  /** Repetier-style `TargetExtrN:` lines. */
  repetierTargets: boolean;
}

const QUIRKS: Record<FirmwareFlavor, FlavorQuirks> = {
  marlin: { alwaysChecksum: false, onlyGcodeIsAcked: false, m155WithoutCap: false, repetierTargets: false },
  prusa: { alwaysChecksum: false, onlyGcodeIsAcked: false, m155WithoutCap: true, repetierTargets: false },
  klipper: { alwaysChecksum: false, onlyGcodeIsAcked: false, m155WithoutCap: false, repetierTargets: false },
  repetier: { alwaysChecksum: true, onlyGcodeIsAcked: false, m155WithoutCap: false, repetierTargets: true },
  smoothieware: { alwaysChecksum: false, onlyGcodeIsAcked: true, m155WithoutCap: false, repetierTargets: false },
  reprapfirmware: { alwaysChecksum: false, onlyGcodeIsAcked: false, m155WithoutCap: false, repetierTargets: false },
  unknown: { alwaysChecksum: false, onlyGcodeIsAcked: false, m155WithoutCap: false, repetierTargets: false },
};

export function quirksFor(flavor: FirmwareFlavor): FlavorQuirks {
  return QUIRKS[flavor];
}

export function detectFlavor(name: string): FirmwareFlavor {
  const n = name.toLowerCase();
  if (n.includes('klipper')) return 'klipper';
  if (n.includes('prusa-firmware') || n.includes('prusa firmware')) return 'prusa';
  if (n.includes('repetier') || n.includes('anet_a8')) return 'repetier';
  if (n.includes('smoothie')) return 'smoothieware';
  if (n.includes('reprapfirmware')) return 'reprapfirmware';
  if (n.includes('marlin')) return 'marlin';
  return 'unknown';
}

/**
 * Splits `FIRMWARE_NAME:Marlin 2.1 (date) SOURCE_CODE_URL:… PROTOCOL_VERSION:1.0 …` into fields.
 * Handles RepRapFirmware's `KEY: value` spacing and Smoothieware's `KEY:value, X-KEY:value` commas.
 */
export function parseFirmwareLine(line: string): Record<string, string> | undefined {
  const start = line.indexOf('FIRMWARE_NAME:');
  if (start < 0) return undefined;
  const text = line.slice(start);
  const keyRe = /(?:^|[\s,]+)([A-Z][A-Z0-9_-]*):\s?/g;
  const keys: { key: string; from: number; valueStart: number }[] = [];
  for (let m = keyRe.exec(text); m; m = keyRe.exec(text)) {
    keys.push({ key: m[1]!, from: m.index, valueStart: m.index + m[0].length });
  }
  const fields: Record<string, string> = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const end = i + 1 < keys.length ? keys[i + 1]!.from : text.length;
    fields[k.key] = text.slice(k.valueStart, end).replace(/,\s*$/, '').trim();
  }
  return fields;
}

/** `Cap:AUTOREPORT_TEMP:1` → ['AUTOREPORT_TEMP', true]. */
export function parseCapability(line: string): [string, boolean] | undefined {
  if (!line.startsWith('Cap:')) return undefined;
  const m = /^Cap:([A-Z0-9_]+):\s*([01])/.exec(line);
  return m ? [m[1]!, m[2] === '1'] : undefined;
}
