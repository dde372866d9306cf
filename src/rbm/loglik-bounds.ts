// log Z bracketed from both sides (Burda, Grosse & Salakhutdinov 2015,
// "Accurate and conservative estimates of MRF log-likelihood using reverse
// annealing"), and a schedule refined until the two sides agree.
//
// Forward AIS (base rate → model) gives Ẑ_f with E[Ẑ_f] = Z for any schedule,
// so log Ẑ_f is a stochastic LOWER bound: biased low (Jensen) and, by Markov's
// inequality, P(log Ẑ_f > log Z + t) ≤ e^{−t}.
// Reverse AIS (model → base rate) started from EXACT model samples gives Ẑ_r
// with E[1/Ẑ_r] = 1/Z, so log Ẑ_r is a stochastic UPPER bound: biased high and
// P(log Ẑ_r < log Z − t) ≤ e^{−t}. The gap log Ẑ_r − log Ẑ_f shrinks to 0 as the
// schedule lengthens; a large gap says the schedule is too short, whichever side
// is off. Model samples are exact when the smaller layer can be enumerated
// (src/rbm/exact-sample.ts); otherwise they come from parallel tempering
// (src/rbm/tempering.ts) started at the data, and the upper bound is only as good
// as the chains' equilibrium ('tempering'); 'data' (rows + Gibbs burn-in) is the
// weakest, heuristic choice (what `reverseAis` does by default).
//
// The band: each side's spread is the delta-method standard error of a
// log-mean-exp, σ = sqrt((R/ESS − 1)/(R − 1)) with ESS = (Σw)²/Σw² of its R
// weights (the relative standard error of the mean weight). The band is the
// hull of forward ± 3σ_f and reverse ± 3σ_r: normally [forward − 3σ_f,
// reverse + 3σ_r], the two bounds each pushed out by their own noise; the hull
// keeps it honest when noise puts the reverse estimate below the forward one.
// ESS ≥ 1 gives σ ≤ 1, so a margin never exceeds 3 nats and never goes infinite
// (S&M's log(mean − 3 s.e.) does once s.e. > mean/3); at that extreme the
// Markov bounds above still put each side outside its margin with probability
// ≤ e^{−3} ≈ 5%. The point estimate is the midpoint of the two estimates: when
// they bracket log Z, no point of the bracket is further than gap/2 from it.
import { checkHostFactors, checkStorageFactors, type SizeFactor } from '../gpu/buffers';
import { ais, reverseAis, type AISOptions, type AISResult } from './ais';
import { canSampleExactly, exactSamples, MAX_EXACT_SAMPLE_UNITS } from './exact-sample';
import { parallelTempering, PT_SEED_SALT } from './tempering';
import type { ModelParams } from './params';
import { checkFiniteNumber, checkSize } from './validate';

/** Where reverse AIS starts: exact model samples, tempered chains, or data rows with burn-in. */
export type ReverseStartKind = 'exact' | 'tempering' | 'data';

/** The schedule convergedLogZ starts from (doubling from there). */
export const DEFAULT_BOUNDS_BETAS = 1000;
/**
 * convergedLogZ stops once every point of the band lies within this many nats
 * of the estimate. 0.3 nats is a factor 1.35 in Z, below the differences that
 * decide between models (several nats), and reachable: with 100 runs it needs
 * a gap ≲ 0.3 and 3σ ≲ 0.15 on each side (ESS ≳ 70), what a long enough
 * schedule gives on trained models.
 */
