// The terminal: the last lines exchanged with the printer, `Send: …` / `Recv: …` like OctoPrint's. Readers that
// send it on (the push socket) ask for what came since they last looked, by count, instead of taking an event per
// line: a print exchanges thousands of lines a second, and the send path must not pay for each one twice.
import { RingLog } from './ring-log.js';

export class TerminalLog extends RingLog<string> {
  constructor(capacity = 500) {
    super(capacity);
  }
}
