// A failing case as a person can replay it: seed and case number (FUZZ_SEED with FUZZ_CASES or FUZZ_ONLY rebuild
// exactly this request; a request that needs what earlier cases made needs the run up to it), the request
// itself with keys by role, and a curl command line.
import type { FuzzCase } from './cases.js';

const PREVIEW = 1500;

function bodyPreview(body: string | Buffer | undefined): string {
  if (body === undefined) return '(no body)';
  const text = typeof body === 'string' ? body : body.toString('latin1');
  const shown = JSON.stringify(text.length > PREVIEW ? text.slice(0, PREVIEW) : text);
  return `${text.length} bytes${text.length > PREVIEW ? `, first ${PREVIEW}` : ''}: ${shown}`;
}

/** Bash $'…' quoting of the UTF-8 bytes: control characters and non-ASCII included (a NUL ends the string in
 * bash, so such a body needs FUZZ_ONLY). */
function shellQuote(s: string): string {
  let out = '';
  for (const b of Buffer.from(s)) {
    const ch = String.fromCharCode(b);
    out += b === 0x5c || b === 0x27 ? `\\${ch}` : b >= 0x20 && b <= 0x7e ? ch : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `$'${out}'`;
}

export function describeCase(c: FuzzCase): string {
  const lines = [
    `case #${c.index} (seed ${c.seed}; replay the run up to it: FUZZ_SEED=${c.seed} FUZZ_CASES=${c.index + 1} make fuzz; this request alone on a fresh server: FUZZ_SEED=${c.seed} FUZZ_ONLY=${c.index} make fuzz)`,
    `  identity: ${c.identity}; route: ${c.route}; mutations: ${c.notes.join(', ') || 'none'}`,
    `  ${c.method} ${c.target}`,
    ...c.headers.map(([k, v]) => `  ${k}: ${v.length > 300 ? `${v.slice(0, 300)}… (${v.length} chars)` : v}`),
    `  body ${bodyPreview(c.body)}${c.chunked ? ' (chunked)' : ''}`,
  ];
  if (typeof c.body === 'string' && c.body.length <= PREVIEW && !c.parserLevel) {
    const headers = c.headers.map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`).join(' ');
    lines.push(`  curl -sS -X ${c.method} ${headers} --data-binary ${shellQuote(c.body)} --path-as-is ${shellQuote(`http://127.0.0.1:PORT${c.target}`)}`);
  }
  return lines.join('\n');
}
