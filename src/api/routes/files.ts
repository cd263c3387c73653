// OctoPrint's files API for the local storage: listing, streaming uploads, folders, select/copy/move,
// delete, and downloads with Range. `sdcard` answers 404 until printer SD support exists.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredAnalysis } from '../../files/analysis/analysis-queue.js';
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import { type Entry, FileStorage } from '../../files/storage.js';
import { childPath, sanitizeName, sanitizePath } from '../../files/paths.js';
import { closeAfterAnswer, parseUpload } from '../../files/upload.js';
import { ServiceError } from '../../service-error.js';
import { parseJsonSafe } from '../../store/safe-json.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { sendFile } from '../send-file.js';
import { callOp } from '../ops.js';
import { absoluteUrl, badRequest, normalizedPath, parseBool, readCommand } from '../http.js';

type Env = ApiEnv & { Bindings: HttpBindings };

const SD_MISSING = 'SD card support is not available';

export function fileRoutes(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { storage, jobs } = deps;

  const rest = (c: Context, prefix: string) => FileStorage.path(normalizedPath(c.req.url).slice(prefix.length));
  const resourceUrl = (c: Context, path: string) => absoluteUrl(c, `/api/files/local/${encodePath(path)}`);
  const downloadUrl = (c: Context, path: string) => absoluteUrl(c, `/downloads/files/local/${encodePath(path)}`);

  const toJson = (c: Context, e: Entry): Record<string, unknown> => {
    if (e.kind === 'folder') {
      return {
        name: e.name,
        display: e.name,
        path: e.path,
        type: 'folder',
        typePath: ['folder'],
        origin: 'local',
        size: e.size,
        date: e.date,
        children: e.children.map((ch) => toJson(c, ch)),
        prints: { success: 0, failure: 0 },
        refs: { resource: resourceUrl(c, e.path) },
      };
    }
    const times = e.meta.printTimes;
    const statistics: Record<string, unknown> = { averagePrintTime: {}, lastPrintTime: {} };
    if (times.length) {
      statistics['averagePrintTime'] = { _default: times.reduce((a, b) => a + b, 0) / times.length };
      statistics['lastPrintTime'] = { _default: times[times.length - 1] };
    }
    return {
      name: e.name,
      display: e.meta.display,
      path: e.path,
      type: 'machinecode',
      typePath: ['machinecode', 'gcode'],
      hash: e.meta.hash,
      size: e.size,
      date: e.date,
      origin: 'local',
      refs: { resource: resourceUrl(c, e.path), download: downloadUrl(c, e.path) },
      prints: e.meta.prints,
      statistics,
      ...analysisFields(c, e.path, e.meta.analysis),
    };
  };

  const analysisFields = (c: Context, path: string, a: StoredAnalysis | undefined): Record<string, unknown> => {
    if (!a) {
      // why the analysis failed (the analysis process crashed, the file could not be read), until it is retried
      const failed = deps.analysis.failure(path);
      if (failed !== undefined) return { gantryAnalysisError: failed };
      deps.analysis.enqueue(path); // not analysed yet (or changed): it will be shortly
      return {};
    }
    const out: Record<string, unknown> = {
      gcodeAnalysis: {
        estimatedPrintTime: a.estimatedPrintTime,
        filament: a.filament,
        dimensions: a.dimensions,
        printingArea: a.printingArea,
        travelArea: a.travelArea,
        travelDimensions: a.travelArea
          ? { width: a.travelArea.maxX - a.travelArea.minX, depth: a.travelArea.maxY - a.travelArea.minY, height: a.travelArea.maxZ - a.travelArea.minZ }
          : null,
        layers: a.layers,
        slicer: { name: a.slicer.name, version: a.slicer.version, estimatedPrintTime: a.slicer.estimatedPrintTime },
      },
    };
    if (a.thumbnails.length) {
      out['thumbnail'] = `api/gantry/thumbnails/${encodePath(path)}?${a.hash.slice(0, 8)}`;
      out['thumbnails'] = a.thumbnails.map((t) => ({ width: t.width, height: t.height, format: t.format, url: absoluteUrl(c, `/api/gantry/thumbnails/${encodePath(path)}?size=${t.width}x${t.height}`) }));
    }
    return out;
  };

  const listing = async (c: Context) => {
    const depth = parseBool(c.req.query('recursive')) ? Infinity : 2;
    const entries = await storage.list('', depth);
    const { free, total } = await storage.freeBytes();
    return c.json({ files: entries.map((e) => toJson(c, e)), free, total });
  };
  app.get('/api/files', listing);
  app.get('/api/files/local', listing);
  app.get('/api/files/local/*', async (c) => c.json(toJson(c, await storage.entry(rest(c, '/api/files/local/')))));
  app.get('/api/files/sdcard', (c) => c.json({ error: SD_MISSING }, 404));
  app.get('/api/files/sdcard/*', (c) => c.json({ error: SD_MISSING }, 404));
  app.post('/api/files/sdcard', (c) => c.json({ error: SD_MISSING }, 404));
  app.post('/api/files/sdcard/*', (c) => c.json({ error: SD_MISSING }, 404));

  app.post('/api/files/local', async (c) => {
    const length = Number(c.req.header('content-length') ?? NaN);
    const max = deps.settings.data.files.maxUploadBytes;
    let upload;
    try {
      if (Number.isFinite(length)) {
        if (length > max + 64 * 1024) throw new ServiceError(413, `The upload is larger than the limit of ${max} bytes`);
        const { free } = await storage.freeBytes();
        if (length > free - 16 * 1024 * 1024) throw new ServiceError(507, `Not enough free disk space for this upload (${free} bytes free)`);
      }
      upload = await parseUpload(c.env.incoming, () => storage.tempPath(), max);
    } catch (err) {
      // refused before the body was read: do not read (nor wait for) the rest of it
      closeAfterAnswer(c.env.incoming, c.env.outgoing);
      throw err;
    }
    const f = upload.fields;
    try {
      // a form field, sent as typed (PrusaSlicer's folder, OctoPrint's form): sanitized, not URL-decoded ('%' is a
      // character here, as in OctoPrint; a URL path is what FileStorage.path decodes)
      const folder = sanitizePath(f['path'] ?? '');
      if (!upload.file) {
        if (f['foldername'] === undefined) throw badRequest('No file to upload and no folder to create');
        const path = childPath(folder, sanitizeName(f['foldername']));
        const created = await storage.mkdir(path);
        c.header('Location', resourceUrl(c, path));
        if (created) deps.bus.emit('files.changed', { path, kind: 'folder-added' });
        return c.json({ folder: { name: path.split('/').pop(), path, origin: 'local', refs: { resource: resourceUrl(c, path) } }, done: true }, 201);
      }
      let userdata: unknown;
      if (f['userdata'] !== undefined) {
        try {
          userdata = parseJsonSafe(f['userdata']);
        } catch {
          throw badRequest('userdata is not valid JSON');
        }
        // kept in files.json: it must serialize again (JSON nested 10 000 deep parses, then breaks every save)
        if (jsonDepth(userdata) > 32) throw badRequest('userdata is nested too deeply (at most 32 levels)');
      }
      const { display } = upload.file;
      const path = childPath(folder, upload.file.name);
      if (path === jobs.printingPath) throw new ServiceError(409, `${path} is being printed and cannot be overwritten`);
      if (parseBool(f['noOverwrite']) && (await storage.exists(path))) throw new ServiceError(409, `${path} already exists`);
      if ((await storage.exists(path)) === 'folder') throw new ServiceError(409, `${path} is a folder`);
      await storage.commit(upload.file.tempPath, path, { hash: upload.file.hash, display, ...(userdata === undefined ? {} : { userdata }) });
      deps.analysis.enqueue(path);
      deps.bus.emit('files.changed', { path, kind: 'added' });
      const wantPrint = parseBool(f['print']);
      const wantSelect = wantPrint || parseBool(f['select']);
      let effectiveSelect = false;
      let effectivePrint = false;
      // OctoPrint: select/print are best effort; a busy or offline printer just means "not now" (no 409)
      let queued = false;
      if (wantSelect && !jobs.active && deps.printer.state === 'OPERATIONAL' && deps.queue.data.items.length === 0) {
        await jobs.select(path, false, c.get('user'));
        effectiveSelect = true;
        if (wantPrint) {
          await jobs.start(c.get('user'));
          effectivePrint = true;
        }
      } else if (!wantSelect && !jobs.active && jobs.selected?.path === path) {
        // the selected file was replaced: selected again, so the job shows the new size and date (OctoPrint reselects)
        await jobs.select(path, false, c.get('user'));
      } else if (wantPrint && deps.settings.data.queue.enabled) {
        // busy (or others are waiting): the print goes to the end of the queue instead of being dropped
        await deps.queue.add(path, 1, c.get('user'));
        queued = true;
      }
      deps.bus.emit('files.uploaded', { printerId: deps.unit.id, path, select: wantSelect, print: wantPrint, effectiveSelect, effectivePrint });
      c.header('Location', resourceUrl(c, path));
      return c.json(
        {
          files: { local: { name: path.split('/').pop(), path, origin: 'local', refs: { resource: resourceUrl(c, path), download: downloadUrl(c, path) } } },
          done: true,
          effectiveSelect,
          effectivePrint,
          gantryQueued: queued,
        },
        201,
      );
    } finally {
      if (upload.file) await storage.discardTemp(upload.file.tempPath); // no-op once committed (renamed away)
    }
  });

  app.post('/api/files/local/*', async (c) => {
    const path = rest(c, '/api/files/local/');
    const { command, body } = await readCommand(c, ['select', 'unselect', 'copy', 'move', 'analyse', 'slice'] as const);
    switch (command) {
      case 'select':
        await callOp(deps, c, parseBool(body['print']) ? 'job.print' : 'job.select', { path });
        return c.body(null, 204);
      case 'unselect':
        await callOp(deps, c, 'job.unselect');
        return c.body(null, 204);
      case 'analyse':
        if ((await storage.entry(path)).kind === 'file') deps.analysis.enqueue(path, true); // a failed one is tried again
        return c.body(null, 204);
      case 'slice':
        throw new ServiceError(415, 'Slicing is not supported; upload G-code');
      case 'copy':
      case 'move': {
        const dest = body['destination'];
        if (typeof dest !== 'string') throw badRequest('destination must be a folder path');
        if (command === 'move' && jobs.printingPath !== undefined && (jobs.printingPath === path || jobs.printingPath.startsWith(path + '/'))) {
          throw new ServiceError(409, `${path} is being printed`);
        }
        const to = await storage.copyOrMove(path, FileStorage.path(dest), command === 'move');
        deps.bus.emit('files.changed', { path: to, kind: 'added' });
        c.header('Location', resourceUrl(c, to));
        return c.json({ name: to.split('/').pop(), path: to, origin: 'local', refs: { resource: resourceUrl(c, to) } }, 201);
      }
    }
  });

  app.delete('/api/files/local/*', async (c) => {
    const path = rest(c, '/api/files/local/');
    const printing = jobs.printingPath;
    if (printing !== undefined && (printing === path || printing.startsWith(path + '/'))) throw new ServiceError(409, `${path} is being printed`);
    if (jobs.selected?.path === path && !jobs.active) jobs.unselect();
    await storage.remove(path);
    deps.bus.emit('files.changed', { path, kind: 'removed' });
    return c.body(null, 204);
  });

  app.get('/api/gantry/thumbnails/*', async (c) => {
    const path = rest(c, '/api/gantry/thumbnails/');
    // only for a file that is (still) really in the files folder, not one a symlink has replaced since
    if ((await storage.exists(path)) !== 'file') throw new ServiceError(404, `${path} not found`);
    const thumbs = storage.metaFor(path)?.analysis?.thumbnails ?? [];
    const want = c.req.query('size');
    const pick = thumbs.find((t) => `${t.width}x${t.height}` === want) ?? [...thumbs].sort((a, b) => b.width * b.height - a.width * a.height)[0];
    if (!pick) throw new ServiceError(404, `${path} has no thumbnail`);
    const data = await readFile(join(deps.thumbnailDir, pick.file));
    const type = pick.format === 'jpg' ? 'image/jpeg' : pick.format === 'png' ? 'image/png' : 'image/qoi';
    return c.body(data, 200, { 'Content-Type': type, 'Cache-Control': 'private, max-age=86400' });
  });

  app.get('/downloads/files/local/*', async (c) => {
    const path = rest(c, '/downloads/files/local/');
    return sendFile(c, await storage.real(path), path.split('/').pop()!);
  });

  return app;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** How deep a parsed JSON value nests (iteratively: a deep value must not overflow the stack here either). */
function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d);
    if (max > 32) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
