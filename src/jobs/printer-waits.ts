// The waits a job step makes on the printer: for the line in flight when the file stopped (cutting a heat-up or
// an M0 short with M108 where that is wanted), and for the head's position once every move has finished.
import type { PrinterBus } from '../events.js';
import type { Position } from '../printer/parse.js';
import type { Printer } from '../printer/printer.js';

/** The longest a step waits for the printer's current command: a heat-up without an emergency parser, or heating back up. */
export const LONG_WAIT_MS = 60 * 60_000;
/** M108 again while the wait it should end still runs: one that arrives before the firmware began the wait is lost. */
const M108_REPEAT_MS = 2_000;
const POLL_MS = 50;

export interface SettleOptions {
  /** a pause need not wait while the firmware waits for the user (a prompt is open): that is a hold */
  heldByPrompt: boolean;
  /** send M108 again while this is true (and the firmware has an emergency parser) */
  repeatM108: () => boolean;
  /** another step took over: stop waiting */
  replaced: () => boolean;
  /** an M108 went out (a pause notes the heat-up it ended, to run it again on resume) */
  onM108?: () => void;
}

/** Waits until the printer has acknowledged everything sent. Throws after LONG_WAIT_MS. */
export async function settle(printer: Printer, o: SettleOptions): Promise<'idle' | 'held' | 'replaced'> {
  const deadline = Date.now() + LONG_WAIT_MS;
  let lastM108 = Date.now();
  for (;;) {
    if (o.replaced()) return 'replaced';
    if (printer.idle) return 'idle';
    if (o.heldByPrompt && printer.prompt) return 'held';
    if (printer.emergencyParser && o.repeatM108() && Date.now() - lastM108 >= M108_REPEAT_MS) {
      lastM108 = Date.now();
      o.onM108?.();
      printer.commands(['M108']);
    }
    if (Date.now() > deadline) throw new Error('The printer did not finish its current command in time');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Where the head is once every move has finished (M400 then M114); undefined if the firmware does not say. */
export function queryPosition(printer: Printer, bus: PrinterBus): Promise<Position | undefined> {
  const position = new Promise<Position | undefined>((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(undefined);
    }, 10_000);
    const off = bus.on('printer.position', (p) => {
      clearTimeout(timer);
      off();
      resolve(p.position);
    });
  });
  printer.commands(['M400', 'M114']);
  return position;
}
