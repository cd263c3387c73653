// What the virtual printer can be told to be, and which faults it injects.

export interface SimOptions {
  /** Motion, dwell and heating run this many times faster than a real printer. */
  speedFactor: number;
  /** `ok N<line> P<planner free> B<buffer free>` like Marlin's ADVANCED_OK. */
  advancedOk: boolean;
  emergencyParser: boolean;
  hostActions: boolean;
  /**
   * Host prompts (Cap:PROMPT_SUPPORT): M0/M1 and M600 show `//action:prompt_*` dialogs and wait for the answer
   * (M876 S<n>, or M108 where Marlin takes it), as Marlin with HOST_PROMPT_SUPPORT does.
   */
  hostPrompts: boolean;
  extruders: number;
  heatedChamber: boolean;
  /** Marlin BUFSIZE: command buffer slots, reported as `B`. */
  bufsize: number;
  plannerSize: number;
  /** Probabilities per numbered line (0–1). */
  checksumErrorRate: number;
  lineErrorRate: number;
  busyRate: number;
  lostOkRate: number;
  /** Fault at the Nth command received (1-based), or 0 for never. */
  resetAtLine: number;
  fatalAtLine: number;
  disconnectAtLine: number;
  /** After a disconnect fault, plug back in after this many ms (0 = stay unplugged). */
  replugAfter: number;
  seed: number;
  /** Bench mode: answer `ok` to every line and do nothing else. */
  okOnly: boolean;
  /**
   * Before each heater command (M104/M109/M140/M190) runs, send an auto-report with the old targets: what a real
   * board does when its report timer fires while the command still waits in its queue.
   */
  staleReports: boolean;
  /** Append every executed command to this file. */
  recordPath: string | undefined;
  /** The machine volume reported after the caps (`area:{full:…}`), as Marlin's EXTENDED_M115 does; none if unset. */
  volume: { x: number; y: number; z: number } | undefined;
  /** Temperature reports without targets (`T:24.8 B:23.1`), as some boards send them. */
  noTargetReports: boolean;
  /** Repetier-Firmware: its name in M115, targets on their own lines (`TargetExtr0:210`), `ok N` for numbered lines. */
  repetier: boolean;
  /** When idle, say `wait` in bursts of four every second (Marlin's NO_TIMEOUTS, seen in bursts after a stall). */
  waitBursts: boolean;
  /** Answer `ok` before a command's output (M105's temperatures, M114's position), as Repetier does. */
  okBeforeOutput: boolean;
  /** Klipper: its name in M115, no M155; `--klipper-shutdown` starts it shut down, until FIRMWARE_RESTART. */
  klipper: boolean;
  klipperShutdown: boolean;
  /** Probability that an ok is merged into the temperature report before it (` T:…ok N12 P0 B3`), as Marlin's serial does now and then. */
  garbledOkRate: number;
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  speedFactor: 1,
  advancedOk: false,
  emergencyParser: true,
  hostActions: true,
  hostPrompts: true,
  extruders: 1,
  heatedChamber: false,
  bufsize: 4,
  plannerSize: 16,
  checksumErrorRate: 0,
  lineErrorRate: 0,
  busyRate: 0,
  lostOkRate: 0,
  resetAtLine: 0,
  fatalAtLine: 0,
  disconnectAtLine: 0,
  replugAfter: 0,
  seed: 1,
  okOnly: false,
  staleReports: false,
  recordPath: undefined,
  volume: undefined,
  noTargetReports: false,
  repetier: false,
  waitBursts: false,
  okBeforeOutput: false,
  klipper: false,
  klipperShutdown: false,
  garbledOkRate: 0,
};

/** mulberry32: a small seeded PRNG so fault patterns repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
