/**
 * Seeded pseudo-random numbers for splits and the bootstrap: the same seed gives the same study on
 * every machine, so a number in a report can be recomputed. mulberry32: tiny, fast, and good enough
 * for sampling (not for cryptography).
 */
export type RandomSource = () => number;

export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for one named purpose within a study seed (FNV-1a over the name, mixed with the seed), so
 * the split of seed 3 and its subsets draw from independent streams and adding a purpose does not
 * shift the others.
 */
export function derivedSeed(seed: number, purpose: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) {
    hash ^= purpose.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** An integer in [0, count). */
export function randomIndex(random: RandomSource, count: number): number {
  return Math.floor(random() * count);
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
