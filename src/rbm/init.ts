// Initial parameters as in Hinton's "A Practical Guide to Training RBMs":
// W ~ N(0, 0.01²), b_i = log(p_i / (1 − p_i)) from the data's marginals, c = 0.
import { philox4x32_10 } from '../host/philox';
// CD-k's phase 2t−1 reaches INIT_PHASE at t = 2,572: the streams are kept apart
// by the step word of the key, INIT_STEP, which no training run reaches.
import { INIT_PHASE, INIT_STEP } from '../host/rng-streams';

const MARGINAL_CLAMP = 1e-3; // keeps b finite for pixels that are always 0 or 1

/** Gaussian numbers from the counter-based RNG (Box–Muller on two 24-bit uniforms). */
export function gaussians(count: number, seed: number, stream: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const x = philox4x32_10([i >>> 1, INIT_PHASE, stream, 0], [seed, INIT_STEP]);
    const u1 = ((x[0] >>> 8) + 1) / 16777217; // (0, 1]: log stays finite
    const u2 = (x[1] >>> 8) / 16777216;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Mean of each column of a row-major [n, V] data set. */
export function columnMeans(data: ArrayLike<number>, n: number, V: number): Float64Array {
  const means = new Float64Array(V);
  for (let r = 0; r < n; r++) for (let i = 0; i < V; i++) means[i] += data[r * V + i];
  for (let i = 0; i < V; i++) means[i] /= Math.max(1, n);
  return means;
}

export function visibleBiasFromMarginals(marginals: ArrayLike<number>): Float32Array {
  const b = new Float32Array(marginals.length);
  for (let i = 0; i < b.length; i++) {
    const p = Math.min(1 - MARGINAL_CLAMP, Math.max(MARGINAL_CLAMP, marginals[i]));
    b[i] = Math.log(p / (1 - p));
  }
  return b;
}

export interface InitOptions {
  visible: number;
  hidden: number;
  seed: number;
  weightScale?: number;
  /** Mean of each visible unit over the training data; b stays 0 without it. */
  visibleMarginals?: ArrayLike<number>;
  /** Gaussian visible units: b is the data mean itself. */
  gaussian?: boolean;
}

export function initialParams(o: InitOptions): { W: Float32Array; b: Float32Array; c: Float32Array } {
  const scale = o.weightScale ?? 0.01;
  const W = gaussians(o.visible * o.hidden, o.seed, 0);
  for (let i = 0; i < W.length; i++) W[i] *= scale;
  const b = !o.visibleMarginals
    ? new Float32Array(o.visible)
    : o.gaussian
      ? Float32Array.from(o.visibleMarginals)
      : visibleBiasFromMarginals(o.visibleMarginals);
  return { W, b, c: new Float32Array(o.hidden) };
}
