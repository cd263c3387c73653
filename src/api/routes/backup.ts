// Backup and restore of the data directory (admin only: the backup holds every account and key).
// GET /api/gantry/backup[?timelapses=1] streams a tar.gz; POST /api/gantry/restore takes one (multipart), checks
// all of it, stages it and restarts Gantry, which swaps it in before opening anything (src/system/backup.ts).
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono/tiny';
import { closeAfterAnswer } from '../../files/upload.js';
import { ServiceError } from '../../service-error.js';
import { UPLOAD_PREFIX, createBackup, stageRestore } from '../../system/backup.js';
import { receiveArchive } from '../../system/restore-upload.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { parseBool } from '../http.js';

/** The largest archive a restore takes (a backup with timelapses can be large; the disk check comes after). */
export const RESTORE_MAX_BYTES = 4 * 1024 ** 3;

export function backupRoutes(deps: ApiDeps): Hono<ApiEnv & { Bindings: HttpBindings }> {
  const app = new Hono<ApiEnv & { Bindings: HttpBindings }>();
  let restoring = false;

  app.get('/api/gantry/backup', async (c) => {
    const timelapses = parseBool(c.req.query('timelapses') ?? 'false');
    const stream = await createBackup(deps.dataDir, { timelapses });
    const day = new Date().toISOString().slice(0, 10);
    const name = `gantry-backup-${hostname().split('.')[0]}-${day}.tar.gz`.replace(/[^A-Za-z0-9._-]/g, '_');
    const res = c.env.outgoing;
    res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' });
    deps.log.info(`backup downloaded by ${c.get('user')}${timelapses ? ' (with timelapses)' : ''}`);
    // a client that goes away ends the stream; nothing to clean up (it is read from the data, never written)
    pipeline(stream, res).catch((err: Error) => {
      deps.log.warn(`backup: ${err.message}`);
      res.destroy();
    });
    return RESPONSE_ALREADY_SENT;
  });

  app.post('/api/gantry/restore', async (c) => {
    const refuse = (status: 409 | 413, message: string) => {
      // refused before the body was read: do not read (nor wait for) the rest of it
      closeAfterAnswer(c.env.incoming, c.env.outgoing);
      return new ServiceError(status, message);
    };
    if (restoring) throw refuse(409, 'A restore is already under way');
    if (deps.jobs.active || deps.printer.printing) throw refuse(409, 'The printer is printing: restore a backup when it is done');
    const length = Number(c.req.header('content-length') ?? NaN);
    if (Number.isFinite(length) && length > RESTORE_MAX_BYTES + 64 * 1024) throw refuse(413, `The backup is larger than ${RESTORE_MAX_BYTES / 1024 ** 2} MB`);
    restoring = true;
    const temp = join(deps.dataDir, `${UPLOAD_PREFIX}${randomBytes(6).toString('hex')}.tar.gz`);
    try {
      await receiveArchive(c.env.incoming, temp, RESTORE_MAX_BYTES);
      const checked = await stageRestore(temp, deps.dataDir);
      deps.log.warn(`backup restore staged by ${c.get('user')} (${checked.items.join(', ')}); restarting to swap it in`);
      setTimeout(() => deps.restart(), 200).unref();
      return c.json({ restored: checked.items, entries: checked.entries, bytes: checked.unpacked, restarting: true }, 202);
    } catch (err) {
      closeAfterAnswer(c.env.incoming, c.env.outgoing);
      throw err;
    } finally {
      restoring = false;
      await unlink(temp).catch(() => undefined);
    }
  });
  return app;
}