export const DEFAULT_LOGZ_TOLERANCE = 0.3;
/** convergedLogZ's ceiling on the schedule (S&M 2008 used 14,500 βs). */
export const DEFAULT_MAX_BETAS = 64_000;
/** Tempering defaults for reverse-AIS start states of models too large to enumerate. */
export const DEFAULT_START_REPLICAS = 10;
export const DEFAULT_START_SWEEPS = 1000;
/** Margins are 3σ (σ ≤ 1, see above), so at most this many nats. */
const SIGMAS = 3;
/**
 * Doubling K roughly halves AIS's bias while the chains mix at every β. When
 * the gap (larger than the tolerance) has not shrunk by a quarter over two
 * doublings, they do not: typically forward AIS's chains all miss a mode they
 * cannot reach near β = 1, and its runs agree with each other (a high ESS) on
 * a Z without it. More βs will not close such a gap in any affordable time,
 * so refinement stops ('stalled') and the band is the answer.
 */
const STALL_RATIO = 0.75;
/**
 * …and only when forward AIS's runs agree: an effective sample size of at least
 * this fraction of the runs. With fewer, one or two lucky runs set the estimate
 * and the gap moves by chance from round to round (a trained 784-25 model: gaps
 * 0.10, 2.34, 3.26 nats at 1,000, 2,000, 4,000 βs with 21 effective runs of 100),
 * so doubling goes on.
 */
const STALL_MIN_ESS_FRACTION = 0.5;

export interface TemperingStartOptions {
  /** Temperatures (default 10), evenly spaced from 1 down to betaMin. */
  replicas?: number;
  /** Lowest inverse temperature (default 0: the top replica draws uniform noise). */
  betaMin?: number;
  /** Tempered sweeps before the β = 1 states are taken (default 1,000). */
  sweeps?: number;
}

export interface LogZBoundsOptions extends Omit<AISOptions, 'onProgress'> {
  /**
   * Reverse AIS start states: 'auto' (default: 'exact' when the smaller layer
   * has ≤ maxExactUnits units, else 'tempering' for Bernoulli visible units,
   * else 'data'), one of the kinds, or given [n, V] rows (cycled over the runs;
   * reported as 'data' unless startKind says otherwise).
   */
  start?: 'auto' | ReverseStartKind | Float32Array;
  /** What given start rows are (default 'data'): 'exact' if they are exact model samples. */
  startKind?: ReverseStartKind;
  /** Enumerate at most this many units for exact samples (default 20). */
  maxExactUnits?: number;
  tempering?: TemperingStartOptions;
  /** Gibbs sweeps at β = 1 before reverse annealing (default: 0 from exact or tempered samples, 100 from data rows). */
  burnIn?: number;
  onProgress?: (stage: 'start' | 'forward' | 'reverse', done: number, total: number) => void;
}

export interface ReverseStart {
  /** [n, V] start rows, cycled over the runs (n = runs except for data rows). */
  states: Float32Array;
  kind: ReverseStartKind;
  /** log Z from the enumeration that drew exact samples (kind 'exact' only). */
  enumeratedLogZ?: number;
  /** Swap acceptance per neighbouring pair (kind 'tempering' only). */
  swapAcceptance?: number[];
  seconds: number;
}

export interface LogZBounds {
  /** The midpoint of the forward and reverse estimates. */
  logZ: number;
  /** Forward AIS: log Ẑ_f, a stochastic lower bound. */
  logZForward: number;
  /** Reverse AIS: log Ẑ_r, a stochastic upper bound when started from exact samples. */
  logZReverse: number;
  /** logZReverse − logZForward (≥ 0 in expectation; shrinks as the schedule converges). */
  gap: number;
  /** The band that should hold log Z (see the file comment). */
  logZLow: number;
  logZHigh: number;
  /** Effective sample sizes (Σw)²/Σw² of each side's R weights. */
  essForward: number;
  essReverse: number;
  /** Each side's delta-method standard error of its log-mean-exp. */
  sigmaForward: number;
  sigmaReverse: number;
  runs: number;
  /** β steps K of each direction. */
  betas: number;
  reverseStart: ReverseStartKind;
  /** log Z from the enumeration behind exact start samples (float64), when there was one. */
  enumeratedLogZ?: number;
  /** Seconds: forward and reverse AIS, drawing the start states, and all together. */
  seconds: { forward: number; reverse: number; start: number; total: number };
  forward: AISResult;
  reverse: AISResult;
}

