// A small seeded PRNG (mulberry32) and the choices the fuzzer makes with it. Hand-written rather than a
// dependency: twenty lines, and every case must be the same on every machine for a seed to reproduce it.

export interface Rng {
  /** a float in [0, 1) */
  next(): number;
  /** an integer in [min, max] */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** picks by weight: [[weight, value], …] */
  weighted<T>(items: readonly (readonly [number, T])[]): T;
}

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    weighted: (items) => {
      const total = items.reduce((s, [w]) => s + w, 0);
      let r = next() * total;
      for (const [w, v] of items) {
        if ((r -= w) < 0) return v;
      }
      return items[items.length - 1]![1];
    },
  };
  return rng;
}

/** The generator for case `index` of a run: each case depends only on (seed, index), so one case can be
 * regenerated on its own (FUZZ_ONLY) without replaying the ones before it. */
export function caseRng(seed: number, index: number): Rng {
  // splitmix32-style mixing, so neighbouring indexes get unrelated streams
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return mulberry32((h ^ (h >>> 16)) >>> 0);
}
