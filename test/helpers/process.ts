import { readFile, readdir } from 'node:fs/promises';

// Whether a process is still there (signal 0 checks without touching it).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes other than this one whose command line mentions `marker` (a test's own data directory or PTY link):
 * what a test leaves running shows here, however it was started. */
export async function processesMentioning(marker: string): Promise<{ pid: number; cmdline: string }[]> {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) out.push({ pid: Number(name), cmdline: cmdline.replaceAll('\0', ' ').trim() });
  }
  return out;
}
