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
import { canSampleExactly, exactSampler, MAX_EXACT_SAMPLE_UNITS } from './exact-sample';
import { aisEstimate, reverseAISEstimate } from '../host/ais-math';
import { parallelTempering, PT_SEED_SALT } from './tempering';
import type { ModelParams } from './params';
import { checkFiniteNumber, checkSize, OptionError } from './validate';

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
/**
 * convergedLogZ's ceiling on the runs of each direction (16 × the default 100).
 * Runs are added, not restarted, when the band's width is noise (see
 * nextRefinement); on a GPU they cost what one run costs while the device is not full.
 */
export const DEFAULT_MAX_RUNS = 1600;
/** Seeds of the k-th batch of runs added at one schedule: seed + k·this (even, so never the reverse key seed + odd). */
const BATCH_SEED_STRIDE = 0x3c6ef372;
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
  /**
   * More start states, independent of the first ones: [count, V] for the
   * `batch`-th batch of added runs (≥ 1). Absent for given rows, which cannot
   * be extended: then runs are not added.
   */
  more?: (count: number, batch: number) => Promise<Float32Array>;
}

/** The seed of the batch-th batch of runs at one schedule (batch 0: the seed itself). */
export function batchSeed(seed: number, batch: number): number {
  return (seed + batch * BATCH_SEED_STRIDE) >>> 0;
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
    const sampler = await exactSampler(model, { maxUnits });
    const more = (count: number, batch: number): Promise<Float32Array> => Promise.resolve(sampler.draw(count, batchSeed(seed, batch)));
    return { states: sampler.draw(runs, seed), kind, enumeratedLogZ: sampler.logZ, seconds: seconds(), more };
  }
  const data = options.data;
  if (kind === 'data') {
    if (data === undefined) throw new RangeError("reverse AIS from 'data' needs options.data (rows [n, V])");
    // Added runs cycle over the rows again; their burn-in draws new numbers.
    return { states: data, kind, seconds: seconds(), more: () => Promise.resolve(data) };
  }
  if (kind !== 'tempering') throw new RangeError(`start must be 'auto', 'exact', 'tempering', 'data' or a Float32Array, got ${String(kind)}`);
  const t = options.tempering ?? {};
  const sweeps = t.sweeps ?? DEFAULT_START_SWEEPS;
  checkSize('tempering.sweeps', sweeps);
  const V = model.visible;
  const tempered = async (chains: number, chainSeed: number) => {
    // Start every replica at data rows (cycled over the chains), so each mode the data visits is seeded.
    let init: Float32Array | undefined;
    if (data !== undefined && data.length >= V && data.length % V === 0) {
      const n = data.length / V;
      init = new Float32Array(chains * V);
      for (let r = 0; r < chains; r++) init.set(data.subarray((r % n) * V, (r % n + 1) * V), r * V);
    }
    return parallelTempering(model, {
      chains,
      steps: sweeps,
      replicas: t.replicas ?? DEFAULT_START_REPLICAS,
      betaMin: t.betaMin ?? 0,
      init: init ?? 'noise',
      // The tempering streams' salted domain, varied by the caller's seed.
      seed: (chainSeed ^ PT_SEED_SALT) >>> 0,
      tile: options.tile,
      stepsPerSubmit: 50,
    });
  };
  const pt = await tempered(runs, seed);
  const more = async (count: number, batch: number): Promise<Float32Array> =>
    (await tempered(count, batchSeed(seed, batch))).samples.subarray(0, count * V);
  return { states: pt.samples.subarray(0, runs * V), kind, swapAcceptance: pt.swapAcceptance, seconds: seconds(), more };
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
   * Never pool more runs than this per direction (default DEFAULT_MAX_RUNS,
   * 1,600, lowered to what the device's buffers hold). `runs` is the first
   * round's count; equal to it, runs are never added (the schedule alone doubles).
   */
  maxRuns?: number;
  /**
   * Wall-clock budget in seconds (default: none). A round is not started if,
   * at the last round's cost per run and β, it would end past the budget.
   * Results then depend on the machine's speed; maxBetas and maxRuns are the
   * reproducible limits.
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
  /** Every round, first first (the last is the result); a round that added runs holds all runs pooled so far. */
  rounds: LogZBounds[];
}

