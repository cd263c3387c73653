// Preloaded into `gantry serve` (node --import) by the multi-printer bench: ok → next-line latency inside the real
// server, measured where the floor loop measures it. The serial transport reads through a tty.ReadStream's `onread`
// and writes with fs.writeSync on the same descriptor (src/transport/serial-fd.ts), so both are wrapped here: the
// time a read arrives on a descriptor, and the first write to that descriptor after it, is one sample.
// SIGUSR2 writes the histogram so far to $BENCH_LATENCY_FILE (JSON pairs, renamed into place) and starts a new one;
// SIGUSR2 with $BENCH_LATENCY_FILE.off present also unwraps: the print timed after it pays nothing for the probe (its
// wrappers cost ~2 µs a line, ~6 % of Gantry's CPU per line, which the floor loops do not pay in their timed runs).
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { LatencyHistogram } from './latency-histogram.js';

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof import('node:fs');
const tty = require('node:tty') as typeof import('node:tty');

type OnRead = { buffer: Buffer; callback(bytes: number, buf: Buffer): boolean | void };
const readAt = new Map<number, number>();
let histogram = new LatencyHistogram();

// without a file to write to, nothing is wrapped (loaded all the same, so RSS compares)
const active = Boolean(process.env['BENCH_LATENCY_FILE']);
/** false once unwrapped: a read callback wrapped at connect time then only tests this */
let probing = active;
const Original = tty.ReadStream;
class ProbedReadStream extends Original {
  constructor(fd: number, options?: ConstructorParameters<typeof Original>[1] & { onread?: OnRead }) {
    const onread = options?.onread;
    if (onread) {
      const inner = onread.callback;
      options = { ...options, onread: { buffer: onread.buffer, callback: (n: number, buf: Buffer) => (probing && readAt.set(fd, performance.now()), inner(n, buf)) } };
    }
    super(fd, options);
  }
}
if (active) (tty as { ReadStream: typeof Original }).ReadStream = ProbedReadStream;

// a fixed arity, no rest array or spread per call: the probe's own cost stays small next to a line's (writeSync takes
// at most five arguments; one left undefined is one not given)
const writeSync = fs.writeSync as (fd: number, a: unknown, b: unknown, c: unknown, d: unknown) => number;
const probedWriteSync = (fd: number, a: unknown, b: unknown, c: unknown, d: unknown) => {
  const at = readAt.get(fd);
  if (at !== undefined) {
    readAt.delete(fd);
    histogram.add((performance.now() - at) * 1000);
  }
  return writeSync(fd, a, b, c, d);
};
if (active) (fs as { writeSync: unknown }).writeSync = probedWriteSync;
// the server's modules import these by name: the named exports follow the patched module objects
syncBuiltinESMExports();

process.on('SIGUSR2', () => {
  const file = process.env['BENCH_LATENCY_FILE'];
  if (!file) return;
  if (existsSync(`${file}.off`) && probing) {
    probing = false;
    readAt.clear();
    (fs as { writeSync: unknown }).writeSync = writeSync;
    syncBuiltinESMExports();
  }
  writeFileSync(`${file}.tmp`, JSON.stringify(histogram.toPairs()));
  renameSync(`${file}.tmp`, file);
  histogram = new LatencyHistogram();
});
