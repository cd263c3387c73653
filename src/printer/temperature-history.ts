// Temperature samples kept for 30 minutes in a fixed ring (no growth, no per-sample arrays beyond the sample).

export interface HeaterState {
  actual: number;
  target: number | null;
}

export interface TemperatureSample {
  /** unix seconds */
  time: number;
  tools: HeaterState[];
  bed?: HeaterState;
  chamber?: HeaterState;
}

export class TemperatureHistory {
  private readonly ring: (TemperatureSample | undefined)[];
  private head = 0;
  private size = 0;

  /** At most `capacity` samples, none older than `maxAgeSeconds`. */
  constructor(private readonly maxAgeSeconds = 30 * 60, capacity = 3600) {
    this.ring = new Array<TemperatureSample | undefined>(capacity);
  }

  add(sample: TemperatureSample): void {
    const cap = this.ring.length;
    this.ring[(this.head + this.size) % cap] = sample;
    if (this.size < cap) this.size++;
    else this.head = (this.head + 1) % cap;
  }

  /** Oldest first; `limit` keeps the newest n. */
  samples(now: number, limit = Infinity): TemperatureSample[] {
    const out: TemperatureSample[] = [];
    const cutoff = now - this.maxAgeSeconds;
    const cap = this.ring.length;
    for (let i = 0; i < this.size; i++) {
      const s = this.ring[(this.head + i) % cap]!;
      if (s.time >= cutoff) out.push(s);
    }
    return limit < out.length ? out.slice(out.length - limit) : out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}
