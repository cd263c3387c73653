// Failures grouped by signature (route + problem + first log error, digits blurred), the first few examples of
// each kept in full: a long run that hits one bug ten thousand times reports it once.
import type { FuzzCase } from './cases.js';
import { describeCase } from './describe.js';
import type { RawResponse } from './send.js';

export interface Failure {
  signature: string;
  count: number;
  examples: string[];
}

const EXAMPLES_PER_SIGNATURE = 3;

export function responsePreview(res: RawResponse | undefined): string {
  if (!res) return '(no answer)';
  const body = res.body.toString('utf8');
  return `${res.status} ${String(res.headers['content-type'] ?? '')} ${JSON.stringify(body.length > 600 ? body.slice(0, 600) + '…' : body)}`;
}

export class FailureLog {
  private readonly bySignature = new Map<string, Failure>();
  count = 0;

  /** `onNew` hears the first example of each new signature as it is found (a long run shows them early). */
  constructor(private readonly onNew?: (text: string) => void) {}

  record(c: FuzzCase | undefined, problems: string[], res: RawResponse | undefined, logs: string[]): void {
    const firstError = logs.find((l) => /error|failed|exception/i.test(l))?.replace(/^\S+\s+/, '').split('\n')[0]?.slice(0, 200) ?? '';
    const signature = `${c?.route ?? '(between cases)'} | ${problems.map((p) => p.replace(/\d+/g, 'N')).join('; ')}${firstError ? ` | ${firstError.replace(/\d+/g, 'N')}` : ''}`;
    const f = this.bySignature.get(signature) ?? { signature, count: 0, examples: [] };
    f.count++;
    this.count++;
    if (f.examples.length < EXAMPLES_PER_SIGNATURE) {
      f.examples.push([c ? describeCase(c) : '(no case running)', `  problems: ${problems.join('; ')}`, `  response: ${responsePreview(res)}`, ...logs.slice(0, 30).map((l) => `  log: ${l.slice(0, 3000)}`)].join('\n'));
    }
    if (f.count === 1) this.onNew?.(`${signature}\n${f.examples[0]}`);
    this.bySignature.set(signature, f);
  }

  list(): Failure[] {
    return [...this.bySignature.values()].sort((a, b) => b.count - a.count);
  }
}
