// Inverse-temperature ladders for parallel tempering: a geometric default and
// a retuning rule that moves the βs toward a target swap acceptance.
//
// Retuning (pure, deterministic: a function of the ladder and the swap counts
// the GPU accepted in one window). Under a Gaussian approximation of the
// swap's log-ratio, a pair of gap Δβ accepts with a = erfc(ℓ/2), where ℓ is
// the thermodynamic length of the gap (Δβ times the spread of the energy
// there). So each measured pair gives its length ℓ_m = 2·erfc⁻¹(a_m) and a
// length density ℓ_m / Δβ_m over its gap; below the hottest β the last
// density is extended to the floor. The cumulative length Λ(β) from β = 1 is
// piecewise linear, and the new ladder cuts it into M − 1 equal pieces:
//
//   each piece ℓ* = 2·erfc⁻¹(target) when M − 1 such pieces do not reach the
//   floor (every pair then accepts ≈ target, and the hottest β is as hot as M
//   allows), else Λ(floor) / (M − 1) (the ladder reaches the floor, every
//   pair above target).
//
// A ladder whose pairs all accept the target (or accept equally, reaching the
// floor) is a fixed point: the map from a to ℓ is the one the rule inverts.
// The new ladder is mixed with the old one (damping), in β, so it stays
// strictly decreasing; β_0 = 1 never moves.

/** The swap acceptance adaptation aims at by default (neighbouring pairs). */
export const DEFAULT_TARGET_ACCEPTANCE = 0.3;
/** Fraction of the way from the old ladder to the retuned one per window (1: all the way). */
export const DEFAULT_ADAPT_DAMPING = 0.7;

/** M inverse temperatures in geometric progression from 1 down to betaMin > 0. */
export function geometricBetas(replicas: number, betaMin: number): number[] {
  if (!Number.isInteger(replicas) || replicas < 2) throw new RangeError(`replicas must be an integer ≥ 2, got ${replicas}`);
  if (typeof betaMin !== 'number' || !(betaMin > 0 && betaMin <= 1)) {
    throw new RangeError(`a geometric ladder needs betaMin in (0, 1], got ${betaMin}; use ladder 'linear' for a ladder to β = 0`);
  }
  const M = replicas;
  return Array.from({ length: M }, (_, m) => (m === 0 ? 1 : m === M - 1 ? betaMin : Math.pow(betaMin, m / (M - 1))));
}

