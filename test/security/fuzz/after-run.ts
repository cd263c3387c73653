// After the run: the process is alive and whole.
import type { FuzzServer } from './fixtures.js';
import { responsePreview } from './failure-log.js';
import type { Sender } from './send.js';

/** The process is alive and whole: health answers, the printer model is as it was, the fixture keys still work,
 * and no restart was asked for. */
export async function afterRunProblems(server: FuzzServer, sender: Sender, before: Record<string, string>): Promise<string[]> {
  const problems: string[] = [];
  try {
    const health = await sender.send({ method: 'GET', target: '/api/gantry/health', headers: [], body: undefined, chunked: false });
    const h = JSON.parse(health.body.toString('utf8')) as { status?: string; printer?: { state?: string } };
    if (health.status !== 200 || h.status !== 'ok') problems.push(`health after the run: ${responsePreview(health)}`);
    const printerNow = JSON.stringify({ state: server.rig.gantry.printer.stateText, error: server.rig.gantry.printer.error, port: server.rig.gantry.printer.port });
    if (printerNow !== before['printer']) problems.push(`printer model changed: ${before['printer']} → ${printerNow}`);
    if (h.printer?.state !== server.rig.gantry.printer.stateText) problems.push(`health reports ${h.printer?.state}, the model ${server.rig.gantry.printer.stateText}`);
  } catch (err) {
    problems.push(`health after the run: ${(err as Error).message}`);
  }
  for (const who of ['readonly', 'user', 'admin'] as const) {
    const res = await sender.send({ method: 'GET', target: '/api/currentuser', headers: [['X-Api-Key', server.keys[who]]], body: undefined, chunked: false }).catch(() => undefined);
    const name = res ? ((JSON.parse(res.body.toString('utf8')) as { name?: unknown }).name ?? null) : null;
    if (name === null) problems.push(`the ${who} fixture key no longer works`);
  }
  if (server.restarts() !== 0) problems.push(`restart was called ${server.restarts()} times`);
  return problems;
}
