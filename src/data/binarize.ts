// Binarization of [0,1] pixels for the Bernoulli RBM. The stochastic form uses
// the project's counter-based RNG so the CPU reference, the GPU and any rerun
// draw the same bits for the same (seed, epoch, pixel).
import { uniform01 } from '../host/philox';
import { BINARIZE_PHASE } from '../host/rng-streams';

/** Philox phase reserved for stochastic binarization draws (src/host/rng-streams.ts; shaders/gather.wgsl). */
export { BINARIZE_PHASE };

/** 1 where pixel > threshold (strictly), else 0. */
export function binarizeThreshold(pixels: Float32Array, threshold = 0.5): Float32Array<ArrayBuffer> {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] > threshold ? 1 : 0;
  return out;
}

/** Pixel i of epoch e is 1 with probability pixel i: uniform01(seed, e, i, 0x5EED) < pixel. */
export function binarizeStochastic(pixels: Float32Array, seed: number, epoch: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = uniform01(seed, epoch, i, BINARIZE_PHASE) < pixels[i] ? 1 : 0;
  return out;
}

/** Index of the first value that is not exactly 0 or 1, or -1 when all are. */
export function firstNonBinary(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x !== 0 && x !== 1) return i;
  }
  return -1;
}

/** True when every value is exactly 0 or 1. */
export function isBinary(data: ArrayLike<number>): boolean {
  return firstNonBinary(data) === -1;
}
