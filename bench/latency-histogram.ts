// ok → next-line latencies as counts in 1 µs bins: a fixed size whatever the number of lines, so a process whose
// memory is measured is not also holding its samples, and two histograms (the floor's, Gantry's) compare bin by bin.
const MAX_US = 50_000;

export class LatencyHistogram {
  readonly counts = new Uint32Array(MAX_US + 1);

  /** one sample in microseconds; anything past 50 ms counts in the last bin */
  add(us: number): void {
    this.counts[Math.min(Math.max(Math.round(us), 0), MAX_US)]!++;
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /** the sample at quantile q (0.99: p99), in µs */
  quantile(q: number): number {
    const rank = Math.ceil(this.total * q);
    let seen = 0;
    for (let us = 0; us <= MAX_US; us++) {
      seen += this.counts[us]!;
      if (seen >= rank && seen > 0) return us;
    }
    return NaN;
  }

  /** the non-empty bins, [µs, count], as JSON carries them from another process */
  toPairs(): [number, number][] {
    const out: [number, number][] = [];
    this.counts.forEach((c, us) => c > 0 && out.push([us, c]));
    return out;
  }

  static fromPairs(pairs: [number, number][]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const [us, c] of pairs) h.counts[us] = c;
    return h;
  }
}
