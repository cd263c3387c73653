// Runs fuzz cases one after another against one server and checks each answer and, for identities that may
// not change anything, the state around it; then that the server came through whole.
import { type FuzzCase, type KeyedIdentity, generateCase } from './cases.js';
import { checkResponse } from './checks.js';
import { afterRunProblems } from './after-run.js';
import { type Failure, FailureLog } from './failure-log.js';
import { type FuzzServer, startFuzzServer } from './fixtures.js';
import { KNOWN_FINDINGS } from './known-findings.js';
import { safetyCheck } from './safety.js';
import { type RawRequest, type RawResponse, Sender } from './send.js';
import { changedParts, snapshot } from './state.js';

export interface RunOptions {
  seed: number;
  /** cases 0 … cases-1 */
  cases: number;
  /** run only this case (on a fresh server) */
  only?: number;
  /** send the cases of known findings too (to see whether a fix has landed) */
  sendKnown?: boolean;
  onProgress?(line: string): void;
  /** called with the first example of each new failure signature, as it is found (a long run shows them early) */
  onFailure?(text: string): void;
  progressEvery?: number;
}

export interface RunReport {
  seed: number;
  sent: number;
  skippedKnown: Record<string, number>;
  skippedForSafety: number;
  rewrittenForSafety: number;
  statuses: Record<string, number>;
  identities: Record<string, number>;
  failures: Failure[];
  /** problems found after the run: health, printer model, fixture keys, restarts */
  afterRun: string[];
  elapsedMs: number;
}

const RESTRICTED = new Set(['none', 'wrong', 'readonly']);

function materialize(c: FuzzCase, keys: Record<KeyedIdentity, string>): RawRequest {
  const fill = (s: string) =>
    s.replace(/~(KEY|NEAR)~(readonly|user|admin)~/g, (_m, kind: string, who: KeyedIdentity) => {
      const k = keys[who];
      return kind === 'KEY' ? k : k.slice(0, -1) + (k.endsWith('A') ? 'B' : 'A');
    });
  return {
    method: c.method,
    target: fill(c.target),
    headers: c.headers.map(([k, v]) => [k, fill(v)]),
    body: c.body === undefined ? undefined : typeof c.body === 'string' ? Buffer.from(fill(c.body)) : c.body,
    chunked: c.chunked,
  };
}

/** Own properties Object.prototype has before the run: a `__proto__` payload that lands adds to them. */
const prototypeShape = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

export async function runFuzz(opts: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const server: FuzzServer = await startFuzzServer();
  const { rig, keys } = server;
  const sender = new Sender(rig.gantry.port);
  const report: RunReport = { seed: opts.seed, sent: 0, skippedKnown: {}, skippedForSafety: 0, rewrittenForSafety: 0, statuses: {}, identities: {}, failures: [], afterRun: [], elapsedMs: 0 };
  const failures = new FailureLog(opts.onFailure);
  let current: FuzzCase | undefined;
  // the server runs in this process: an uncaught error from any request would kill a real Gantry
  const onCrash = (err: unknown) => failures.record(current, [`uncaught: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`], undefined, rig.logs.splice(0));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // @hono/node-server reports a response it could not write with console.error: that is part of the case's log
  const consoleError = console.error;
  console.error = (...args: unknown[]) => rig.logs.push(`console.error: ${args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' ')}`);
  const protoBefore = prototypeShape();
  const stateBefore = await snapshot(rig);
  try {
    const indexes = opts.only !== undefined ? [opts.only] : Array.from({ length: opts.cases }, (_, i) => i);
    for (const [n, i] of indexes.entries()) {
      if (opts.onProgress && opts.progressEvery && n > 0 && n % opts.progressEvery === 0) {
        opts.onProgress(`${n}/${indexes.length} cases, ${failures.count} failures, ${Math.round(((Date.now() - started) / n) * 10) / 10} ms/case`);
      }
      let c: FuzzCase;
      try {
        c = generateCase(opts.seed, i);
      } catch (err) {
        // the fuzzer's own bug: reported like any failure, and the run goes on
        failures.record(undefined, [`generating case #${i} failed: ${(err as Error).stack ?? String(err)}`], undefined, []);
        continue;
      }
      const known = opts.sendKnown ? undefined : KNOWN_FINDINGS.find((k) => k.matches(c));
      if (known) {
        report.skippedKnown[known.id] = (report.skippedKnown[known.id] ?? 0) + 1;
        continue;
      }
      const verdict = safetyCheck(c);
      if (!verdict.send) {
        report.skippedForSafety++;
        continue;
      }
      if (verdict.rewritten) report.rewrittenForSafety++;
      current = c;
      const restricted = RESTRICTED.has(c.identity);
      const before = restricted ? await snapshot(rig) : undefined;
      const problems: string[] = [];
      let res: RawResponse | undefined;
      try {
        res = await sender.send(materialize(c, keys));
        report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
        problems.push(...checkResponse(c, res, rig.gantry.settings.data.camera.lanOpen));
      } catch (err) {
        problems.push(`no answer: ${(err as Error).message}`);
      }
      report.sent++;
      report.identities[c.identity] = (report.identities[c.identity] ?? 0) + 1;
      if (before) {
        const changed = changedParts(before, await snapshot(rig));
        if (changed.length) problems.push(`a ${c.identity} request changed: ${changed.join(', ')}`);
      }
      if (prototypeShape() !== protoBefore) problems.push(`Object.prototype changed: ${prototypeShape()}`);
      const logs = rig.logs.splice(0);
      if (problems.length) failures.record(c, problems, res, logs);
      current = undefined;
    }
    report.afterRun.push(...(await afterRunProblems(server, sender, stateBefore)));
  } finally {
    console.error = consoleError;
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    sender.close();
    await server.close();
  }
  report.failures = failures.list();
  report.elapsedMs = Date.now() - started;
  return report;
}
