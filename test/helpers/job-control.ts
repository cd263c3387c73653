// What the job-control tests share: job commands over HTTP, the job's state string, and a push client signed in
// with the rig's key (to see every state the job passed through, not only the one a poll happens to catch).
import assert from 'node:assert/strict';
import type { GantryRig } from './gantry-rig.js';
import { PushClient } from './push-client.js';
import { waitFor } from './wait.js';

export const jobCommand = (rig: GantryRig, json: Record<string, unknown>) => rig.api('/api/job', { method: 'POST', json });

export async function jobState(rig: GantryRig): Promise<string> {
  return ((await (await rig.api('/api/job')).json()) as { state: string }).state;
}

export async function waitJobState(rig: GantryRig, state: string, timeoutMs = 20_000): Promise<void> {
  let last = '';
  await waitFor(`job state ${state}`, async () => (last = await jobState(rig)) === state, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message} (it is ${last})`);
  });
}

/** A terminal command, as the page's terminal sends it. */
export async function terminal(rig: GantryRig, command: string): Promise<void> {
  assert.equal((await rig.api('/api/printer/command', { method: 'POST', json: { command } })).status, 204, command);
}

export async function signedInPush(rig: GantryRig): Promise<PushClient> {
  const login = (await (await rig.api('/api/login', { method: 'POST', json: { passive: true } })).json()) as { name: string; session: string };
  const c = new PushClient(rig.gantry.url);
  await c.opened();
  c.send({ auth: `${login.name}:${login.session}` });
  await waitFor('push history', () => c.of('history').length === 1);
  return c;
}

/** The printer states the push socket announced (PrinterStateChanged state_id), in order. */
export function pushedStates(c: PushClient): string[] {
  return c
    .of('event')
    .map((m) => m.msg['event'] as { type: string; payload: { state_id?: string } })
    .filter((e) => e.type === 'PrinterStateChanged')
    .map((e) => e.payload.state_id ?? '');
}

/** The `current` state strings the push socket sent, without repeats. */
export function pushedCurrentStates(c: PushClient): string[] {
  const out: string[] = [];
  for (const m of c.of('current')) {
    const text = (m.msg['current']!['state'] as { text: string }).text;
    if (out.at(-1) !== text) out.push(text);
  }
  return out;
}

/** The commands executed after the first `marker` (the marker itself excluded). */
export function after(executed: string[], marker: string, from = 0): string[] {
  const i = executed.indexOf(marker, from);
  assert.ok(i >= 0, `${marker} was executed: ${executed.slice(-10).join(' | ')}`);
  return executed.slice(i + 1);
}
