// Names and paths under the files folder. Every user-supplied path goes through here: sanitized per segment
// (OctoPrint keeps the original as `display`), and resolved so it can never leave the root.
import { resolve, sep } from 'node:path';

export const GCODE_EXTENSIONS = ['.gcode', '.gco', '.g', '.gc'];

export class PathError extends Error {}

/** ASCII-safe file name: accents dropped, spaces to `_`, only [A-Za-z0-9._()+-]. */
export function sanitizeName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const clean = ascii
    .trim()
    .replace(/\s+/g, '_')
    .replace(/[^A-Za-z0-9._()+-]/g, '')
    .replace(/^\.+/, '')
    .slice(0, 200);
  if (clean === '' || clean === '.' || clean === '..') throw new PathError(`Invalid name: ${JSON.stringify(name)}`);
  return clean;
}

/** A relative path made of sanitized segments, '' for the root. Refuses `..` and empty segments. */
export function sanitizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) if (p === '..' || p === '.') throw new PathError(`Invalid path: ${JSON.stringify(path)}`);
  return parts.map(sanitizeName).join('/');
}

/** The absolute path of a sanitized relative path; throws if it would fall outside root. */
export function within(root: string, relative: string): string {
  const abs = resolve(root, relative);
  if (abs !== root && !abs.startsWith(root + sep)) throw new PathError(`Path escapes the files folder: ${relative}`);
  return abs;
}

export function isGcodeName(name: string): boolean {
  const lower = name.toLowerCase();
  return GCODE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function joinPath(folder: string, name: string): string {
  return folder ? `${folder}/${name}` : name;
}
