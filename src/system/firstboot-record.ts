// What the image's first-boot script (image/firstboot/gantry-firstboot) did, for the page: it runs as root before
// Gantry starts and leaves firstboot.json in the data directory ({at, applied, errors}), so a mistake in
// gantry-firstboot.txt is shown to whoever opens the page, not only in a log on the card's FAT partition.
// Read from the file only (no shell); anything malformed reads as "no record" rather than as an error.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const FIRSTBOOT_FILE = 'firstboot.json';

export interface FirstBootRecord {
  /** when the script ran (ISO 8601, UTC) */
  at: string;
  /** what it applied, one line each ("hostname: gantry-2 (...)") */
  applied: string[];
  /** what was wrong in the file or failed, one line each; the rest was applied */
  errors: string[];
}

/** A record comes from a file the operator wrote: bounded so a runaway file cannot bloat every health message. */
const MAX_LINES = 50;
const MAX_LINE = 300;

function lines(v: unknown): string[] | undefined {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) return undefined;
  return v.slice(0, MAX_LINES).map((x) => (x.length > MAX_LINE ? `${x.slice(0, MAX_LINE - 1)}…` : x));
}

/** The record from firstboot.json's text, or null if it is not one. */
export function parseFirstBootRecord(text: string): FirstBootRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const applied = lines(o.applied);
  const errors = lines(o.errors);
  if (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at)) || !applied || !errors) return null;
  return { at: o.at, applied, errors };
}

/** The data directory's first-boot record; null when there is none (not an image, or never a first boot). */
export async function readFirstBootRecord(dataDir: string): Promise<FirstBootRecord | null> {
  const text = await readFile(join(dataDir, FIRSTBOOT_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? null : parseFirstBootRecord(text);
}
