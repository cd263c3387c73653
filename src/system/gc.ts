// A minor GC on demand, for code that streams many large buffers. Every chunk of a request body is a fresh 64 KB
// buffer outside V8's heap, freed only when a scavenge finds its small JS wrapper dead; V8 scavenges when its 1 MB
// young generation fills with JS objects, not when buffers pile up, so ~300 dead chunks (~20-30 MB) built up
// between scavenges (a plain node:http server piping 100 MB to a file peaks at +38 MB here). A scavenge every few
// MB keeps the pile at a few MB, for ~0.5 ms each.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type: 'minor' | 'major' }) => void;
let gc: Gc | null | undefined;

function findGc(): Gc | null {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Gc; // node --expose-gc (make bench)
  try {
    // V8 installs gc() in contexts created while the flag is on: one small context (~0.5 MB RSS, made on first
    // use), never the main one, and the flag goes off again (as Jest's leak detector does)
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    return typeof fn === 'function' ? (fn as Gc) : null;
  } catch {
    return null; // then buffers wait for V8's own scavenges, as before
  }
}

/** Frees the unreachable young objects now, and with them the buffers they held. */
export function collectYoungGarbage(): void {
  if (gc === undefined) gc = findGc();
  gc?.({ type: 'minor' });
}

/** A full collection: V8 compacts its old generation and gives free pages back, which it otherwise does late on a
 * small heap, after a burst of work (a print, an upload) has left garbage and compiled code behind. Tens of ms on a
 * Pi: run it only when nothing is printing (idle-gc.ts). */
export function collectAllGarbage(): boolean {
  if (gc === undefined) gc = findGc();
  gc?.();
  return gc !== null;
}
