// Print time from a kinematic model of the firmware's planner (Marlin's, as PrusaSlicer models it): each move
// is a trapezoid (accelerate, cruise, decelerate) limited by per-axis feed rates and accelerations; junction
// speeds come from classic jerk; a lookahead window runs the planner's reverse and forward passes. Blocks live
// in typed arrays, so a multi-megabyte file costs no garbage.

export interface MachineLimits {
  /** mm/s per axis X, Y, Z, E (M203) */
  maxFeedrate: [number, number, number, number];
  /** mm/s² per axis X, Y, Z, E (M201) */
  maxAcceleration: [number, number, number, number];
  /** mm/s²: printing moves (M204 P / S), travel (M204 T / S), retract (M204 R) */
  acceleration: number;
  travelAcceleration: number;
  retractAcceleration: number;
  /** mm/s per axis X, Y, Z, E (M205 X Y Z E) */
  jerk: [number, number, number, number];
  /** mm/s (M205 S, T) */
  minFeedrate: number;
  minTravelFeedrate: number;
}

/** Marlin's defaults for a typical bed-slinger (Creality Ender 3 configuration). */
export function defaultLimits(): MachineLimits {
  return {
    maxFeedrate: [500, 500, 5, 25],
    maxAcceleration: [500, 500, 100, 5000],
    acceleration: 500,
    travelAcceleration: 500,
    retractAcceleration: 500,
    jerk: [10, 10, 0.3, 5],
    minFeedrate: 0,
    minTravelFeedrate: 0,
  };
}

const QUEUE = 64; // blocks kept for lookahead
const REFRESH = QUEUE * 4; // process when this many are queued
const CAP = REFRESH + 8;

export class TimeEstimator {
  limits: MachineLimits;
  /** M220 feed rate factor */
  speedFactor = 1;
  private time = 0;
  private n = 0;
  private readonly distance = new Float64Array(CAP);
  private readonly accel = new Float64Array(CAP);
  private readonly cruise = new Float64Array(CAP);
  private readonly entry = new Float64Array(CAP);
  private readonly exit = new Float64Array(CAP);
  private readonly maxEntry = new Float64Array(CAP);
  private readonly safe = new Float64Array(CAP);
  private readonly nominalLength = new Uint8Array(CAP);
  // the previous block's cruise speed, safe speed, and signed per-axis speeds
  private prevCruise = 0;
  private prevSafe = 0;
  private readonly prevAxis = new Float64Array(4);
  private readonly curAxis = new Float64Array(4);
  private readonly delta = new Float64Array(4);

  constructor(limits: MachineLimits = defaultLimits()) {
    this.limits = limits;
  }

  /** A move by (dx, dy, dz, de) mm at `feedrate` mm/s. */
  move(dx: number, dy: number, dz: number, de: number, feedrate: number): void {
    const L = this.limits;
    const d = this.delta;
    d[0] = dx;
    d[1] = dy;
    d[2] = dz;
    d[3] = de;
    const xyz = Math.sqrt(dx * dx + dy * dy + dz * dz);
    const extrudeOnly = xyz === 0;
    const distance = extrudeOnly ? Math.abs(de) : xyz;
    if (distance < 1e-6) return;
    const travel = de === 0;
    let f = feedrate * this.speedFactor;
    f = Math.max(f, travel ? L.minTravelFeedrate : L.minFeedrate);
    const inv = 1 / distance;
    let factor = 1;
    for (let a = 0; a < 4; a++) {
      const v = Math.abs(d[a]!) * inv * f;
      if (v > L.maxFeedrate[a]!) factor = Math.min(factor, L.maxFeedrate[a]! / v);
    }
    const cruise = f * factor;
    for (let a = 0; a < 4; a++) this.curAxis[a] = d[a]! * inv * cruise;

    let acc = extrudeOnly ? L.retractAcceleration : travel ? L.travelAcceleration : L.acceleration;
    for (let a = 0; a < 4; a++) {
      const share = Math.abs(d[a]!) * inv;
      if (share > 0 && acc * share > L.maxAcceleration[a]!) acc = L.maxAcceleration[a]! / share;
    }

    // the speed this move may start or end at from a standstill, per axis jerk
    let safe = cruise;
    for (let a = 0; a < 4; a++) {
      const v = Math.abs(this.curAxis[a]!);
      if (v > L.jerk[a]!) safe = Math.min(safe, L.jerk[a]!);
    }

    // junction speed with the previous move (classic jerk)
    let vmaxJunction = safe;
    if (this.n > 0 || this.prevCruise > 1e-9) {
      if (this.prevCruise > 1e-9) {
        const prevLarger = this.prevCruise > cruise;
        const smaller = prevLarger ? cruise / this.prevCruise : 1;
        vmaxJunction = prevLarger ? cruise : this.prevCruise;
        let vFactor = 1;
        let limited = false;
        for (let a = 0; a < 4; a++) {
          let vExit = this.prevAxis[a]! * smaller;
          let vEntry = this.curAxis[a]!;
          if (limited) {
            vExit *= vFactor;
            vEntry *= vFactor;
          }
          const jerk =
            vExit > vEntry
              ? vEntry > 0 || vExit < 0
                ? vExit - vEntry
                : Math.max(vExit, -vEntry)
              : vEntry < 0 || vExit > 0
                ? vEntry - vExit
                : Math.max(-vExit, vEntry);
          if (jerk > L.jerk[a]!) {
            vFactor *= L.jerk[a]! / jerk;
            limited = true;
          }
        }
        if (limited) vmaxJunction *= vFactor;
        const threshold = vmaxJunction * 0.99;
        if (this.prevSafe > threshold && safe > threshold) vmaxJunction = safe;
      }
    }
    const vAllowable = Math.sqrt(safe * safe + 2 * acc * distance);

    if (this.n >= CAP) this.process(QUEUE);
    const i = this.n++;
    this.distance[i] = distance;
    this.accel[i] = acc;
    this.cruise[i] = cruise;
    this.entry[i] = Math.min(vmaxJunction, vAllowable);
    this.maxEntry[i] = vmaxJunction;
    this.safe[i] = safe;
    this.exit[i] = safe;
    this.nominalLength[i] = cruise <= vAllowable ? 1 : 0;
    this.prevCruise = cruise;
    this.prevSafe = safe;
    this.prevAxis.set(this.curAxis);
    if (this.n > REFRESH) this.process(QUEUE);
  }

