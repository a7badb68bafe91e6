/**
 * A small seeded pseudo-random generator, so that synthesis, shuffles and splits are
 * reproducible from a seed on every machine. The core is sfc32 (a 128-bit state, passes
 * PractRand), seeded through splitmix32 from a number or a string.
 */

/** A seeded random source. Every method advances the same stream. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). Throws on n <= 0. */
  int(n: number): number;
  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** A standard normal sample (Box-Muller). */
  normal(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /** A new, independent generator derived from this one and a label. */
  fork(label: string | number): Rng;
}

/** Hashes a string to a 32-bit unsigned integer (FNV-1a), for string seeds. */
export function hashString32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Creates a generator from a seed. The same seed gives the same stream everywhere.
 *
 * @example
 * const rng = createRng(42);
 * rng.shuffle([1, 2, 3]);
 */
export function createRng(seed: number | string): Rng {
  const seed32 = typeof seed === 'string' ? hashString32(seed) : hashString32(String(seed));
  const mix = splitmix32(seed32);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  let spareNormal: number | undefined;

  const nextUint32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  // Warm up so that similar seeds diverge at once.
  for (let i = 0; i < 12; i++) nextUint32();

  const rng: Rng = {
    next: () => nextUint32() / 4294967296,
    int(n) {
      if (!(n > 0) || !Number.isFinite(n)) {
        throw new RangeError(`rng.int(n) needs a positive finite n, got ${n}`);
      }
      return Math.floor(rng.next() * Math.floor(n));
    },
    uniform: (lo, hi) => lo + (hi - lo) * rng.next(),
    normal() {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      let u = 0;
      while (u === 0) u = rng.next();
      const v = rng.next();
      const radius = Math.sqrt(-2 * Math.log(u));
      spareNormal = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => rng.next() < p,
    pick(items) {
      if (items.length === 0) throw new RangeError('rng.pick() needs a non-empty array');
      return items[rng.int(items.length)] as (typeof items)[number];
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = items[i] as (typeof items)[number];
        items[i] = items[j] as (typeof items)[number];
        items[j] = tmp;
      }
      return items;
    },
    fork: (label) => createRng(`${seed32}:${nextUint32()}:${label}`),
  };
  return rng;
}
