// The terminal: the last lines exchanged with the printer, `Send: …` / `Recv: …` like OctoPrint's. Readers that
// send it on (the push socket) ask for what came since they last looked, by count, instead of taking an event per
// line: a print exchanges thousands of lines a second, and the send path must not pay for each one twice.

export class TerminalLog {
  private readonly ring: string[];
  private head = 0;
  private size = 0;
  /** lines ever pushed: a reader keeps this and asks `since()` for what came after */
  total = 0;

  constructor(capacity = 500) {
    this.ring = new Array<string>(capacity).fill('');
  }

  push(line: string): void {
    const cap = this.ring.length;
    this.ring[(this.head + this.size) % cap] = line;
    if (this.size < cap) this.size++;
    else this.head = (this.head + 1) % cap;
    this.total++;
  }

  lines(limit = Infinity): string[] {
    const out: string[] = [];
    const start = Math.max(0, this.size - limit);
    for (let i = start; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  /** The lines pushed after `total` was `seen`, newest `limit` at most (older ones may have left the ring). */
  since(seen: number, limit = Infinity): string[] {
    return this.lines(Math.min(limit, Math.max(0, this.total - seen)));
  }
}
