// A process's memory as Linux counts it, read from /proc: for the memory and soak benchmarks.
import { readFile, readdir } from 'node:fs/promises';

/** Resident set size in MB (VmRSS). */
export async function rssMb(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Resident MB in the main malloc arena (the brk `[heap]`) and in anonymous mappings (V8's heap, thread arenas,
 * large mallocs): where memory that did not come back is sitting. */
export async function smapsSplit(pid: number): Promise<{ heapMb: number; anonMb: number }> {
  let heap = 0;
  let anon = 0;
  let into: 'heap' | 'anon' | undefined;
  for (const line of (await readFile(`/proc/${pid}/smaps`, 'utf8')).split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      into = m[1] === '[heap]' ? 'heap' : m[1] === '' ? 'anon' : undefined;
      continue;
    }
    const r = /^Rss:\s+(\d+)/.exec(line);
    if (r && into === 'heap') heap += Number(r[1]);
    if (r && into === 'anon') anon += Number(r[1]);
  }
  return { heapMb: heap / 1024, anonMb: anon / 1024 };
}

/** The direct children of a process, with their command lines. */
export async function childrenOf(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const out: { pid: number; cmdline: string }[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const ids = (await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
    for (const id of ids) out.push({ pid: id, cmdline: (await readFile(`/proc/${id}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ') });
  }
  return out;
}

/** Samples RSS every `everyMs` (of `pid`, or of the summed processes `pids()` names) and keeps the peak. */
export function rssSampler(pid: number, everyMs: number, pids: () => Promise<number[]> = async () => [pid]): { stop(): number } {
  let peak = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void pids()
      .then(async (ids) => {
        let sum = 0;
        for (const id of ids) sum += await rssMb(id).catch(() => 0);
        peak = Math.max(peak, sum);
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
