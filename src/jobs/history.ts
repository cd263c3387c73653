// Every print, appended as one JSON line and fdatasynced: a power cut loses at most the line being written,
// and a torn last line is skipped on read.
import { appendFile, open, readFile } from 'node:fs/promises';

export type JobResult = 'success' | 'failed' | 'cancelled';

export interface HistoryEntry {
  id: string;
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
    await appendFile(this.path, JSON.stringify(entry) + '\n', { mode: 0o644 });
    const fh = await open(this.path, 'r+');
    try {
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
        out.push(JSON.parse(line) as HistoryEntry);
      } catch {
        // a line torn by a power cut: skip it
      }
    }
    return out;
  }
}
