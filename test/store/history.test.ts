// The print history survives a power cut mid-append: the torn line is skipped, and the next entry is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type HistoryEntry, History } from '../../src/jobs/history.js';
import { tempDir } from '../helpers/tmp.js';

const entry = (id: string): HistoryEntry => ({
  id,
  file: { path: 'a.gcode', name: 'a.gcode', display: 'a.gcode', size: 1 },
  hash: 'h',
  user: null,
  start: 1,
  end: 2,
  printTime: 1,
  result: 'success',
  reason: null,
  estimatedPrintTime: null,
  filament: null,
});

test('an entry appended after a torn last line starts on its own line and is read back', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const history = new History(join(dir, 'history.jsonl'));
    await history.append(entry('1'));
    // what a power cut in the middle of the second append leaves: half a line, no newline
    await writeFile(history.path, JSON.stringify(entry('torn')).slice(0, 40), { flag: 'a' });
    await history.append(entry('3'));
    assert.deepEqual((await history.all()).map((e) => e.id), ['1', '3']);
  } finally {
    await cleanup();
  }
});
