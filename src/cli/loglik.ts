// log Z and the average log-likelihood for `eval --exact / --ais` and
// `train --eval-every`: exact enumeration of the smaller layer when it is small
// enough, else annealed importance sampling (Salakhutdinov & Murray 2008), and
// the standardisation a Gaussian–Bernoulli model's data goes through.
import {
  ais, applyStandardize, convergedLogZ, DEFAULT_LOGZ_TOLERANCE, DEFAULT_MAX_BETAS, DEFAULT_MAX_RUNS, enumeratedLayer, exactLogZ, MAX_EXACT_LOGZ_UNITS, MODEL_KEYS,
  readModelStandardisation, reverseAis, SafetensorsFormatError,
} from '../index';
import type { ConvergedLogZ, ConvergenceReason, LogZBounds, ModelStandardisation, RBM, ReverseStartKind } from '../index';
import { CliError, messageOf } from './errors';
import { withFlagNames } from './args';

/** The CLI's default AIS schedule: small enough for a CPU Vulkan device (S&M used 14,500 βs). */
export const CLI_AIS_BETAS = 1000;
export const CLI_AIS_RUNS = 100;
/** `train --eval-every` uses exact log Z up to this many units in the enumerated layer, AIS above. */
export const TRAIN_EXACT_UNITS = 20;

export interface LogZEstimate {
  method: 'exact' | 'ais' | 'reverse-ais' | 'trajectory';
  logZ: number;
  /**
   * The band: equal to logZ for exact; from forward and reverse AIS for eval's
   * two-sided --ais (bounds below); the ±3σ spread of one estimator otherwise.
   */
  logZLow: number;
  logZHigh: number;
  seconds: number;
  /** AIS only. */
  betas?: number;
  runs?: number;
  effectiveSampleSize?: number;
  logZBase?: number;
  /** eval --ais: forward and reverse AIS and the schedule's convergence. */
  bounds?: AisBounds;
}

/** The two-sided AIS result as eval reports it. */
export interface AisBounds {
  forward: number;
  reverse: number;
  gap: number;
  essForward: number;
  essReverse: number;
  converged: boolean;
  reason: ConvergenceReason;
  tolerance: number;
  reverseStart: ReverseStartKind;
  /** log Z from the enumeration that drew exact reverse starts (a by-product: the exact value), when there was one. */
  enumerated?: number;
  /** Each round's schedule and estimates, shortest first. */
  rounds: { betas: number; runs: number; forward: number; reverse: number; low: number; high: number; essForward: number; essReverse: number; seconds: number }[];
}

/** How many units exact enumeration would have to go through. */
export function enumeratedUnits(model: Pick<RBM, 'visible' | 'hidden' | 'visibleType'>): number {
  return enumeratedLayer(model) === 'hidden' ? model.hidden : model.visible;
}

export { MAX_EXACT_LOGZ_UNITS };

export async function exactEstimate(model: RBM): Promise<LogZEstimate> {
  const start = performance.now();
  const logZ = await exactLogZ(model);
  return { method: 'exact', logZ, logZLow: logZ, logZHigh: logZ, seconds: (performance.now() - start) / 1000 };
}

/** The AIS options as `eval` spells them. */
const AIS_FLAGS = { runs: '--runs', betas: '--betas' } as const;

