// A bounded log of a stream that readers follow by count: each keeps how many items it has seen and asks for what
// came since (the terminal's lines, the push socket's temperature samples and messages, one cursor per client).

/** The last `capacity` items of a stream, and how many there ever were: each reader keeps its own count. */
export class RingLog<T> {
  private readonly ring: T[];
  private head = 0;
  private size = 0;
  /** items ever pushed: a reader keeps this and asks `since()` for what came after */
  total = 0;

  constructor(capacity: number) {
    this.ring = new Array<T>(capacity);
  }

  push(item: T): void {
    const cap = this.ring.length;
    this.ring[(this.head + this.size) % cap] = item;
    if (this.size < cap) this.size++;
    else this.head = (this.head + 1) % cap;
    this.total++;
  }

  lines(limit = Infinity): T[] {
    const out: T[] = [];
    const start = Math.max(0, this.size - limit);
    for (let i = start; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  /** The items pushed after `total` was `seen`, newest `limit` at most (older ones may have left the ring). */
  since(seen: number, limit = Infinity): T[] {
    return this.lines(Math.min(limit, Math.max(0, this.total - seen)));
  }
}
