// Float64 replay of the GPU's AIS chains (Salakhutdinov & Murray 2008, "On the
// quantitative analysis of deep belief networks"), drawing the same Philox
// uniforms, for tests. Written apart from the engine's AIS arithmetic
// (src/host/ais-math.ts): only Philox and the stream ids are shared.
//
// Intermediate distributions, β from 0 (base-rate model) to 1 (the RBM):
//   p*_β(v) = exp((1 − β) b_Aᵀv + β bᵀv) · Π_j (1 + exp(β (vᵀw_j + c_j)))
// Z_0 = Π_i (1 + e^{b_A,i}) · 2^H, so log Z_0 = Σ_i softplus(b_A,i) + H log 2.
// Run r: v_1 ~ p_0; for k = 1..K: w += log p*_{β_k}(v_k) − log p*_{β_{k−1}}(v_k),
// then v_{k+1} ~ T_k(v_k), one Gibbs sweep that leaves p_{β_k} invariant:
//   h ~ σ(β_k x), x = vW + c;   v ~ σ((1 − β_k) b_A + β_k (W h + b)).
// E[e^w] = Z_1 / Z_0, so log Z ≈ logmeanexp(w) + log Z_0.
// Gaussian visible units (unit variance): the base model is N(b_A, I) × uniform h,
//   p*_β(v) = exp(−(1 − β)|v − b_A|²/2 − β|v − b|²/2) · Π_j (1 + exp(β x_j)),
//   log Z_0 = (V/2) log 2π + H log 2,  v | h ~ N((1 − β_k) b_A + β_k (W h + b), I).
import { normal01, uniform01 } from '../../src/host/philox';
import { AIS_HIDDEN_PHASE, AIS_VISIBLE_PHASE } from '../../src/host/rng-streams';
import { sigmoid, softplus, type RBMParams } from './exact';

/** A schedule the replay accepts: from 0 to 1 (forward) or 1 to 0 (reverse), monotone. */
function checkBetas(betas: ArrayLike<number>, reverse: boolean): void {
  const n = betas.length;
  const [first, last] = reverse ? [1, 0] : [0, 1];
  if (n < 2 || betas[0] !== first || betas[n - 1] !== last) throw new RangeError(`cpuAIS: βs must run from ${first} to ${last}`);
  for (let k = 1; k < n; k++) {
    const d = betas[k] - betas[k - 1];
    if (!Number.isFinite(betas[k]) || (reverse ? d > 0 : d < 0)) throw new RangeError(`cpuAIS: β[${k}] = ${betas[k]} breaks the order`);
  }
}

export interface CpuAISOptions {
  /** Base-rate visible biases (use the float32 values the GPU got). */
  baseBiases: ArrayLike<number>;
  /** The schedule (use the float32 values the GPU got): 0 → 1, or 1 → 0 with `start`. */
  betas: ArrayLike<number>;
  runs: number;
  seed: number;
  /** Reverse AIS: the runs' first visible states ([runs, V]) instead of base-rate samples. */
  start?: ArrayLike<number>;
  /** Gaussian visible units (base-model means in baseBiases). */
  gaussian?: boolean;
}

/**
 * Float64 AIS with the GPU's random numbers: run r's unit e draws
 * uniform01(seed, k, r·n + e, phase) at step k, as tempered_hidden/tempered_visible do,
 * so the chains match the GPU's except where a probability ties its uniform.
 * Returns the R log-weights Σ_k log p*_{β_k}(v_k) − log p*_{β_{k−1}}(v_k).
 */
export function cpuAIS(p: RBMParams, o: CpuAISOptions): Float64Array {
  const { visible: V, hidden: H, W, b, c } = p;
  const { baseBiases: bA, betas, runs: R, seed, start } = o;
  const gaussian = o.gaussian ?? false;
  const sample = (mean: number, step: number, e: number): number =>
    gaussian
      ? mean + normal01(seed, step, e, AIS_VISIBLE_PHASE)
      : uniform01(seed, step, e, AIS_VISIBLE_PHASE) < sigmoid(mean)
        ? 1
        : 0;
  checkBetas(betas, start !== undefined);
  const K = betas.length - 1;
  const logw = new Float64Array(R);
  const v = new Float64Array(V);
  const h = new Float64Array(H);
  const x = new Float64Array(H);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < V; i++) v[i] = start ? start[r * V + i] : sample(bA[i], 0, r * V + i);
    for (let k = 1; k <= K; k++) {
      const b1 = betas[k];
      const b0 = betas[k - 1];
      for (let j = 0; j < H; j++) {
        let s = c[j];
        for (let i = 0; i < V; i++) s += v[i] * W[i * H + j];
        x[j] = s;
        logw[r] += softplus(b1 * s) - softplus(b0 * s);
      }
      for (let i = 0; i < V; i++) {
        const vi = gaussian ? v[i] - (b[i] + bA[i]) / 2 : v[i];
        logw[r] += (b1 - b0) * (b[i] - bA[i]) * vi;
      }
      if (k === K) break;
      for (let j = 0; j < H; j++) h[j] = uniform01(seed, k, r * H + j, AIS_HIDDEN_PHASE) < sigmoid(b1 * x[j]) ? 1 : 0;
      for (let i = 0; i < V; i++) {
        let s = b[i];
        for (let j = 0; j < H; j++) s += W[i * H + j] * h[j];
        v[i] = sample((1 - b1) * bA[i] + b1 * s, k, r * V + i);
      }
    }
  }
  return logw;
}