export interface AisSettings {
  betas: number;
  runs: number;
  seed: number;
  reverse?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** How the command spells the runs and betas options, for size errors (default eval's --runs, --betas). */
  flags?: { runs: string; betas: string };
}

/** AIS from the base-rate model of `data` (binary rows, or standardised rows for Gaussian units). */
export async function aisEstimate(model: RBM, data: Float32Array, s: AisSettings): Promise<LogZEstimate> {
  const o = { data, betas: s.betas, runs: s.runs, seed: s.seed, onProgress: s.onProgress };
  // Size errors name the command's flags: eval's unless the caller passes its own (train: --ais-runs / --ais-betas).
  const r = await withFlagNames(s.flags ?? AIS_FLAGS, () => (s.reverse ? reverseAis(model, o) : ais(model, o)));
  if (!Number.isFinite(r.logZ)) throw new CliError(`AIS gave log Z = ${r.logZ}; try more --betas or --runs`);
  return {
    method: s.reverse ? 'reverse-ais' : 'ais',
    logZ: r.logZ,
    logZLow: r.logZLow,
    logZHigh: r.logZHigh,
    seconds: r.seconds,
    betas: r.betas,
    runs: r.runs,
    effectiveSampleSize: r.effectiveSampleSize,
    logZBase: r.logZBase,
  };
}

/** The CLI's defaults for eval's two-sided --ais (the library's: 0.3 nats, at most 64,000 βs), plus a time budget. */
export const CLI_AIS_TOLERANCE = DEFAULT_LOGZ_TOLERANCE;
export const CLI_AIS_MAX_BETAS = DEFAULT_MAX_BETAS;
export const CLI_AIS_MAX_RUNS = DEFAULT_MAX_RUNS;
/** Seconds of AIS after which eval --ais starts no further doubling (results past it depend on the machine). */
export const CLI_AIS_BUDGET = 1800;

export interface BoundsSettings {
  /** The first schedule (doubled while not converged), or the only one when `fixed`. */
  betas: number;
  fixed: boolean;
  runs: number;
  seed: number;
  tolerance: number;
  maxBetas: number;
  /** Most runs pooled per direction (default: the library's, capped by the device). */
  maxRuns?: number;
  budgetSeconds: number;
  start: 'auto' | ReverseStartKind;
  /** A line after each round (progress for long evaluations). */
  onRound?: (b: LogZBounds) => void;
  onProgress?: (stage: 'start' | 'forward' | 'reverse', done: number, total: number) => void;
}

/** Flag names for the size and option errors of the two-sided AIS. */
const BOUNDS_FLAGS = { ...AIS_FLAGS, maxBetas: '--max-betas', maxRuns: '--max-runs', tolerance: '--ais-tolerance', budgetSeconds: '--ais-budget' } as const;

/**
 * log Z bracketed by forward AIS and reverse AIS from model samples (exact when
 * the smaller layer has ≤ 26 units, else parallel tempering), the schedule
 * doubled until the band is within the tolerance (see src/rbm/loglik-bounds.ts).
 */
export async function boundsEstimate(model: RBM, data: Float32Array, s: BoundsSettings): Promise<LogZEstimate> {
  const r: ConvergedLogZ = await withFlagNames(BOUNDS_FLAGS, () =>
    convergedLogZ(model, {
      data, betas: s.betas, fixed: s.fixed, runs: s.runs, seed: s.seed, tolerance: s.tolerance, maxBetas: s.maxBetas,
      maxRuns: s.maxRuns, budgetSeconds: s.budgetSeconds, start: s.start, onRound: s.onRound, onProgress: s.onProgress,
    }),
  );
  if (!Number.isFinite(r.logZForward) || !Number.isFinite(r.logZReverse)) {
    throw new CliError(`AIS gave log Z = ${r.logZForward} (forward), ${r.logZReverse} (reverse); try more --runs or a longer schedule`);
  }
  return {
    method: 'ais',
    logZ: r.logZ,
    logZLow: r.logZLow,
    logZHigh: r.logZHigh,
    seconds: r.seconds.total,
    betas: r.betas,
    runs: r.runs,
    effectiveSampleSize: r.essForward,
    logZBase: r.forward.logZBase,
    bounds: {
      forward: r.logZForward,
      reverse: r.logZReverse,
      gap: r.gap,
      essForward: r.essForward,
      essReverse: r.essReverse,
      converged: r.converged,
      reason: r.reason,
      tolerance: r.tolerance,
      reverseStart: r.reverseStart,
      ...(r.enumeratedLogZ !== undefined ? { enumerated: r.enumeratedLogZ } : {}),
      rounds: r.rounds.map((b) => ({
        betas: b.betas, runs: b.runs, forward: b.logZForward, reverse: b.logZReverse, low: b.logZLow, high: b.logZHigh,
        essForward: b.essForward, essReverse: b.essReverse, seconds: b.seconds.forward + b.seconds.reverse,
      })),
    },
  };
}

/** Average log-likelihood −mean F − log Z and its band (a higher log Z gives a lower likelihood). */
export function logLikelihood(meanF: number, z: LogZEstimate): { value: number; low: number; high: number } {
  return { value: -meanF - z.logZ, low: -meanF - z.logZHigh, high: -meanF - z.logZLow };
}

export interface Standardisation {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * A Gaussian model's stored standardisation (the library's schema, read by
 * `RBM.fromSafetensors` too), or a one-line error naming the key and what is
 * wrong with it: missing, not JSON, not an array, the wrong length, a
 * non-finite value, or a standard deviation ≤ 0.
 */
export function readStandardisation(metadata: Record<string, string>, visible: number, path: string): ModelStandardisation {
  for (const key of [MODEL_KEYS.mean, MODEL_KEYS.std]) {
    if (metadata[key] === undefined) {
      throw new CliError(
        `model ${path}: a Gaussian model needs metadata "${key}" (a JSON array of ${visible} numbers, written by "webgpu-rbm train --visible gaussian")`,
      );
    }
  }
  try {
    return readModelStandardisation(metadata, visible)!;
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new CliError(`model ${path}: ${messageOf(e).replace(/\.$/, '')}`);
    throw e;
  }
}

export function standardiseWith(pixels: Float32Array, s: Standardisation): Float32Array {
  return applyStandardize(pixels, s.mean, s.std);
}
