// Annealed importance sampling arithmetic the engine runs on the host
// (Salakhutdinov & Murray 2008, "On the quantitative analysis of deep belief
// networks"): the β schedule, the base-rate model, log Z_0 and the estimate
// with its band. The GPU chains are in src/rbm/ais.ts; the float64 replay of
// those chains (the test oracle) in test/reference/ais.ts.
//
// Intermediate distributions, β from 0 (base-rate model) to 1 (the RBM):
//   p*_β(v) = exp((1 − β) b_Aᵀv + β bᵀv) · Π_j (1 + exp(β (vᵀw_j + c_j)))
// Z_0 = Π_i (1 + e^{b_A,i}) · 2^H, so log Z_0 = Σ_i softplus(b_A,i) + H log 2.
// E[e^w] = Z_1 / Z_0, so log Z ≈ logmeanexp(w) + log Z_0.
// Gaussian visible units (unit variance): the base model is N(b_A, I) × uniform h,
//   log Z_0 = (V/2) log 2π + H log 2.
import { softplus } from './math';

/** Salakhutdinov & Murray's schedule: 500 βs in [0, 0.5], 4,000 in [0.5, 0.9], 10,000 in [0.9, 1]. */
export const DEFAULT_AIS_STEPS = 14_500;
export const DEFAULT_AIS_RUNS = 100;
const SEGMENTS = [
  { to: 0.5, share: 500 },
  { to: 0.9, share: 4000 },
  { to: 1, share: 10000 },
] as const;

/**
 * β_0 = 0 < … < β_K = 1 with K = `steps` (K + 1 values), spaced like S&M's
 * 14,500-step schedule scaled to K: linear within [0, 0.5], [0.5, 0.9], [0.9, 1].
 */
export function aisSchedule(steps = DEFAULT_AIS_STEPS): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`AIS steps must be a positive integer, got ${steps}`);
  const out = new Float64Array(steps + 1);
  if (steps < SEGMENTS.length) {
    for (let k = 0; k <= steps; k++) out[k] = k / steps;
    return out;
  }
  const total = SEGMENTS.reduce((s, g) => s + g.share, 0);
  const n1 = Math.max(1, Math.round((steps * SEGMENTS[0].share) / total));
  const n2 = Math.max(1, Math.round((steps * SEGMENTS[1].share) / total));
  const counts = [n1, n2, steps - n1 - n2];
  let k = 0;
  let from = 0;
  SEGMENTS.forEach((g, s) => {
    for (let t = 1; t <= counts[s]; t++) out[++k] = from + ((g.to - from) * t) / counts[s];
    from = g.to;
  });
  out[steps] = 1;
  return out;
}

/**
 * Checks a schedule: finite, never decreasing from exactly 0 to exactly 1
 * (forward), or never increasing from 1 to 0 (reverse AIS).
 */
export function checkSchedule(betas: ArrayLike<number>, direction: 'forward' | 'reverse' = 'forward'): void {
  const [first, last] = direction === 'forward' ? [0, 1] : [1, 0];
  if (betas.length < 2) throw new RangeError(`an AIS schedule needs at least 2 βs (0 and 1), got ${betas.length}`);
  if (betas[0] !== first || betas[betas.length - 1] !== last) {
    throw new RangeError(
      `a ${direction} AIS schedule must start at β=${first} and end at β=${last}, got ${betas[0]} … ${betas[betas.length - 1]}`,
    );
  }
  const sign = direction === 'forward' ? 1 : -1;
  for (let k = 1; k < betas.length; k++) {
    if (!Number.isFinite(betas[k]) || sign * (betas[k] - betas[k - 1]) < 0) {
      const order = direction === 'forward' ? 'non-decreasing' : 'non-increasing';
      throw new RangeError(`AIS βs must be finite and ${order}: β[${k}] = ${betas[k]} after ${betas[k - 1]}`);
    }
  }
}

/** Base-rate visible biases b_A,i = logit((count_i + α) / (n + 2α)) from [n, V] data in [0, 1]. */
export function baseRateBiases(data: ArrayLike<number>, visible: number, smoothing = 1): Float64Array {
  if (!Number.isInteger(visible) || visible < 1) throw new RangeError(`visible must be a positive integer, got ${visible}`);
  if (data.length === 0 || data.length % visible !== 0) {
    throw new RangeError(`base-rate data has ${data.length} values, not a positive multiple of visible=${visible}`);
  }
  if (!Number.isFinite(smoothing) || smoothing <= 0) {
    throw new RangeError(`smoothing α must be a positive number (it keeps the base-rate biases finite), got ${smoothing}`);
  }
  const n = data.length / visible;
  const counts = new Float64Array(visible);
  for (let e = 0; e < data.length; e++) {
    const x = data[e];
    if (!(x >= 0 && x <= 1)) throw new RangeError(`base-rate data must lie in [0, 1]: value ${x} at index ${e}`);
    counts[e % visible] += x;
  }
  return counts.map((c) => {
    const p = (c + smoothing) / (n + 2 * smoothing);
    return Math.log(p) - Math.log1p(-p);
  });
}

