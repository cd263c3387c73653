// The print job's operations: start, restart, pause, resume, toggle, cancel. Pause, resume and cancel are
// checked at once against the job's state table (a conflict when refused) and carried out in the background.
import { FileStorage } from '../../files/storage.js';
import { ServiceError } from '../../service-error.js';
import { type OpCall, operation as op } from '../operation.js';
import { noParams, stringParam } from '../params.js';

/** A file of the library by its path (as the files API names it): not-found, or unsupported for a folder. */
export async function libraryFile(c: OpCall, raw: string): Promise<string> {
  const path = FileStorage.path(raw);
  const kind = await c.target.fileKind(path);
  if (kind === undefined) throw new ServiceError(404, `${path} not found`);
  if (kind === 'folder') throw new ServiceError(415, `${path} is a folder, not a G-code file`);
  return path;
}

const pathParam = (i: Record<string, unknown>) => ({ path: stringParam(i, 'path', { max: 4096 }) });

export const jobOps = [
  op({ name: 'job.select', permission: 'FILES_SELECT', summary: 'select a file to print, {"path"}', parse: pathParam, run: async (c, p) => c.target.jobs.select(await libraryFile(c, p.path), false, c.user) }),
  op({ name: 'job.print', permission: 'PRINT', summary: 'select a file and print it, {"path"}', parse: pathParam, run: async (c, p) => c.target.jobs.select(await libraryFile(c, p.path), true, c.user) }),
  op({ name: 'job.unselect', permission: 'FILES_SELECT', summary: 'no file selected', parse: noParams, run: (c) => c.target.jobs.unselect() }),
  op({ name: 'job.start', permission: 'PRINT', summary: 'print the selected file', parse: noParams, run: (c) => c.target.jobs.start(c.user) }),
  op({ name: 'job.restart', permission: 'PRINT', summary: 'print the selected file again from the start (while paused)', parse: noParams, run: (c) => c.target.jobs.restart(c.user) }),
  op({ name: 'job.pause', permission: 'PRINT', summary: 'pause the print', parse: noParams, run: (c) => c.target.jobs.request('pause') }),
  op({ name: 'job.resume', permission: 'PRINT', summary: 'resume the paused print', parse: noParams, run: (c) => c.target.jobs.request('resume') }),
  op({ name: 'job.toggle', permission: 'PRINT', summary: 'pause a running print, resume a paused one', parse: noParams, run: (c) => c.target.jobs.request('toggle') }),
  op({ name: 'job.cancel', permission: 'PRINT', summary: 'cancel the print', parse: noParams, run: (c) => c.target.jobs.request('cancel') }),
];
