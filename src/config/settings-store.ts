// What reads and changes settings: the saved file for the default printer, a per-printer view for the others
// (src/printers/unit-settings.ts). Both read the same whole Settings shape, so every route works on either.
import type { Settings } from './settings.js';

export interface SettingsStore {
  /** the saved settings; read them fresh after an update (an update replaces them, it does not edit in place) */
  readonly data: Settings;
  /** applies `fn` to a copy and saves it; nothing changes when `fn` throws or the save fails */
  update(fn: (s: Settings) => void): Promise<void>;
}

/** The sections each printer has of its own; the rest (accounts, MQTT, files, the server) is the whole Gantry's. */
export const PRINTER_SECTIONS = ['appearance', 'serial', 'printerProfile', 'scripts', 'queue', 'camera', 'timelapse'] as const;
export type PrinterSection = (typeof PRINTER_SECTIONS)[number];
export type PrinterSettings = Pick<Settings, PrinterSection>;
