// Asks a serial device who it is: the printer model's own connection (its handshake at each autodetect baud rate,
// then M115), on a throwaway Printer with a bus of its own, closed again at once. Nothing here is a second copy of
// the protocol.
import { EventBus } from '../events.js';
import type { FirmwareInfo } from '../printer/firmware.js';
import { Printer } from '../printer/printer.js';
import type { Logger } from '../log.js';

export interface ProbeResult {
  firmware: FirmwareInfo | undefined;
  /** the baud rate it answered at */
  baudrate: number | null;
  /** why it did not answer */
  error: string | null;
}

/** how long M115's answer may take after the handshake */
const FIRMWARE_WAIT_MS = 3_000;

export async function probePort(port: string, log: Logger, detectTimeout = 2_500): Promise<ProbeResult> {
  const bus = new EventBus();
  const printer = new Printer({ portGlobs: [], autoReconnect: false, virtualFallback: false, detectTimeout }, { bus: bus.scope('probe'), log });
  try {
    await printer.connect(port, 0);
    const baudrate = printer.baudrate;
    await new Promise<void>((resolve) => {
      if (printer.firmware) return resolve();
      const timer = setTimeout(done, FIRMWARE_WAIT_MS);
      const off = bus.on('printer.firmware', done);
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    return { firmware: printer.firmware, baudrate, error: null };
  } catch (err) {
    return { firmware: undefined, baudrate: null, error: (err as Error).message };
  } finally {
    await printer.close().catch(() => undefined);
  }
}
