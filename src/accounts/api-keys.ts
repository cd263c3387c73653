// API keys. Generated like OctoPrint's (43 characters of [A-Za-z0-9_-]; FDM Monster rejects other shapes),
// compared in constant time, never logged.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export function generateApiKey(): string {
  return randomBytes(32).toString('base64url'); // 43 characters
}

export interface KeyRecord {
  key: string;
  user: string;
  app: string | null;
  created: number;
}

export interface KeysFile {
  admin: KeyRecord | null;
  keys: KeyRecord[];
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Finds the record for a presented key without leaking timing about where strings differ. */
export function findKey(file: KeysFile, presented: string): KeyRecord | undefined {
  const d = digest(presented);
  let found: KeyRecord | undefined;
  for (const rec of [file.admin, ...file.keys]) {
    if (rec && timingSafeEqual(digest(rec.key), d)) found = rec;
  }
  return found;
}
