/**
 * Which key an operation touches: uniformly over 1..n, or Zipfian (a few
 * keys hot, most cold), the two distributions YCSB runs. Both are seeded,
 * so two runs and two stores see the very same key sequence.
 */
import { prng } from './data.js';

export type KeyDistribution = 'uniform' | 'zipfian';

/** YCSB's skew: about 80% of operations go to about 20% of the keys. */
const ZIPF_THETA = 0.99;
/** Knuth's multiplicative hash: scatters Zipfian ranks over the ids so the hot keys are not adjacent. */
const SCATTER = 2654435761;

/** Zipfian ranks over 0..n-1 (Gray et al., "Quickly generating billion-record synthetic databases", as YCSB draws them). */
function zipfianRanks(n: number, seed: number): () => number {
  const next = prng(seed);
  let zetan = 0;
  for (let i = 1; i <= n; i++) zetan += 1 / i ** ZIPF_THETA;
  const zeta2 = 1 + 1 / 2 ** ZIPF_THETA;
  const alpha = 1 / (1 - ZIPF_THETA);
  const eta = (1 - (2 / n) ** (1 - ZIPF_THETA)) / (1 - zeta2 / zetan);
  return () => {
    const u = next() / 2 ** 32;
    const uz = u * zetan;
    const rank = uz < 1 ? 0 : uz < zeta2 ? 1 : Math.floor(n * (eta * u - eta + 1) ** alpha);
    return Math.imul(Math.min(rank, n - 1), SCATTER) >>> 0;
  };
}

/** A function that returns the next key, an id in 1..n. */
export function keyPicker(distribution: KeyDistribution, n: number, seed: number): () => number {
  if (distribution === 'uniform') {
    const next = prng(seed);
    return () => 1 + (next() % n);
  }
  const ranks = zipfianRanks(n, seed);
  return () => 1 + (ranks() % n);
}
