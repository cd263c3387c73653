// Names and paths under the files folder. Every user-supplied path goes through here: sanitized per segment
// (OctoPrint keeps the original as `display`), and resolved so it can never leave the root.
import { resolve, sep } from 'node:path';
import { ServiceError } from '../service-error.js';

export const GCODE_EXTENSIONS = ['.gcode', '.gco', '.g', '.gc'];

/** Longest stored name: well under the 255-byte limit of ext4, FAT and NTFS (sanitized names are ASCII). */
export const MAX_NAME_LENGTH = 200;
/** Deepest path (folders plus the file), and the longest path as a whole: far below PATH_MAX, and every stored
 * path stays addressable by URL. */
export const MAX_DEPTH = 16;
export const MAX_PATH_LENGTH = 1024;
/** An extension longer than this is part of the name, not an extension worth keeping when shortening. */
const MAX_EXTENSION_LENGTH = 16;

/** A bad user-supplied name or path: always the client's fault, so the API answers 400 (it is a ServiceError so
 * that every route maps it the same way, wherever it is thrown). */
export class PathError extends ServiceError {
  constructor(message: string) {
    super(400, message);
  }
}

/** ASCII-safe file name: accents dropped, spaces to `_`, only [A-Za-z0-9._()+-], no leading dots. A name too
 * long for the file system loses the end of its stem, never its extension (`.gcode` cut off would make the file
 * invisible: the listing shows G-code files only). */
export function sanitizeName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let clean = ascii
    .trim()
    .replace(/\s+/g, '_')
    .replace(/[^A-Za-z0-9._()+-]/g, '')
    .replace(/^\.+/, '');
  if (clean.length > MAX_NAME_LENGTH) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= MAX_EXTENSION_LENGTH ? clean.slice(dot) : '';
    clean = clean.slice(0, MAX_NAME_LENGTH - ext.length) + ext;
  }
  if (clean === '') throw new PathError(`Invalid name: ${JSON.stringify(name)} has no usable characters`);
  return clean;
}

/** The stored name for an uploaded G-code file: sanitized, and still a G-code name with something before the
 * extension (`..gcode`, `???.gcode` sanitize to `gcode`, which would be stored but never listed). */
export function sanitizeFileName(name: string): string {
  const clean = sanitizeName(name);
  if (!isGcodeName(clean)) throw new PathError(`Invalid file name: ${JSON.stringify(name)} has no usable name before its extension`);
  return clean;
}

/** A relative path made of sanitized segments, '' for the root. Refuses `.`, `..` and paths too deep or long;
 * empty segments (`a//b`, a leading or trailing `/`) are dropped. */
export function sanitizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) if (p === '..' || p === '.') throw new PathError(`Invalid path: ${JSON.stringify(path)}`);
  return checkPath(parts.map(sanitizeName).join('/'));
}

/** A new entry's path in a folder, within the depth and length limits. */
export function childPath(folder: string, name: string): string {
  return checkPath(joinPath(folder, name));
}

function checkPath(relative: string): string {
  if (relative.split('/').length > MAX_DEPTH) throw new PathError(`Path too deep (at most ${MAX_DEPTH} levels): ${relative}`);
  if (relative.length > MAX_PATH_LENGTH) throw new PathError(`Path too long (at most ${MAX_PATH_LENGTH} characters): ${relative.slice(0, 64)}…`);
  return relative;
}

/** The absolute path of a sanitized relative path; throws if it would fall outside root. Lexical only: the
 * storage also checks where symlinks lead (FileStorage.real). */
export function within(root: string, relative: string): string {
  const abs = resolve(root, relative);
  if (!isInside(root, abs)) throw new PathError(`Path escapes the files folder: ${relative}`);
  return abs;
}

/** Whether an absolute path is root itself or below it. */
export function isInside(root: string, abs: string): boolean {
  return abs === root || abs.startsWith(root.endsWith(sep) ? root : root + sep);
}

export function isGcodeName(name: string): boolean {
  const lower = name.toLowerCase();
  return GCODE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function joinPath(folder: string, name: string): string {
  return folder ? `${folder}/${name}` : name;
}
