// printers.json: the printers added besides the default one, each with its own settings sections. The default
// printer keeps its sections in settings.json, where a single-printer install always had them: nothing to migrate.
import type { PrinterSettings } from '../config/settings-store.js';

/** The default printer's id: the one today's URLs and MQTT topics (`<base>/printer/…`) always named. */
export const DEFAULT_PRINTER_ID = 'printer';

/** URL- and topic-safe: lower-case letters, digits, - and _, starting with a letter or digit */
export const PRINTER_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export interface PrinterRecord {
  id: string;
  created: number;
  settings: PrinterSettings;
}

export interface PrintersFile {
  printers: PrinterRecord[];
}

export const defaultPrintersFile = (): PrintersFile => ({ printers: [] });