  /** Time that passes without motion (G4). The planner empties first, as the firmware's does. */
  dwell(seconds: number): void {
    this.flush();
    this.time += Math.max(0, seconds);
  }

  /** Everything queued, planned to a stop. */
  flush(): void {
    this.process(0);
    this.prevCruise = 0;
    this.prevSafe = 0;
    this.prevAxis.fill(0);
  }

  total(): number {
    this.flush();
    return this.time;
  }

  /** Plans the queued blocks and adds the time of all but the last `keep` (they still need their successors). */
  private process(keep: number): void {
    const n = this.n;
    if (n <= keep) return;
    const { entry, maxEntry, accel, distance, nominalLength } = this;
    // reverse pass: a block must be able to slow down to the next block's entry speed
    for (let i = n - 2; i >= 0; i--) {
      if (entry[i] !== maxEntry[i]) {
        entry[i] = !nominalLength[i] && maxEntry[i]! > entry[i + 1]! ? Math.min(maxEntry[i]!, Math.sqrt(entry[i + 1]! ** 2 + 2 * accel[i]! * distance[i]!)) : maxEntry[i]!;
      }
    }
    // forward pass: a block cannot enter faster than the previous one could accelerate to
    for (let i = 1; i < n; i++) {
      if (!nominalLength[i - 1] && entry[i - 1]! < entry[i]!) {
        entry[i] = Math.min(entry[i]!, Math.sqrt(entry[i - 1]! ** 2 + 2 * accel[i - 1]! * distance[i - 1]!));
      }
    }
    const done = n - keep;
    for (let i = 0; i < done; i++) {
      const exitSpeed = i + 1 < n ? entry[i + 1]! : this.safe[i]!;
      this.time += trapezoidTime(entry[i]!, this.cruise[i]!, exitSpeed, accel[i]!, distance[i]!);
    }
    if (keep > 0) {
      for (const arr of [this.distance, this.accel, this.cruise, this.entry, this.exit, this.maxEntry, this.safe]) arr.copyWithin(0, done, n);
      this.nominalLength.copyWithin(0, done, n);
    }
    this.n = keep;
  }
}

/** Seconds for one trapezoid: accelerate from `entry` toward `cruise`, cruise, decelerate to `exit`. */
export function trapezoidTime(entry: number, cruise: number, exit: number, acc: number, distance: number): number {
  let accelDist = Math.max(0, (cruise * cruise - entry * entry) / (2 * acc));
  const decelDist = Math.max(0, (cruise * cruise - exit * exit) / (2 * acc));
  let cruiseDist = distance - accelDist - decelDist;
  let top = cruise;
  if (cruiseDist < 0) {
    // never reaches cruise speed: accelerate then decelerate, meeting where the two curves cross
    accelDist = Math.min(distance, Math.max(0, (2 * acc * distance - entry * entry + exit * exit) / (4 * acc)));
    cruiseDist = 0;
    top = Math.sqrt(entry * entry + 2 * acc * accelDist);
  }
  const tAccel = (top - entry) / acc;
  const tDecel = Math.max(0, (top - exit) / acc);
  return Math.max(0, tAccel) + tDecel + (top > 0 ? cruiseDist / top : 0);
}
