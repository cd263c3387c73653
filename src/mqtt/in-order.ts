// MQTT commands applied in the order they arrived. An operation may await I/O before it acts (a queue add stats its
// file first), so two commands published back to back and run side by side could act the other way round.

/** Runs async work one piece at a time, in the order it was handed over. */
export class InOrder {
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `work` once everything handed over before it has settled; a failure settles like a success. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.last.then(work);
    this.last = run.catch(() => undefined);
    return run;
  }
}