/** What the next round refines: the schedule (β count doubled, runs rerun) or the runs (as many again, pooled). */
export type Refinement = 'betas' | 'runs';

/**
 * The band is about gap/2 + 3σ from the estimate: the gap is the schedule's
 * bias (doubling βs roughly halves it), σ the runs' noise. Whether the band
 * is noise: either side's 3σ exceeds half the gap.
 */
export function noiseDominates(b: Pick<LogZBounds, 'gap' | 'sigmaForward' | 'sigmaReverse'>): boolean {
  return SIGMAS * Math.max(b.sigmaForward, b.sigmaReverse) > Math.abs(b.gap) / 2;
}

/**
 * Doubling the schedule must raise the runs' agreement (the effective sample
 * size as a fraction of the runs, the smaller side's) by at least this factor
 * to be preferred over adding runs while the band is noise.
 */
const SCHEDULE_ESS_GAIN = 1.25;
/**
 * Added runs must raise the pooled effective sample size (the smaller side's)
 * by at least this factor (ideally 2) to be added again: below it the weights
 * are too heavy-tailed for more runs to help, and the schedule is too short.
 */
const RUNS_ESS_GAIN = 1.5;

const essFraction = (b: RoundSummary): number => Math.min(b.essForward, b.essReverse) / b.runs;

/**
 * What the next round refines. The schedule, unless the band is the runs'
 * noise (noiseDominates) and the schedule has stopped helping with it:
 * doubling βs last time left the runs' agreement (ESS fraction) within
 * SCHEDULE_ESS_GAIN of where it was, as when a few runs find a mode the
 * others miss. Short schedules leave every run's weight noisy, which more
 * βs fix and more runs do not; a multi-modal model's weights stay lopsided
 * however long the schedule, and only more runs even them out. Runs are
 * not added again once adding them stopped raising the ESS (RUNS_ESS_GAIN).
 */
export function nextRefinement(rounds: readonly RoundSummary[]): Refinement {
  const b = rounds[rounds.length - 1];
  if (!noiseDominates(b) || !addingRunsHelps(rounds)) return 'betas';
  const half = rounds.filter((r) => 2 * r.betas === b.betas);
  return half.length > 0 && essFraction(b) < SCHEDULE_ESS_GAIN * essFraction(half[half.length - 1]) ? 'runs' : 'betas';
}

/** False when the last round added runs and the pooled ESS (smaller side) grew by less than RUNS_ESS_GAIN. */
function addingRunsHelps(rounds: readonly RoundSummary[]): boolean {
  const b = rounds[rounds.length - 1];
  const prev = rounds[rounds.length - 2];
  if (prev === undefined || prev.betas !== b.betas || prev.runs >= b.runs) return true;
  return Math.min(b.essForward, b.essReverse) >= RUNS_ESS_GAIN * Math.min(prev.essForward, prev.essReverse);
}

export type RoundSummary = Pick<
  LogZBounds, 'logZ' | 'logZLow' | 'logZHigh' | 'gap' | 'betas' | 'seconds' | 'essForward' | 'essReverse' | 'runs' | 'sigmaForward' | 'sigmaReverse'
> & {
  /** Runs this round annealed itself (the rest were pooled from earlier rounds at the same schedule); default runs. */
  addedRuns?: number;
};

export interface RefineLimits {
  tolerance: number;
  maxBetas: number;
  /** Default: the last round's runs (never add runs). */
  maxRuns?: number;
  budgetSeconds?: number;
  elapsedSeconds?: number;
  fixed?: boolean;
  stopOnStall?: boolean;
}

