// OctoPrint's timelapse API: the list (and unrendered recordings), the config, delete, render, and downloads.
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono/tiny';
import type { Context } from 'hono';
import type { TimelapseSettings } from '../../config/settings.js';
import { ServiceError } from '../../service-error.js';
import { type TimelapseService, timelapseConfigView } from '../../timelapse/timelapse.js';
import type { ApiDeps, ApiEnv } from '../context.js';
import { absoluteUrl, badRequest, numberIn, parseBool, readCommand, readJsonObject } from '../http.js';
import { sendFile } from '../send-file.js';

type Env = ApiEnv & { Bindings: HttpBindings };

/** OctoPrint's human size: 1 decimal, 1024 steps */
export function formatSize(bytes: number): string {
  let n = bytes;
  for (const unit of ['B', 'KB', 'MB', 'GB']) {
    if (Math.abs(n) < 1024) return `${n.toFixed(1)}${unit}`;
    n /= 1024;
  }
  return `${n.toFixed(1)}TB`;
}

/** OctoPrint's date: local "YYYY-MM-DD HH:MM" */
function formatDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function timelapseRoutes(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const service = (): TimelapseService => {
    const t = deps.timelapse();
    if (!t) throw new ServiceError(404, 'Timelapse is not available');
    return t;
  };
  const enc = encodeURIComponent;

  const list = async (c: Context<Env>) => {
    const t = service();
    const files = (await t.videos()).map((v) => ({
      name: v.name,
      display: v.name,
      size: formatSize(v.bytes),
      bytes: v.bytes,
      date: formatDate(v.date),
      timestamp: Math.floor(v.date / 1000),
      url: absoluteUrl(c, `/downloads/timelapse/${enc(v.name)}`),
      thumbnail: v.thumbnail ? absoluteUrl(c, `/downloads/timelapse/${enc(v.thumbnail)}`) : null,
    }));
    const body: Record<string, unknown> = { config: timelapseConfigView(deps.settings.data.timelapse), enabled: t.enabled, files };
    if (parseBool(c.req.query('unrendered'))) {
      body['unrendered'] = (await t.unrendered()).map((u) => ({
        name: u.name,
        size: formatSize(u.bytes),
        bytes: u.bytes,
        date: formatDate(u.date),
        timestamp: Math.floor(u.date / 1000),
        frames: u.frames,
        recording: u.recording,
        rendering: u.rendering,
        processing: u.processing,
        progress: u.progress,
      }));
    }
    return c.json(body);
  };

  app.get('/api/timelapse', list);

  app.post('/api/timelapse', async (c) => {
    const b = await readJsonObject(c);
    const errors: string[] = [];
    const apply: ((s: TimelapseSettings) => void)[] = [];
    const num = (key: 'interval' | 'minDelay' | 'fps' | 'postRoll' | 'targetSeconds' | 'threads' | 'budgetMB', min: number, max: number) => {
      if (b[key] === undefined) return;
      const v = numberIn(b[key], min, max);
      if (v === undefined) errors.push(`${key} must be a number from ${min} to ${max}`);
      else apply.push((s) => (s[key] = v));
    };
    const oneOf = <K extends 'type' | 'renderAfterPrint' | 'preset'>(key: K, values: readonly TimelapseSettings[K][]) => {
      if (b[key] === undefined) return;
      const v = b[key] as TimelapseSettings[K];
      if (!values.includes(v)) errors.push(`${key} must be one of ${values.join(', ')}`);
      else apply.push((s) => (s[key] = v));
    };
    oneOf('type', ['off', 'zchange', 'timed']);
    oneOf('renderAfterPrint', ['always', 'success', 'failure', 'off']);
    oneOf('preset', ['auto', 'ultrafast', 'superfast', 'veryfast']);
    num('interval', 1, 86_400);
    num('minDelay', 0, 3_600);
    num('fps', 0, 120);
    num('postRoll', 0, 60);
    num('targetSeconds', 1, 600);
    num('threads', 1, 8);
    num('budgetMB', 10, 1_000_000);
    for (const k of ['park', 'hardwareEncoder'] as const) if (b[k] !== undefined) apply.push((s) => (s[k] = parseBool(b[k])));
    if (errors.length) throw badRequest(errors.join('; '));
    // OctoPrint's `save` chooses between this session and the saved default; Gantry keeps one config and saves it
    if (apply.length) {
      await deps.settings.update((s) => apply.forEach((f) => f(s.timelapse)));
      deps.bus.emit('settings.updated', {});
    }
    return list(c);
  });

  app.post('/api/timelapse/unrendered/:name', async (c) => {
    await readCommand(c, ['render']);
    await service().render(c.req.param('name'));
    return c.body(null, 204);
  });

  app.delete('/api/timelapse/unrendered/:name', async (c) => {
    await service().deleteUnrendered(c.req.param('name'));
    return list(c);
  });

  app.delete('/api/timelapse/:name', async (c) => {
    await service().deleteVideo(c.req.param('name'));
    return list(c);
  });

  app.get('/downloads/timelapse/:name', (c) => {
    const name = c.req.param('name');
    const type = name.endsWith('.mp4') ? 'video/mp4' : name.endsWith('.jpg') ? 'image/jpeg' : undefined;
    if (!type) throw new ServiceError(404, `No timelapse named ${name}`);
    return sendFile(c, service().videoPath(name), name, type);
  });
  return app;
}