/**
 * Draws the states reverse AIS starts from (see LogZBoundsOptions.start);
 * `logZBounds` and `convergedLogZ` call it, or take its result to reuse.
 */
export async function drawReverseStart(model: ModelParams, options: LogZBoundsOptions): Promise<ReverseStart> {
  const t0 = performance.now();
  const runs = options.runs ?? 100;
  checkSize('runs', runs);
  // The sizes annealing will need, before any start state is drawn or allocated.
  const r: SizeFactor = { value: runs, option: 'runs' };
  checkStorageFactors(model.device, 'AIS visible states', [r, { value: model.visible, what: 'visible units' }]);
  checkStorageFactors(model.device, 'AIS hidden states', [r, { value: model.hidden, what: 'hidden units' }]);
  checkHostFactors('reverse AIS start states', [r, { value: model.visible, what: 'visible units' }]);
  const seed = options.seed ?? 1;
  const start = options.start ?? 'auto';
  if (start instanceof Float32Array) {
    return { states: start, kind: options.startKind ?? 'data', seconds: 0 };
  }
  const maxUnits = options.maxExactUnits ?? MAX_EXACT_SAMPLE_UNITS;
  const kind: ReverseStartKind =
    start !== 'auto' ? start : canSampleExactly(model, maxUnits) ? 'exact' : model.visibleType === 'bernoulli' ? 'tempering' : 'data';
  const seconds = (): number => (performance.now() - t0) / 1000;
  if (kind === 'exact') {
    const s = await exactSamples(model, { count: runs, seed, maxUnits });
    return { states: s.samples, kind, enumeratedLogZ: s.logZ, seconds: seconds() };
  }
  const data = options.data;
  if (kind === 'data') {
    if (data === undefined) throw new RangeError("reverse AIS from 'data' needs options.data (rows [n, V])");
    return { states: data, kind, seconds: seconds() };
  }
  if (kind !== 'tempering') throw new RangeError(`start must be 'auto', 'exact', 'tempering', 'data' or a Float32Array, got ${String(kind)}`);
  const t = options.tempering ?? {};
  const sweeps = t.sweeps ?? DEFAULT_START_SWEEPS;
  checkSize('tempering.sweeps', sweeps);
  const V = model.visible;
  // Start every replica at data rows (cycled over the chains), so each mode the data visits is seeded.
  let init: Float32Array | undefined;
  if (data !== undefined && data.length >= V && data.length % V === 0) {
    const n = data.length / V;
    init = new Float32Array(runs * V);
    for (let r = 0; r < runs; r++) init.set(data.subarray((r % n) * V, (r % n + 1) * V), r * V);
  }
  const pt = await parallelTempering(model, {
    chains: runs,
    steps: sweeps,
    replicas: t.replicas ?? DEFAULT_START_REPLICAS,
    betaMin: t.betaMin ?? 0,
    init: init ?? 'noise',
    // The tempering streams' salted domain, varied by the caller's seed.
    seed: (seed ^ PT_SEED_SALT) >>> 0,
    tile: options.tile,
    stepsPerSubmit: 50,
  });
  return { states: pt.samples.subarray(0, runs * V), kind, swapAcceptance: pt.swapAcceptance, seconds: seconds() };
}

/**
 * Forward and reverse AIS on the same schedule, and the band they make
 * (see the file comment). `start` may be given as an already drawn ReverseStart.
 */