/**
 * After the last of `rounds`: why refinement stops, or the next round (its βs
 * and runs per direction, and whether its runs are added to the last round's).
 * In this order: fixed, converged, the wanted refinement (nextRefinement)
 * past its ceiling (runs past maxRuns: double βs instead; βs past maxBetas:
 * add runs if the band is noise and they still help, else stop, 'max-betas'),
 * stalled, budget (the next round, at the last one's cost per run and β,
 * would end past it).
 */
export function planNextRound(
  rounds: readonly RoundSummary[],
  o: RefineLimits,
): { stop: ConvergenceReason } | { betas: number; runs: number; addRuns: boolean } {
  const b = rounds[rounds.length - 1];
  if (o.fixed) return { stop: 'fixed' };
  if (boundsConverged(b, o.tolerance)) return { stop: 'converged' };
  const roomForRuns = 2 * b.runs <= (o.maxRuns ?? b.runs);
  let step = nextRefinement(rounds);
  if (step === 'runs' && !roomForRuns) step = 'betas';
  if (step === 'betas' && 2 * b.betas > o.maxBetas) {
    if (!(roomForRuns && noiseDominates(b) && addingRunsHelps(rounds))) return { stop: 'max-betas' };
    step = 'runs';
  }
  if (step === 'betas' && o.stopOnStall !== false && stalled(rounds, o.tolerance)) return { stop: 'stalled' };
  const next = step === 'betas' ? { betas: 2 * b.betas, runs: b.runs, addRuns: false } : { betas: b.betas, runs: 2 * b.runs, addRuns: true };
  const added = step === 'betas' ? next.runs : b.runs;
  const perRunBeta = (b.seconds.forward + b.seconds.reverse) / ((b.addedRuns ?? b.runs) * b.betas);
  if ((o.elapsedSeconds ?? 0) + perRunBeta * added * next.betas > (o.budgetSeconds ?? Infinity)) return { stop: 'budget' };
  return next;
}

/** Why refinement stops after the last of `rounds`, or undefined to go on (see planNextRound). */
export function stopReason(rounds: readonly RoundSummary[], o: RefineLimits): ConvergenceReason | undefined {
  const p = planNextRound(rounds, o);
  return 'stop' in p ? p.stop : undefined;
}

/**
 * Whether the gap (above the tolerance) is not a quarter smaller than at a
 * quarter of the schedule, forward AIS's runs agreeing.
 */
function stalled(rounds: readonly RoundSummary[], tolerance: number): boolean {
  const last = rounds[rounds.length - 1];
  const earlier = rounds.filter((r) => r.betas * 4 === last.betas);
  if (earlier.length === 0) return false;
  const gap = Math.abs(last.gap);
  return gap > tolerance && gap > STALL_RATIO * Math.abs(earlier[earlier.length - 1].gap) && last.essForward >= STALL_MIN_ESS_FRACTION * last.runs;
}

/** One round's bounds with earlier rounds' runs at the same schedule pooled in (their weights side by side). */
export function poolBounds(parts: readonly LogZBounds[], start: ReverseStart, totalSeconds: number): LogZBounds {
  if (parts.length === 1) return parts[0];
  const join = (side: 'forward' | 'reverse'): AISResult => {
    const results = parts.map((p) => p[side]);
    const runs = results.reduce((n, r) => n + r.runs, 0);
    const logWeights = new Float64Array(runs);
    let at = 0;
    for (const r of results) {
      logWeights.set(r.logWeights, at);
      at += r.runs;
    }
    const logZ0 = results[0].logZBase;
    const estimate = side === 'forward' ? aisEstimate(logWeights, logZ0) : reverseAISEstimate(logWeights, logZ0);
    return { ...estimate, logWeights, runs, betas: results[0].betas, seconds: results.reduce((t, r) => t + r.seconds, 0) };
  };
  return combine(join('forward'), join('reverse'), start, totalSeconds);
}

/** The most runs per direction the device's buffers take for this model (states [runs, max(V, H)] float32). */
function deviceRunLimit(model: ModelParams): number {
  const units = Math.max(model.visible, model.hidden);
  return Math.max(1, Math.floor(model.device.limits.maxStorageBufferBindingSize / (4 * units)));
}