/** Base-rate biases from given marginals, each strictly inside (0, 1). */
export function biasesFromMarginals(marginals: ArrayLike<number>, visible: number): Float64Array {
  if (marginals.length !== visible) {
    throw new RangeError(`marginals has ${marginals.length} values, the model ${visible} visible units`);
  }
  return Float64Array.from(marginals, (p, i) => {
    if (!(p > 0 && p < 1)) {
      throw new RangeError(`marginal ${i} is ${p}; base-rate marginals must lie strictly inside (0, 1) (smooth them)`);
    }
    return Math.log(p) - Math.log1p(-p);
  });
}

/** Gaussian base model means: each visible unit's mean over the [n, V] data. */
export function gaussianBaseMeans(data: ArrayLike<number>, visible: number): Float64Array {
  if (!Number.isInteger(visible) || visible < 1) throw new RangeError(`visible must be a positive integer, got ${visible}`);
  if (data.length === 0 || data.length % visible !== 0) {
    throw new RangeError(`base-rate data has ${data.length} values, not a positive multiple of visible=${visible}`);
  }
  const means = new Float64Array(visible);
  for (let e = 0; e < data.length; e++) {
    if (!Number.isFinite(data[e])) throw new RangeError(`base-rate data holds ${data[e]} at index ${e}`);
    means[e % visible] += data[e];
  }
  const n = data.length / visible;
  return means.map((m) => m / n);
}

/**
 * log Z_0 of the base-rate model (W = 0, c = 0, visible biases b_A) with H
 * hidden units; for Gaussian visible units, of N(b_A, I) × uniform h.
 */
export function logZBase(bA: ArrayLike<number>, hidden: number, gaussian = false): number {
  let s = hidden * Math.LN2;
  if (gaussian) return s + (bA.length / 2) * Math.log(2 * Math.PI);
  for (let i = 0; i < bA.length; i++) s += softplus(bA[i]);
  return s;
}

export interface AISEstimate {
  /** logmeanexp(w) + log Z_0. */
  logZ: number;
  /** log(mean − 3 s.e.) + log Z_0 of the weights exp(w − max); −Infinity when mean ≤ 3 s.e. */
  logZLow: number;
  /** log(mean + 3 s.e.) + log Z_0. */
  logZHigh: number;
  logZBase: number;
  /** (Σ e^w)² / Σ e^{2w}: how many runs the estimate is effectively worth. */
  effectiveSampleSize: number;
}

/**
 * The estimate and its ±3σ band as in S&M's code: with w̃ = exp(w − max w),
 * mean and standard error s.e. = std(w̃)/√R, band = log(mean ± 3 s.e.) + max + log Z_0.
 */
export function aisEstimate(logWeights: ArrayLike<number>, logZ0: number): AISEstimate {
  const R = logWeights.length;
  if (R < 1) throw new RangeError('aisEstimate needs at least one log-weight');
  let max = -Infinity;
  for (let r = 0; r < R; r++) {
    if (Number.isNaN(logWeights[r])) throw new RangeError(`AIS log-weight ${r} is NaN`);
    max = Math.max(max, logWeights[r]);
  }
  if (!Number.isFinite(max)) throw new RangeError(`AIS log-weights reach ${max}`);
  let sum = 0;
  let sumSq = 0;
  for (let r = 0; r < R; r++) {
    const w = Math.exp(logWeights[r] - max);
    sum += w;
    sumSq += w * w;
  }
  const mean = sum / R;
  const variance = R > 1 ? Math.max(0, (sumSq - R * mean * mean) / (R - 1)) : Infinity;
  const se = Math.sqrt(variance / R);
  const shift = max + logZ0;
  return {
    logZ: Math.log(mean) + shift,
    logZLow: mean > 3 * se ? Math.log(mean - 3 * se) + shift : -Infinity,
    logZHigh: Math.log(mean + 3 * se) + shift,
    logZBase: logZ0,
    effectiveSampleSize: (sum * sum) / sumSq,
  };
}

/**
 * Reverse AIS (Burda, Grosse & Salakhutdinov 2015): runs annealed from the
 * model (β = 1) down to the base model have E[e^w] = Z_0 / Z, so
 * log Z ≈ log Z_0 − logmeanexp(w), band from the same mean ± 3 s.e. flipped.
 * From exact model samples this over-estimates log Z on average (a stochastic
 * upper bound, as forward AIS is a stochastic lower bound).
 */
export function reverseAISEstimate(logWeights: ArrayLike<number>, logZ0: number): AISEstimate {
  const e = aisEstimate(logWeights, 0);
  return {
    logZ: logZ0 - e.logZ,
    logZLow: logZ0 - e.logZHigh,
    logZHigh: logZ0 - e.logZLow,
    logZBase: logZ0,
    effectiveSampleSize: e.effectiveSampleSize,
  };
}
