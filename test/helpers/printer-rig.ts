// A printer model connected over a real PTY, with the real serialport binding, to an in-process virtual printer.
import { join } from 'node:path';
import { EventBus } from '../../src/events.js';
import { createLogger } from '../../src/log.js';
import { type PrinterConfig, Printer } from '../../src/printer/printer.js';
import type { SimOptions } from '../../src/sim/options.js';
import { type RunningSim, startVirtualPrinter } from '../../src/sim/run.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export interface Rig {
  dir: string;
  link: string;
  sim: RunningSim;
  printer: Printer;
  bus: EventBus;
  logs: string[];
  /** Connects at 250000 baud and waits until the firmware has identified itself. */
  connected(): Promise<void>;
  close(): Promise<void>;
}

export async function printerRig(sim: Partial<SimOptions> = {}, printer: Partial<PrinterConfig> = {}, linkName = 'ttyUSB0'): Promise<Rig> {
  const { dir, cleanup } = await tempDir();
  const link = join(dir, linkName);
  const running = await startVirtualPrinter(link, { speedFactor: 200, ...sim });
  running.printer.keepExecuted = true;
  const bus = new EventBus();
  const logs: string[] = [];
  const log = createLogger('debug', 'test', (l) => logs.push(l));
  const p = new Printer({ portGlobs: [join(dir, 'ttyUSB*'), join(dir, 'ttyACM*')], ...printer }, { bus: bus.scope('printer'), log });
  return {
    dir,
    link,
    sim: running,
    printer: p,
    bus,
    logs,
    async connected() {
      await p.connect(link, 250000);
      await waitFor('firmware identified', () => p.firmware);
    },
    async close() {
      await p.close();
      await running.stop();
      await cleanup();
    },
  };
}

/** The commands the virtual printer executed, minus the host's own housekeeping. */
export function executedJobLines(executed: string[]): string[] {
  return executed.filter((c) => !/^M(105|110|115|155)\b/.test(c));
}
