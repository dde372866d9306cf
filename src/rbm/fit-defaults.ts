// fit's defaults, per visible unit type, and the one function that fills them
// in: what `fit` / `train` (and `trainPT`) use for a training option the
// caller leaves out. The CLI's `train` defaults (src/cli/train-flags.ts) are
// these same constants, so the library and the command train alike.
//
//   bernoulli: docs/defaults-sweep.md's winner (exact test log-likelihoods of
//              784-20 and 784-25 models on the bundled digits): PCD-1 with
//              max(batch, 50) persistent chains, the rate decaying linearly
//              from 0.1 to 0 over the run, no momentum, centered gradients;
//   gaussian:  the settings Gaussian units were tuned with (the sweep measured
//              binary units only): CD-1, a constant 0.002, 'hinton' momentum,
//              no centering (centering is for binary units only); PCD, if
//              asked for, with max(batch, 50) chains as the CLI's --pcd;
//   potts:     fit's earlier defaults, unmeasured for Potts units: CD-1, a
//              constant 0.05, 'hinton' momentum, no centering, PCD chains =
//              the batch.
//
// A resumed run (`resume`) takes what it leaves out from the checkpoint's
// recorded settings instead, so a run checkpointed under other defaults
// continues as it started.
import type { TrainingSettings } from './checkpoint';
import type { VisibleType } from './model-file';
import type { LearningRateSchedule, Schedule } from './training-common';

/** The binary-unit learning rate: where the linear schedule starts. */
export const DEFAULT_LEARNING_RATE = 0.1;

/**
 * Gaussian visible units on standardised data: the visible activations are
 * unbounded, so the rate must be far smaller than for binary units (the
 * practical range is about 0.001–0.005; 0.1 diverges).
 */
export const DEFAULT_GAUSSIAN_LEARNING_RATE = 0.002;

/** PCD's persistent chains when `chains` is not given: max(batchSize, this) (docs/defaults-sweep.md, third sweep). */
export const PCD_MIN_CHAINS = 50;

/** The training options whose defaults depend on the visible units. */
export interface FitDefaults {
  k: number;
  persistent: boolean;
  learningRate: number | Readonly<LearningRateSchedule>;
  momentum: number | 'hinton';
  weightDecay: number;
  centered: boolean;
}

/** Binary (bernoulli) visible units: PCD-1, linear decay from 0.1, no momentum, centered (chains: pcdChains). */
export const BINARY_FIT_DEFAULTS = {
  k: 1,
  persistent: true,
  learningRate: { schedule: 'linear', rate: DEFAULT_LEARNING_RATE },
  momentum: 0,
  weightDecay: 1e-4,
  centered: true,
} as const satisfies FitDefaults;

/** Gaussian visible units: CD-1, a constant DEFAULT_GAUSSIAN_LEARNING_RATE, 'hinton' momentum, not centered. */
export const GAUSSIAN_FIT_DEFAULTS = {
  k: 1,
  persistent: false,
  learningRate: DEFAULT_GAUSSIAN_LEARNING_RATE,
  momentum: 'hinton',
  weightDecay: 1e-4,
  centered: false,
} as const satisfies FitDefaults;

/** Potts visible units: fit's earlier defaults (CD-1, a constant 0.05, 'hinton' momentum, not centered). */
export const POTTS_FIT_DEFAULTS = {
  k: 1,
  persistent: false,
  learningRate: 0.05,
  momentum: 'hinton',
  weightDecay: 1e-4,
  centered: false,
} as const satisfies FitDefaults;

/** The defaults of each visible unit type. */
export const FIT_DEFAULTS: { readonly [T in VisibleType]: FitDefaults } = {
  bernoulli: BINARY_FIT_DEFAULTS,
  gaussian: GAUSSIAN_FIT_DEFAULTS,
  potts: POTTS_FIT_DEFAULTS,
};

/** PCD's default persistent chains for a batch size: max(batchSize, PCD_MIN_CHAINS) (the CLI's --pcd, every unit type). */
export function pcdChains(batchSize: number): number {
  return Math.max(batchSize, PCD_MIN_CHAINS);
}

/** fit's PCD chains when `chains` is left out: pcdChains(batchSize), but batchSize for Potts units (fit's earlier default). */
export function defaultPcdChains(batchSize: number, visibleType: VisibleType): number {
  return visibleType === 'potts' ? batchSize : pcdChains(batchSize);
}

