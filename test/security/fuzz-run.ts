// `make fuzz`: the long run. FUZZ_SEED (default: from the clock, printed first), FUZZ_CASES (default 100000),
// FUZZ_ONLY (one case, to replay a failure), FUZZ_SEND_KNOWN=1 (send the known findings' cases too: to see
// whether a fix has landed). Exits 1 when anything failed.
import { runFuzz } from './fuzz/runner.js';
import { failed, failures, knownFindingsList, summary } from './fuzz/report.js';

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

const seed = envInt('FUZZ_SEED') ?? Date.now() % 2 ** 32;
const cases = envInt('FUZZ_CASES') ?? 100_000;
const only = envInt('FUZZ_ONLY');
const sendKnown = process.env['FUZZ_SEND_KNOWN'] === '1';
console.log(`fuzz: seed ${seed}, ${only !== undefined ? `case ${only} only` : `${cases} cases`} (replay: FUZZ_SEED=${seed} FUZZ_CASES=${cases} make fuzz)`);
const known = knownFindingsList();
if (known) console.log(`${sendKnown ? 'sending' : 'skipping'} the cases of known findings:\n${known}`);
const report = await runFuzz({ seed, cases, sendKnown, ...(only !== undefined ? { only } : {}), onProgress: (l) => console.log(l), progressEvery: 5000, onFailure: (f) => console.log(`\nNEW FAILURE (seed ${seed}): ${f}\n`) });
console.log(summary(report));
if (failed(report)) {
  console.log(`\nFAILURES (seed ${seed}):\n\n${failures(report)}`);
  process.exitCode = 1;
}