/** erfc(x) to ~1e-12 relative (Numerical Recipes' Chebyshev fit, erfccheb). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  const t = 2 / (2 + x);
  const ty = 4 * t - 2;
  const cof = [
    -1.3026537197817094, 0.6419697923564902, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
    3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6,
    1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
    9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
    -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
  ];
  let d = 0;
  let dd = 0;
  for (let j = cof.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + cof[j];
    dd = tmp;
  }
  return t * Math.exp(-x * x + 0.5 * (cof[0] + ty * d) - dd);
}

/** erfc⁻¹(p) for p in (0, 2), by bisection on the monotone erfc (deterministic, no tolerance games). */
export function erfcInv(p: number): number {
  if (!(p > 0 && p < 2)) throw new RangeError(`erfcInv needs p in (0, 2), got ${p}`);
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (erfc(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface RetuneOptions {
  /** Target acceptance of every neighbouring pair, in (0, 1) (default 0.3). */
  targetAcceptance?: number;
  /** The hottest β the ladder may reach, in [0, 1) (default 0: the uniform distribution). */
  betaFloor?: number;
  /** Fraction of the way to the retuned ladder, in (0, 1] (default 0.7). */
  damping?: number;
}

export function checkTargetAcceptance(name: string, a: number): void {
  if (typeof a !== 'number' || !(a > 0 && a < 1)) throw new RangeError(`${name} must be a number in (0, 1), e.g. 0.3; got ${a}`);
}

/**
 * The retuned ladder (see the file comment) from `betas` and the accepted /
 * attempted swaps of each pair (m, m+1) in one window. `betas` must be
 * strictly decreasing from 1; every pair must have been tried.
 */
export function retuneBetas(betas: ArrayLike<number>, accepted: ArrayLike<number>, attempted: ArrayLike<number>, o: RetuneOptions = {}): number[] {
  const M = betas.length;
  const target = o.targetAcceptance ?? DEFAULT_TARGET_ACCEPTANCE;
  checkTargetAcceptance('targetAcceptance', target);
  const floor = o.betaFloor ?? 0;
  if (typeof floor !== 'number' || !(floor >= 0 && floor < 1)) throw new RangeError(`betaFloor must be a number in [0, 1), got ${floor}`);
  const eta = o.damping ?? DEFAULT_ADAPT_DAMPING;
  if (typeof eta !== 'number' || !(eta > 0 && eta <= 1)) throw new RangeError(`damping must be a number in (0, 1], got ${eta}`);
  if (M < 2 || accepted.length !== M - 1 || attempted.length !== M - 1) {
    throw new RangeError(`retuning needs M ≥ 2 betas and M − 1 swap counts, got ${M} betas, ${accepted.length} and ${attempted.length} counts`);
  }
  if (betas[0] !== 1) throw new RangeError(`betas[0] must be 1, got ${betas[0]}`);
  for (let m = 1; m < M; m++) {
    if (!(betas[m] < betas[m - 1]) || betas[m] < floor) {
      throw new RangeError(`adapting the ladder needs strictly decreasing betas ≥ ${floor}; betas[${m}] = ${betas[m]} after ${betas[m - 1]}`);
    }
  }
  // Length density of each gap; an acceptance of 0 or 1 is clamped half a count inside, so every density is finite and > 0.
  const density: number[] = [];
  for (let m = 0; m < M - 1; m++) {
    const n = attempted[m];
    if (!(n > 0)) throw new RangeError(`pair ${m} was never tried; run at least two swap rounds before retuning`);
    const a = Math.min(Math.max(accepted[m] / n, 0.5 / n), 1 - 0.5 / n);
    density.push((2 * erfcInv(a)) / (betas[m] - betas[m + 1]));
  }
  // Cumulative length at each knot, from β = 1 downwards, then at the floor.
  const knots = Array.from(betas);
  const length = [0];
  for (let m = 0; m < M - 1; m++) length.push(length[m] + density[m] * (knots[m] - knots[m + 1]));
  if (knots[M - 1] > floor) {
    knots.push(floor);
    length.push(length[M - 1] + density[M - 2] * (knots[M - 1] - floor));
  }
  const total = length[length.length - 1];
  const piece = Math.min(2 * erfcInv(target), total / (M - 1));
  // Λ⁻¹(k·piece) by linear interpolation between knots.
  const proposed = [1];
  let seg = 0;
  for (let k = 1; k < M; k++) {
    const L = k === M - 1 && piece === total / (M - 1) ? total : k * piece;
    while (seg < knots.length - 2 && length[seg + 1] < L) seg++;
    const span = length[seg + 1] - length[seg];
    const f = span > 0 ? Math.min(1, Math.max(0, (L - length[seg]) / span)) : 1;
    proposed.push(knots[seg] + f * (knots[seg + 1] - knots[seg]));
  }
  const reachesFloor = piece === total / (M - 1);
  // A ladder that reaches the floor ends there (damping would only approach it).
  const out = proposed.map((p, m) => (m === 0 ? 1 : m === M - 1 && reachesFloor ? floor : (1 - eta) * betas[m] + eta * p));
  // Strictly decreasing in float32 too (the GPU's ladder): nudge any tie down by one float32 step.
  const f32 = Float32Array.from(out);
  for (let m = 1; m < M; m++) {
    if (!(f32[m] < f32[m - 1])) f32[m] = Math.fround(f32[m - 1] * (1 - 2 ** -23));
    if (f32[m] < floor) f32[m] = Math.fround(floor);
  }
  for (let m = 1; m < M; m++) {
    if (!(f32[m] < f32[m - 1])) throw new RangeError(`retuning collapsed betas ${m - 1} and ${m}; use fewer replicas or a lower betaFloor`);
  }
  return Array.from(f32);
}

/**
 * Replicas a ladder from 1 to `betaFloor` needs for every pair to accept about
 * `targetAcceptance`, estimated from a measured ladder as retuneBetas does.
 */
export function replicasForTarget(
  betas: ArrayLike<number>, accepted: ArrayLike<number>, attempted: ArrayLike<number>, o: Omit<RetuneOptions, 'damping'> = {},
): number {
  const M = betas.length;
  const target = o.targetAcceptance ?? DEFAULT_TARGET_ACCEPTANCE;
  checkTargetAcceptance('targetAcceptance', target);
  const floor = o.betaFloor ?? 0;
  let total = 0;
  for (let m = 0; m < M - 1; m++) {
    const n = attempted[m];
    const a = Math.min(Math.max(accepted[m] / n, 0.5 / n), 1 - 0.5 / n);
    const d = (2 * erfcInv(a)) / (betas[m] - betas[m + 1]);
    total += d * (betas[m] - betas[m + 1]);
    if (m === M - 2) total += d * (betas[M - 1] - floor);
  }
  return 1 + Math.ceil(total / (2 * erfcInv(target)));
}
