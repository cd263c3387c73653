// OctoPrint's `job` object (GET /api/job, the push socket's `current`), translated from the status model: one
// builder, so REST and push agree (push used to send averagePrintTime: null where REST computed it).
import type { JobStatus } from '../status/types.js';

const NO_FILE = { name: null, path: null, display: null, origin: null, size: null, date: null };

export function octoJob(job: JobStatus): Record<string, unknown> {
  return {
    file: job.file ? { ...job.file } : NO_FILE,
    estimatedPrintTime: job.estimatedPrintTime,
    averagePrintTime: job.averagePrintTime,
    lastPrintTime: job.lastPrintTime,
    filament: job.filament,
    user: job.user,
  };
}