export async function logZBounds(model: ModelParams, options: LogZBoundsOptions & { reverseStart?: ReverseStart }): Promise<LogZBounds> {
  model.assertLive();
  const t0 = performance.now();
  const start = options.reverseStart ?? (await drawReverseStart(model, options));
  const seed = options.seed ?? 1;
  const progress = options.onProgress;
  const common: AISOptions = {
    data: options.data, marginals: options.marginals, smoothing: options.smoothing, betas: options.betas,
    runs: options.runs, stepsPerSubmit: options.stepsPerSubmit, tile: options.tile,
  };
  const forward = await ais(model, {
    ...common,
    seed,
    onProgress: progress && ((d, n) => progress('forward', d, n)),
  });
  const burnIn = options.burnIn ?? (start.kind === 'data' ? 100 : 0);
  const reverse = await reverseAis(model, {
    ...common,
    // A different key from the forward runs', so the two directions draw independent numbers.
    seed: (seed + 0x9e3779b9) >>> 0,
    start: start.states,
    burnIn,
    onProgress: progress && ((d, n) => progress('reverse', d, n)),
  });
  return combine(forward, reverse, start, (performance.now() - t0) / 1000);
}

/** The delta-method standard error of log mean w from R weights with effective sample size ESS. */
export function logMeanSigma(ess: number, runs: number): number {
  if (runs < 2) return Infinity;
  return Math.sqrt(Math.max(0, (runs / ess - 1) / (runs - 1)));
}

/** Forward and reverse results → the bounds (exported for tests of the arithmetic). */
export function combine(forward: AISResult, reverse: AISResult, start: ReverseStart, totalSeconds: number): LogZBounds {
  const sf = logMeanSigma(forward.effectiveSampleSize, forward.runs);
  const sr = logMeanSigma(reverse.effectiveSampleSize, reverse.runs);
  const mf = Math.min(SIGMAS * sf, SIGMAS);
  const mr = Math.min(SIGMAS * sr, SIGMAS);
  const f = forward.logZ;
  const r = reverse.logZ;
  return {
    logZ: (f + r) / 2,
    logZForward: f,
    logZReverse: r,
    gap: r - f,
    logZLow: Math.min(f - mf, r - mr),
    logZHigh: Math.max(r + mr, f + mf),
    essForward: forward.effectiveSampleSize,
    essReverse: reverse.effectiveSampleSize,
    sigmaForward: sf,
    sigmaReverse: sr,
    runs: forward.runs,
    betas: forward.betas,
    reverseStart: start.kind,
    ...(start.enumeratedLogZ !== undefined ? { enumeratedLogZ: start.enumeratedLogZ } : {}),
    seconds: { forward: forward.seconds, reverse: reverse.seconds, start: start.seconds, total: totalSeconds },
    forward,
    reverse,
  };
}

/** Whether every point of the band lies within `tolerance` nats of the estimate. */
export function boundsConverged(b: Pick<LogZBounds, 'logZ' | 'logZLow' | 'logZHigh'>, tolerance: number): boolean {
  return Math.max(b.logZ - b.logZLow, b.logZHigh - b.logZ) <= tolerance;
}

export type ConvergenceReason = 'converged' | 'max-betas' | 'budget' | 'stalled' | 'fixed';

export interface ConvergedLogZOptions extends Omit<LogZBoundsOptions, 'betas'> {
  /** The first schedule's β count (default 1,000); doubled each round. */
  betas?: number;
  /** Stop once every point of the band is within this many nats of the estimate (default 0.3). */
  tolerance?: number;
  /** Never run a schedule longer than this (default 64,000 βs). */
  maxBetas?: number;
  /**
   * Wall-clock budget in seconds (default: none). A round is not started if,
   * at twice the last round's time, it would end past the budget. Results then
   * depend on the machine's speed; maxBetas is the reproducible limit.
   */
  budgetSeconds?: number;
  /** Run exactly one round at `betas` (no refinement); `converged` still says whether it met the tolerance. */
  fixed?: boolean;
  /** Stop when doubling stops closing the gap (default true; see STALL_RATIO). */
  stopOnStall?: boolean;
  /** Called after each round. */
  onRound?: (b: LogZBounds) => void;
}

