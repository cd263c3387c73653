// The Telnet layer of RFC 2217: strip negotiation from the byte stream, answer it, and ask the server for
// the COM port option with our baud rate.

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const BINARY = 0;
const SGA = 3;
const COM_PORT_OPTION = 44;
const SET_BAUDRATE = 1;

export function rfc2217Hello(baudRate: number): Buffer {
  const baud = Buffer.alloc(4);
  baud.writeUInt32BE(baudRate >>> 0);
  return Buffer.from([
    IAC, WILL, COM_PORT_OPTION,
    IAC, WILL, BINARY, IAC, DO, BINARY,
    IAC, DO, SGA,
    IAC, SB, COM_PORT_OPTION, SET_BAUDRATE, ...escapeIac(baud), IAC, SE,
  ]);
}

function escapeIac(buf: Buffer): number[] {
  const out: number[] = [];
  for (const b of buf) {
    out.push(b);
    if (b === IAC) out.push(IAC);
  }
  return out;
}

type State = 'data' | 'iac' | 'option' | 'sb' | 'sb-iac';

export class TelnetFilter {
  private state: State = 'data';
  private verb = 0;
  private readonly accepted = new Set([BINARY, SGA, COM_PORT_OPTION]);

  constructor(private readonly reply: (bytes: Buffer) => void) {}

  filter(chunk: Buffer): Buffer {
    if (this.state === 'data' && !chunk.includes(IAC)) return chunk;
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else out[n++] = b;
          break;
        case 'iac':
          if (b === IAC) {
            out[n++] = IAC;
            this.state = 'data';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = 'option';
          } else if (b === SB) this.state = 'sb';
          else this.state = 'data';
          break;
        case 'option':
          this.answer(this.verb, b);
          this.state = 'data';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    return out.subarray(0, n);
  }

  private answer(verb: number, option: number): void {
    if (this.accepted.has(option)) return; // we asked for these ourselves
    if (verb === DO) this.reply(Buffer.from([IAC, WONT, option]));
    else if (verb === WILL) this.reply(Buffer.from([IAC, DONT, option]));
  }
}
