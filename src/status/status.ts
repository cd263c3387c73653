// Builds a printer's status from its modules (Klipper's get_status) and tells which fields changed since the last
// one a surface sent (Klipper's objects/subscribe): one snapshot per tick, shared by every client.
import type { PrinterBus } from '../events.js';
import type { FileStorage } from '../files/storage.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { PrintQueue } from '../jobs/print-queue.js';
import { type HeaterLayout, octoTemperatures } from '../printer/octoprint-shapes.js';
import type { Printer } from '../printer/printer.js';
import { stateFlags } from '../printer/state.js';
import type { JobStatus, PrinterStatus, StatusField, StatusSource } from './types.js';

export interface StatusDeps {
  printer: Printer;
  jobs: JobRunner;
  storage: FileStorage;
  queue: PrintQueue;
  bus: PrinterBus;
  name: () => string;
  layout: () => HeaterLayout;
  camera: () => boolean;
}

export class PrinterStatusModel implements StatusSource {
  private layer: { layer: number; z: number } | null = null;
  private readonly offs: (() => void)[];

  constructor(private readonly d: StatusDeps) {
    this.offs = [
      d.bus.on('job.started', () => (this.layer = null)),
      d.bus.on('job.layer', (e) => (this.layer = { layer: e.layer, z: e.z })),
      d.bus.on('job.ended', () => (this.layer = null)),
    ];
  }

  stop(): void {
    for (const off of this.offs) off();
  }

  /** The job part alone (the REST job route and MQTT's job topic need no more). */
  job(): Pick<PrinterStatus, 'job' | 'progress'> {
    const { jobs, storage } = this.d;
    const { file, user } = jobs.current();
    const meta = file ? storage.metaFor(file.path) : undefined;
    const times = meta?.printTimes ?? [];
    const estimate = meta?.analysis?.estimatedPrintTime ?? null;
    const job: JobStatus = {
      active: jobs.active,
      file: file ? { name: file.name, path: file.path, display: file.display, origin: file.origin, size: file.size, date: file.date } : null,
      user,
      estimatedPrintTime: estimate,
      averagePrintTime: times.length ? times.reduce((a, b) => a + b, 0) / times.length : null,
      lastPrintTime: times.length ? times[times.length - 1]! : null,
      filament: meta?.analysis?.filament ?? null,
    };
    return { job, progress: jobs.progress(estimate) };
  }

  /** Where the head is in Z as far as Gantry knows (OctoPrint's currentZ): during a job the Z of the lines sent so
   * far, as OctoPrint tracks it from the sent moves; otherwise the printer's last position report. */
  currentZ(): number | null {
    return this.d.jobs.sentZ ?? this.d.printer.position?.z ?? null;
  }

  private currentLayer(): { layer: number; z: number } | null {
    const { jobs } = this.d;
    if (!jobs.active) return null;
    if (this.layer) return this.layer;
    const cp = jobs.checkpoint;
    return cp && cp.path === jobs.printingPath ? { layer: cp.layer, z: cp.z } : null;
  }

  snapshot(): PrinterStatus {
    const { printer, queue } = this.d;
    const engine = printer.protocol;
    return {
      printerId: printer.id,
      name: this.d.name(),
      state: { id: printer.state, text: printer.stateText, error: printer.error, flags: stateFlags(printer.state) },
      temperatures: octoTemperatures(printer, this.d.layout()),
      position: printer.position ?? null,
      ...this.job(),
      layer: this.currentLayer(),
      queue: { items: queue.data.items.length, bedClear: queue.data.bedClear },
      camera: { available: this.d.camera() },
      link: { linesSent: engine?.linesSent ?? 0, resends: engine?.resendCount ?? 0 },
    };
  }
}

/** The top-level fields of `next` that differ from `prev` (all of them when there is no `prev`). */
export function changedFields(prev: PrinterStatus | undefined, next: PrinterStatus): StatusField[] {
  const fields = Object.keys(next) as StatusField[];
  if (!prev) return fields;
  return fields.filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
}