export interface ConvergedLogZ extends LogZBounds {
  /** Whether the last round met the tolerance. */
  converged: boolean;
  /** Why refinement stopped. */
  reason: ConvergenceReason;
  tolerance: number;
  /** Every round, shortest schedule first (the last is the result). */
  rounds: LogZBounds[];
}

/**
 * Why refinement stops after the last of `rounds`, or undefined to double
 * again: in this order fixed, converged, max-betas, stalled, budget (the next
 * round, at twice the last one's AIS time, would end past it).
 */
export function stopReason(
  rounds: readonly Pick<LogZBounds, 'logZ' | 'logZLow' | 'logZHigh' | 'gap' | 'betas' | 'seconds' | 'essForward' | 'runs'>[],
  o: { tolerance: number; maxBetas: number; budgetSeconds?: number; elapsedSeconds?: number; fixed?: boolean; stopOnStall?: boolean },
): ConvergenceReason | undefined {
  const b = rounds[rounds.length - 1];
  if (o.fixed) return 'fixed';
  if (boundsConverged(b, o.tolerance)) return 'converged';
  if (2 * b.betas > o.maxBetas) return 'max-betas';
  if (o.stopOnStall !== false && stalled(rounds, o.tolerance)) return 'stalled';
  if ((o.elapsedSeconds ?? 0) + 2 * (b.seconds.forward + b.seconds.reverse) > (o.budgetSeconds ?? Infinity)) return 'budget';
  return undefined;
}

/** Whether the last two doublings left a gap above the tolerance and not a quarter smaller, forward AIS's runs agreeing. */
function stalled(rounds: readonly Pick<LogZBounds, 'gap' | 'essForward' | 'runs'>[], tolerance: number): boolean {
  if (rounds.length < 3) return false;
  const last = rounds[rounds.length - 1];
  const gap = Math.abs(last.gap);
  return gap > tolerance && gap > STALL_RATIO * Math.abs(rounds[rounds.length - 3].gap) && last.essForward >= STALL_MIN_ESS_FRACTION * last.runs;
}

/**
 * log Z bracketed by forward and reverse AIS, the schedule doubled from
 * `betas` until the band is within `tolerance` of the estimate, the schedule
 * would exceed `maxBetas`, doubling stops closing the gap (see STALL_RATIO),
 * or the time budget would run out. The reverse start
 * states are drawn once and reused by every round.
 */
export async function convergedLogZ(model: ModelParams, options: ConvergedLogZOptions): Promise<ConvergedLogZ> {
  model.assertLive();
  const t0 = performance.now();
  let K = options.betas ?? DEFAULT_BOUNDS_BETAS;
  checkSize('betas', K);
  const tolerance = options.tolerance ?? DEFAULT_LOGZ_TOLERANCE;
  checkFiniteNumber('tolerance', tolerance, 0);
  const maxBetas = options.maxBetas ?? DEFAULT_MAX_BETAS;
  checkSize('maxBetas', maxBetas);
  const budget = options.budgetSeconds ?? Infinity;
  if (!(budget > 0)) throw new RangeError(`budgetSeconds must be a positive number of seconds, got ${budget}`);
  const progress = options.onProgress;
  const reverseStart = await drawReverseStart(model, options);
  progress?.('start', 1, 1);
  const rounds: LogZBounds[] = [];
  for (;;) {
    const b = await logZBounds(model, { ...options, betas: K, reverseStart });
    rounds.push(b);
    options.onRound?.(b);
    const converged = boundsConverged(b, tolerance);
    const elapsed = (performance.now() - t0) / 1000;
    const reason = stopReason(rounds, {
      tolerance, maxBetas, budgetSeconds: budget, elapsedSeconds: elapsed, fixed: options.fixed, stopOnStall: options.stopOnStall,
    });
    if (reason !== undefined) {
      return { ...b, seconds: { ...b.seconds, start: reverseStart.seconds, total: elapsed }, converged, reason, tolerance, rounds };
    }
    K *= 2;
  }
}
