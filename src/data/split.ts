// Deterministic shuffling and splitting, driven by the counter-based RNG so a
// (seed, epoch) pair names one permutation on every machine and in every run.
import { uniform01 } from '../host/philox';
import { SHUFFLE_PHASE, SPLIT_PHASE } from '../host/rng-streams';

/** Philox phases reserved here (each draw uses phase and phase + 1; src/host/rng-streams.ts). */
export { SHUFFLE_PHASE, SPLIT_PHASE };

const MAX_COUNT = 0xffffffff;

function checkCount(name: string, n: number, max = MAX_COUNT): void {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${n}.`);
  }
}

// 48-bit uniform from two 24-bit draws, so index choice stays unbiased for any count.
function uniform48(seed: number, step: number, element: number, phase: number): number {
  return uniform01(seed, step, element, phase) + uniform01(seed, step, element, phase + 1) * 2 ** -24;
}

// Fisher–Yates from the top: position i swaps with a uniform j in 0..i.
function permutation(count: number, seed: number, step: number, phase: number): Uint32Array<ArrayBuffer> {
  const p = new Uint32Array(count);
  for (let i = 0; i < count; i++) p[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(uniform48(seed, step, i, phase) * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Splits 0..count-1 into disjoint train and test index sets, fixed by seed.
 * Both keep the shuffled order (the source may be sorted by class).
 */
export function splitDataset(count: number, testCount: number, seed: number): { train: Uint32Array<ArrayBuffer>; test: Uint32Array<ArrayBuffer> } {
  checkCount('count', count);
  checkCount('testCount', testCount, count);
  const p = permutation(count, seed, 0, SPLIT_PHASE);
  return { test: p.slice(0, testCount), train: p.slice(testCount) };
}

/** The epoch's permutation of 0..count-1: same (count, seed, epoch), same order. */
export function shuffledPermutation(count: number, seed: number, epoch: number): Uint32Array<ArrayBuffer> {
  checkCount('count', count);
  return permutation(count, seed, epoch, SHUFFLE_PHASE);
}

/** Copies rows `indices` of a row-major [rows, dim] matrix into a new [indices.length, dim] one. */
export function gatherRows(pixels: Float32Array, dim: number, indices: ArrayLike<number>): Float32Array<ArrayBuffer> {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${dim}.`);
  if (pixels.length % dim !== 0) {
    throw new RangeError(`pixels has ${pixels.length} values, not a multiple of dim ${dim}.`);
  }
  const rows = pixels.length / dim;
  const out = new Float32Array(indices.length * dim);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    if (!Number.isInteger(i) || i < 0 || i >= rows) {
      throw new RangeError(`index ${i} at position ${r} is outside 0..${rows - 1}.`);
    }
    out.set(pixels.subarray(i * dim, (i + 1) * dim), r * dim);
  }
  return out;
}
