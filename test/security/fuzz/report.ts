// The run in a few lines (the case mix, what was skipped and why) and every failure signature in full.
import { KNOWN_FINDINGS } from './known-findings.js';
import type { RunReport } from './runner.js';

export function summary(r: RunReport): string {
  const skipped = Object.entries(r.skippedKnown).map(([id, n]) => `${id}: ${n}`).join(', ') || 'none';
  return [
    `fuzz seed ${r.seed}: ${r.sent} requests in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  identities: ${JSON.stringify(r.identities)}`,
    `  statuses: ${JSON.stringify(r.statuses)}`,
    `  not sent for safety: ${r.skippedForSafety}; bodies made safe: ${r.rewrittenForSafety}`,
    `  skipped as known findings: ${skipped}`,
  ].join('\n');
}

export function failures(r: RunReport): string {
  const out: string[] = [];
  for (const f of r.failures) out.push(`${f.count}× ${f.signature}\n${f.examples.join('\n\n')}`);
  for (const p of r.afterRun) out.push(`after the run: ${p}`);
  return out.join('\n\n');
}

export function knownFindingsList(): string {
  return KNOWN_FINDINGS.map((k) => `  ${k.id}: ${k.summary}`).join('\n');
}

export const failed = (r: RunReport): boolean => r.failures.length > 0 || r.afterRun.length > 0;
