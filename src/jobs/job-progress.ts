// A job's progress as OctoPrint reports it: completion by bytes, print time without the pauses, and the time
// left, blending the file's analysis with what the print has shown so far.

export interface JobProgress {
  completion: number | null;
  filepos: number | null;
  printTime: number | null;
  printTimeLeft: number | null;
  printTimeLeftOrigin: string | null;
}

export interface ProgressInput {
  filepos: number;
  size: number;
  startedAt: number;
  /** when the running pause began, or null */
  pausedAt: number | null;
  /** ms paused before the running pause */
  pausedTotal: number;
}

/** Seconds printed: since the start, without the pauses. */
export function printTimeOf(j: Omit<ProgressInput, 'filepos' | 'size'>, now = Date.now()): number {
  return Math.max(0, Math.round(((j.pausedAt ?? now) - j.startedAt - j.pausedTotal) / 1000));
}

/** `estimate` is the analysis's print time (null when there is none). */
export function progressOf(j: ProgressInput, estimate: number | null): JobProgress {
  const filepos = j.filepos;
  const completion = j.size > 0 ? (100 * filepos) / j.size : 0;
  const printTime = printTimeOf(j);
  const linear = completion > 0.5 ? (printTime * (100 - completion)) / completion : null;
  if (estimate !== null && estimate > 0) {
    // the analysis knows the file's shape (slow first layer, fast infill); observed progress knows this
    // printer. Trust the analysis early and the observation more as the print goes on.
    const analysisLeft = Math.max(0, estimate * (1 - completion / 100));
    const w = Math.min(1, completion / 100);
    const left = linear === null ? analysisLeft : (1 - w) * analysisLeft + w * linear;
    return { completion, filepos, printTime, printTimeLeft: Math.round(left), printTimeLeftOrigin: linear === null ? 'analysis' : 'mixed-analysis' };
  }
  return { completion, filepos, printTime, printTimeLeft: linear === null ? null : Math.round(linear), printTimeLeftOrigin: linear === null ? null : 'linear' };
}
