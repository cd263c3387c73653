// The print job's operations: start, restart, pause, resume, toggle, cancel. Pause, resume and cancel are
// checked at once against the job's state table (a conflict when refused) and carried out in the background.
import { operation } from '../operation.js';
import { noParams } from '../params.js';

export const jobOps = [
  operation({ name: 'job.start', permission: 'PRINT', summary: 'print the selected file', parse: noParams, run: (c) => c.target.jobs.start(c.user) }),
  operation({ name: 'job.restart', permission: 'PRINT', summary: 'print the selected file again from the start (while paused)', parse: noParams, run: (c) => c.target.jobs.restart(c.user) }),
  operation({ name: 'job.pause', permission: 'PRINT', summary: 'pause the print', parse: noParams, run: (c) => c.target.jobs.request('pause') }),
  operation({ name: 'job.resume', permission: 'PRINT', summary: 'resume the paused print', parse: noParams, run: (c) => c.target.jobs.request('resume') }),
  operation({ name: 'job.toggle', permission: 'PRINT', summary: 'pause a running print, resume a paused one', parse: noParams, run: (c) => c.target.jobs.request('toggle') }),
  operation({ name: 'job.cancel', permission: 'PRINT', summary: 'cancel the print', parse: noParams, run: (c) => c.target.jobs.request('cancel') }),
];
