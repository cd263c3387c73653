// A first-order heater model, advanced lazily from elapsed time so the simulator needs no thermal timer.

export const AMBIENT = 21.3;

export interface Heater {
  actual: number;
  target: number;
  /** °C per second while heating and while cooling, before the speed factor */
  heatRate: number;
  coolRate: number;
}

export function makeHeater(heatRate: number, coolRate: number): Heater {
  return { actual: AMBIENT, target: 0, heatRate, coolRate };
}

/** Moves a heater `seconds` (already scaled by the speed factor) toward its target or toward ambient. */
export function advanceHeater(h: Heater, seconds: number): void {
  if (seconds <= 0) return;
  if (h.target > 0 && h.actual < h.target) {
    // heating slows as it nears the target, like a PID settling
    const gap = h.target - h.actual;
    const step = Math.min(gap, h.heatRate * seconds * Math.min(1, 0.25 + gap / 40));
    h.actual += step;
  } else {
    const floor = h.target > 0 ? h.target : AMBIENT;
    if (h.actual > floor) h.actual = Math.max(floor, h.actual - h.coolRate * seconds);
  }
}

export function heaterPower(h: Heater): number {
  if (h.target <= 0) return 0;
  return h.actual < h.target - 2 ? 127 : 20;
}

/** Within a degree of target (M109 S/M190 S only wait while heating up). */
export function reached(h: Heater, waitBothWays: boolean): boolean {
  if (waitBothWays) return Math.abs(h.actual - h.target) <= 1;
  return h.actual >= h.target - 1;
}
