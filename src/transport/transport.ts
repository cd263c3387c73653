// Transports move bytes and nothing else. The printer model owns one at a time.

export interface TransportHandlers {
  /** One received line, without the line ending. */
  line(line: string): void;
  /** The link closed. `error` is set when it was not our own close() (unplugged, network drop). */
  closed(error: Error | undefined): void;
}

export interface Transport {
  /** What the user sees: a device path or a URL. */
  readonly description: string;
  write(data: string): void;
  /** Optional, for a transport whose writes take bytes cheaply (serial-fd.ts): `bytes[0, length)`, which the caller
   * may reuse once this returns. */
  writeBytes?(bytes: Uint8Array, length: number): void;
  close(): Promise<void>;
}

export class TransportError extends Error {
  constructor(message: string, readonly code: string | undefined = undefined) {
    super(message);
  }
}

/** `on.closed`, called at most once however many ways the link reports its end (error, end, close). */
export function closedOnce(on: TransportHandlers): (error: Error | undefined) => void {
  let reported = false;
  return (error) => {
    if (reported) return;
    reported = true;
    on.closed(error);
  };
}

export const disconnected = (path: string) => new TransportError(`${path} disconnected (cable unplugged or printer powered off)`, 'DISCONNECTED');