/**
 * log Z bracketed by forward and reverse AIS, refined round by round until the
 * band is within `tolerance` of the estimate: each round either doubles the
 * schedule or, when the band's width is the runs' noise, doubles the runs by
 * adding as many new ones at the same schedule and pooling them
 * (planNextRound). It stops at maxBetas, when doubling stops closing the gap
 * (STALL_RATIO), or before the time budget would run out. The reverse start
 * states are drawn once and extended as runs are added.
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
  const runs = options.runs ?? 100;
  checkSize('runs', runs);
  if (options.maxRuns !== undefined) {
    checkSize('maxRuns', options.maxRuns);
    if (options.maxRuns < runs) throw new OptionError(`maxRuns (${options.maxRuns}) must be at least runs (${runs})`, ['maxRuns', 'runs']);
    const r: SizeFactor = { value: options.maxRuns, option: 'maxRuns' };
    checkStorageFactors(model.device, 'AIS visible states', [r, { value: model.visible, what: 'visible units' }]);
    checkStorageFactors(model.device, 'AIS hidden states', [r, { value: model.hidden, what: 'hidden units' }]);
    checkHostFactors('reverse AIS start states', [r, { value: model.visible, what: 'visible units' }]);
  }
  const budget = options.budgetSeconds ?? Infinity;
  if (!(budget > 0)) throw new RangeError(`budgetSeconds must be a positive number of seconds, got ${budget}`);
  const progress = options.onProgress;
  const seed = options.seed ?? 1;
  const reverseStart = await drawReverseStart(model, options);
  progress?.('start', 1, 1);
  // Start states drawn so far (each round's runs take the first ones), and the batches added at this schedule.
  let states = reverseStart.states;
  let drawn = reverseStart.kind === 'data' || options.start instanceof Float32Array ? Infinity : runs;
  const maxRuns = reverseStart.more === undefined ? runs : Math.max(runs, options.maxRuns ?? Math.min(DEFAULT_MAX_RUNS, deviceRunLimit(model)));
  const V = model.visible;
  let batches: LogZBounds[] = [];
  let R = runs;
  let addRuns = false;
  const rounds: LogZBounds[] = [];
  for (;;) {
    const batch = addRuns ? batches.length : 0;
    const count = addRuns ? R / 2 : R;
    let roundStates: Float32Array = states;
    if (addRuns && drawn !== Infinity) {
      const extra = await reverseStart.more!(count, batch);
      const grown = new Float32Array(states.length + extra.length);
      grown.set(states);
      grown.set(extra, states.length);
      states = grown;
      roundStates = extra;
      drawn += count;
    } else if (drawn !== Infinity) {
      roundStates = states.subarray(0, R * V);
    }
    const part = await logZBounds(model, {
      ...options, betas: K, runs: count, seed: batchSeed(seed, batch), reverseStart: { ...reverseStart, states: roundStates },
    });
    batches = addRuns ? [...batches, part] : [part];
    const elapsed = (performance.now() - t0) / 1000;
    const b: LogZBounds = batches.length === 1 ? part : poolBounds(batches, reverseStart, part.seconds.total);
    rounds.push(b);
    options.onRound?.(b);
    const plan = planNextRound(
      [...rounds.slice(0, -1), { ...b, addedRuns: count, seconds: part.seconds }],
      { tolerance, maxBetas, maxRuns, budgetSeconds: budget, elapsedSeconds: elapsed, fixed: options.fixed, stopOnStall: options.stopOnStall },
    );
    if ('stop' in plan) {
      const converged = boundsConverged(b, tolerance);
      return {
        ...b, seconds: { ...b.seconds, start: reverseStart.seconds, total: elapsed }, converged, reason: plan.stop, tolerance, rounds,
      };
    }
    K = plan.betas;
    R = plan.runs;
    addRuns = plan.addRuns;
  }
}
