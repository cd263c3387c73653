// Settings → System: download a backup of Gantry's data (settings, accounts and keys, files, history; timelapses
// when ticked), and restore one. Gantry checks the whole archive before it changes anything and says what was
// wrong; a good one is swapped in as Gantry restarts, and the page reconnects by itself.
import { postForm } from '../api.js';
import { $, act, confirmDialog, toast } from '../dom.js';

export function initBackup(): void {
  $<HTMLButtonElement>('#backup-download').onclick = () => {
    // a download (Content-Disposition: attachment): the page stays where it is
    location.href = `/api/gantry/backup${$<HTMLInputElement>('#backup-timelapses').checked ? '?timelapses=1' : ''}`;
  };
  const form = $<HTMLFormElement>('#restore-form');
  const error = $('.form-error', form);
  form.onsubmit = async (e) => {
    e.preventDefault();
    error.textContent = '';
    const file = $<HTMLInputElement>('#restore-file').files?.[0];
    if (!file) return void (error.textContent = 'Choose a backup file (.tar.gz) first');
    if (!(await confirmDialog(`Restore ${file.name}? Settings, accounts, files and history are replaced by the backup's, and Gantry restarts.`, 'Restore'))) return;
    const body = new FormData();
    body.append('file', file, file.name);
    await act($<HTMLButtonElement>('button[type=submit]', form), async () => {
      try {
        await postForm('/api/gantry/restore', body);
        toast('Backup restored: Gantry restarts now', 'ok');
      } catch (err) {
        error.textContent = (err as Error).message;
      }
    });
  };
}
