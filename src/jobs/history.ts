// Every print, appended as one JSON line and fdatasynced: a power cut loses at most the line being written,
// and a torn last line is skipped on read (the next entry starts on a line of its own).
import { open, readFile } from 'node:fs/promises';
import { parseJsonSafe } from '../store/safe-json.js';

export type JobResult = 'success' | 'failed' | 'cancelled';

export interface HistoryEntry {
  id: string;
  /** the printer that printed it (absent on rows from before Gantry had several: the default printer's) */
  printerId?: string;
  file: { path: string; name: string; display: string; size: number };
  hash: string;
  user: string | null;
  start: number;
  end: number;
  /** seconds printing, pauses excluded */
  printTime: number;
  result: JobResult;
  reason: string | null;
  estimatedPrintTime: number | null;
  filament: Record<string, { length: number; volume: number }> | null;
}

export class History {
  constructor(readonly path: string) {}

  async append(entry: HistoryEntry): Promise<void> {
    const fh = await open(this.path, 'a+', 0o644);
    try {
      // a line torn by a power cut has no newline: start on a fresh line, or this entry would be glued to the
      // torn one and skipped with it
      const { size } = await fh.stat();
      const last = Buffer.alloc(1);
      if (size > 0) await fh.read(last, 0, 1, size - 1);
      await fh.appendFile((size > 0 && last[0] !== 0x0a ? '\n' : '') + JSON.stringify(entry) + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async all(): Promise<HistoryEntry[]> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    const out: HistoryEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(parseJsonSafe(line) as HistoryEntry);
      } catch {
        // a line torn by a power cut: skip it
      }
    }
    return out;
  }
}
