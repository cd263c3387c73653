// The terminal: the last lines exchanged with the printer, `Send: …` / `Recv: …` like OctoPrint's.

export class TerminalLog {
  private readonly ring: string[];
  private head = 0;
  private size = 0;

  constructor(capacity = 500) {
    this.ring = new Array<string>(capacity).fill('');
  }

  push(line: string): void {
    const cap = this.ring.length;
    this.ring[(this.head + this.size) % cap] = line;
    if (this.size < cap) this.size++;
    else this.head = (this.head + 1) % cap;
  }

  lines(limit = Infinity): string[] {
    const out: string[] = [];
    const start = Math.max(0, this.size - limit);
    for (let i = start; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }
}
