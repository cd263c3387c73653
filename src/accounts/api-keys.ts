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

/** The admin key: generated at first start, or set by the operator (--api-key / GANTRY_API_KEY). */
export interface AdminKeyRecord extends KeyRecord {
  /** absent in files from before first-run setup closed itself: those keys were generated */
  source?: 'generated' | 'operator';
  /** set the first time the key is used: someone holds it, so first-run setup is over */
  used?: boolean;
}

export interface KeysFile {
  admin: AdminKeyRecord | null;
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