/** The options withFitDefaults reads and fills (FitOptions' and PTFitOptions' common part). */
export interface DefaultableOptions {
  batchSize: number;
  k?: number;
  persistent?: boolean;
  chains?: number;
  learningRate?: Schedule | LearningRateSchedule;
  momentum?: Schedule | 'hinton';
  weightDecay?: number;
  centered?: boolean | { rate?: number };
  /** A checked training state (checkTrainingState): what it leaves out comes from its settings. */
  resume?: { settings: TrainingSettings };
}

type Filled = Required<Pick<DefaultableOptions, 'learningRate' | 'momentum' | 'weightDecay' | 'centered'>>;

/**
 * `options` (fit's) with every default filled in for a model with
 * `visibleType` units: k, persistent, learningRate, momentum, weightDecay,
 * centered, and for PCD chains (defaultPcdChains). With `resume`, what is
 * left out comes from the checkpoint's settings. Options the caller gave are
 * kept as given (bad ones are for the checks to refuse).
 */
export function withFitDefaults<O extends DefaultableOptions>(
  options: O, visibleType: VisibleType,
): O & Filled & { k: number; persistent: boolean; chains?: number } {
  const d = recordedDefaults(options, visibleType, 'gibbs');
  const persistent = options.persistent ?? d.persistent;
  const chains = options.chains ?? (persistent ? d.chains ?? defaultPcdChains(options.batchSize, visibleType) : undefined);
  return { ...fillCommon(options, d), k: options.k ?? d.k, persistent, ...(chains !== undefined ? { chains } : {}) };
}

/**
 * withFitDefaults for parallel tempering (trainPT): the same learningRate,
 * momentum, weightDecay and centered; chains stays at the batch size (or a
 * resumed PT checkpoint's); no k or persistent.
 */
export function withTemperingDefaults<O extends DefaultableOptions>(options: O, visibleType: VisibleType): O & Filled {
  const d = recordedDefaults(options, visibleType, 'tempering');
  const filled = fillCommon(options, d);
  return options.chains === undefined && d.chains !== undefined ? { ...filled, chains: d.chains } : filled;
}

function fillCommon<O extends DefaultableOptions>(options: O, d: Fallbacks): O & Filled {
  return {
    ...options,
    learningRate: options.learningRate ?? d.learningRate,
    momentum: options.momentum ?? d.momentum,
    weightDecay: options.weightDecay ?? d.weightDecay,
    centered: options.centered ?? d.centered,
  };
}

/** What withFitDefaults falls back on: the unit type's defaults, or a resumed checkpoint's settings. */
interface Fallbacks {
  k: number;
  persistent: boolean;
  learningRate: Schedule | LearningRateSchedule;
  momentum: Schedule | 'hinton';
  weightDecay: number;
  centered: boolean | { rate?: number };
  chains?: number;
}

/** The unit type's defaults, overridden by a resumed checkpoint's recorded settings. */
function recordedDefaults(options: DefaultableOptions, visibleType: VisibleType, phase: 'gibbs' | 'tempering'): Fallbacks {
  const base: FitDefaults = FIT_DEFAULTS[visibleType] ?? FIT_DEFAULTS.bernoulli;
  const d: Fallbacks = { ...base, learningRate: copySchedule(base.learningRate) };
  const s = options.resume?.settings;
  if (!s) return d;
  // The negative phase comes only from a checkpoint of the same kind (else the resume check names the method).
  const samePhase = phase === 'tempering' ? s.method === 'pt' : s.method !== 'pt';
  return {
    // A function of the epoch is recorded as null: nothing to continue with (the resume check names it).
    learningRate: s.learningRate === null ? d.learningRate
      : s.learningRateDecay ? { schedule: 'linear', rate: s.learningRate, epochs: s.learningRateDecay.epochs }
      : s.learningRate,
    momentum: s.momentum ?? d.momentum,
    weightDecay: s.weightDecay,
    centered: s.centered !== undefined ? { rate: s.centered } : false,
    k: samePhase && phase === 'gibbs' ? s.k : d.k,
    persistent: samePhase && phase === 'gibbs' ? s.method === 'pcd' : d.persistent,
    ...(samePhase && s.method !== 'cd' ? { chains: s.chains } : {}),
  };
}

/** A default learning rate as an option (a named schedule copied, so no caller shares the constant). */
export function copySchedule(lr: FitDefaults['learningRate']): number | LearningRateSchedule {
  return typeof lr === 'number' ? lr : { ...lr };
}
