// Float64 replay of the GPU's trajectory AIS chains (src/rbm/trajectory.ts),
// drawing the same Philox uniforms, for tests. Written apart from the engine:
// only Philox and the stream ids are shared. Binary (Bernoulli) visible units.
//
// Path θ_0 … θ_T: θ_0 = (W = 0, b = b_A, c = 0), θ_1 … θ_T the snapshots; each
// segment cut into S steps θ_t + (i/S)(θ_{t+1} − θ_t). Points p_0 … p_K, K = T·S
// (reversed for reverse AIS). RNG step g: g = 0 draws v ~ θ_0 (forward) or takes
// the start states; g = 1 … B are Gibbs sweeps at p_0 (burn-in); g = B + k adds
// F_{p_{k−1}}(v) − F_{p_k}(v) to the log-weight, then (k < K) one sweep under p_k:
//   h_j ~ uniform01(seed, g, r·H + j, AIS_HIDDEN_PHASE) < σ(vW + c)_j
//   v_i ~ uniform01(seed, g, r·V + i, AIS_VISIBLE_PHASE) < σ(W h + b)_i
import { uniform01 } from '../../src/host/philox';
import { AIS_HIDDEN_PHASE, AIS_VISIBLE_PHASE } from '../../src/host/rng-streams';
import { sigmoid, softplus, type RBMParams } from './exact';

export interface CpuTrajectoryOptions {
  /** b_A of the base model (the float32 values the GPU got). */
  baseBiases: ArrayLike<number>;
  /** θ_1 … θ_T as { W, b, c }. */
  snapshots: ReadonlyArray<Pick<RBMParams, 'W' | 'b' | 'c'>>;
  stepsBetween: number;
  runs: number;
  seed: number;
  /** Reverse AIS: the runs' first states [runs, V], then burnIn sweeps at θ_T. */
  start?: ArrayLike<number>;
  burnIn?: number;
}

/** The R log-weights of trajectory AIS, in float64, with the GPU's random numbers. */
export function cpuTrajectoryAIS(visible: number, hidden: number, o: CpuTrajectoryOptions): Float64Array {
  const V = visible;
  const H = hidden;
  const S = o.stepsBetween;
  const T = o.snapshots.length;
  const thetas = [{ W: new Float64Array(V * H), b: Float64Array.from(o.baseBiases), c: new Float64Array(H) }, ...o.snapshots];
  const at = (seg: number, s: number): { W: Float64Array; b: Float64Array; c: Float64Array } => {
    const a = thetas[seg];
    const z = thetas[seg + 1];
    const mix = (x: ArrayLike<number>, y: ArrayLike<number>): Float64Array => Float64Array.from(x, (xi, e) => (1 - s) * xi + s * y[e]);
    return { W: mix(a.W, z.W), b: mix(a.b, z.b), c: mix(a.c, z.c) };
  };
  const points: { W: Float64Array; b: Float64Array; c: Float64Array }[] = [at(0, 0)];
  for (let t = 0; t < T; t++) for (let i = 1; i <= S; i++) points.push(at(t, Math.fround(i / S)));
  if (o.start) points.reverse();
  const K = points.length - 1;
  const B = o.burnIn ?? 0;
  const R = o.runs;
  const logw = new Float64Array(R);
  const v = new Float64Array(V);
  const h = new Float64Array(H);
  const free = (p: { W: Float64Array; b: Float64Array; c: Float64Array }): number => {
    let f = 0;
    for (let i = 0; i < V; i++) f -= p.b[i] * v[i];
    for (let j = 0; j < H; j++) {
      let x = p.c[j];
      for (let i = 0; i < V; i++) x += v[i] * p.W[i * H + j];
      f -= softplus(x);
    }
    return f;
  };
  const sweep = (p: { W: Float64Array; b: Float64Array; c: Float64Array }, g: number, r: number): void => {
    for (let j = 0; j < H; j++) {
      let x = p.c[j];
      for (let i = 0; i < V; i++) x += v[i] * p.W[i * H + j];
      h[j] = uniform01(o.seed, g, r * H + j, AIS_HIDDEN_PHASE) < sigmoid(x) ? 1 : 0;
    }
    for (let i = 0; i < V; i++) {
      let x = p.b[i];
      for (let j = 0; j < H; j++) x += p.W[i * H + j] * h[j];
      v[i] = uniform01(o.seed, g, r * V + i, AIS_VISIBLE_PHASE) < sigmoid(x) ? 1 : 0;
    }
  };
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < V; i++) {
      v[i] = o.start ? o.start[r * V + i] : uniform01(o.seed, 0, r * V + i, AIS_VISIBLE_PHASE) < sigmoid(points[0].b[i]) ? 1 : 0;
    }
    for (let g = 1; g <= B; g++) sweep(points[0], g, r);
    for (let k = 1; k <= K; k++) {
      logw[r] += free(points[k - 1]) - free(points[k]);
      if (k < K) sweep(points[k], B + k, r);
    }
  }
  return logw;
}
