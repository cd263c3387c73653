// The HTTP fuzzer in the suite: a few thousand hostile requests with a fixed seed against a whole Gantry
// (no printer), every identity, every route. `make fuzz` runs the long version (test/security/fuzz-run.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './fuzz/runner.js';
import { failed, failures, summary } from './fuzz/report.js';

const SEED = 20_251_111;
const CASES = 3000;

test(`fuzz: ${CASES} hostile requests (seed ${SEED}) never get a 5xx, always a JSON error, change nothing they may not`, async () => {
  const report = await runFuzz({ seed: SEED, cases: CASES });
  console.log(summary(report));
  assert.ok(!failed(report), `${summary(report)}\n\n${failures(report)}`);
});
