// The training flags that `train` and `train --stack` share: their option
// specification, their defaults and one reader that checks them, so that a
// stack's layers take the same flags, with the same defaults and messages, as
// a single RBM. Each command adds and reads its own flags (train: --hidden,
// --pt, --eval-every, --checkpoint, …; a stack: --stack and per-layer --epochs).
import {
  BINARY_FIT_DEFAULTS, DEFAULT_CENTERING_RATE, DEFAULT_GAUSSIAN_LEARNING_RATE, DEFAULT_LEARNING_RATE, GAUSSIAN_FIT_DEFAULTS, PCD_MIN_CHAINS, pcdChains,
} from '../index';
import { choiceOption, flag, intOption, numberOption, requiredString, seedOption, stringOption } from './args';
import type { OptionSpec, Values } from './args';
import { UsageError } from './errors';
import { checkOutputPaths } from './output-paths';
import type { InputPath, OutputPath } from './output-paths';

/**
 * The binary-unit defaults (PCD-1, batch 20, DEFAULT_LEARNING_RATE decaying
 * linearly to 0, no momentum, centered gradients) won the sweep in
 * docs/defaults-sweep.md: exact test log-likelihoods of 784-20 and 784-25
 * models after 10 epochs. They are the library's own (BINARY_FIT_DEFAULTS and
 * GAUSSIAN_FIT_DEFAULTS, src/rbm/fit-defaults.ts), so fit trains alike.
 */
export { DEFAULT_GAUSSIAN_LEARNING_RATE, DEFAULT_LEARNING_RATE };

/** --lr-schedule: constant, or linear (from --lr down to 0 over the run's --epochs). */
export const LR_SCHEDULES = ['constant', 'linear'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** The defaults of binary (bernoulli) visible units, for a single RBM and for every layer of a stack. */
export const TRAIN_DEFAULTS = {
  data: 'mnist', hidden: 256, epochs: 5, batch: 20, k: BINARY_FIT_DEFAULTS.k, pcd: BINARY_FIT_DEFAULTS.persistent,
  lr: BINARY_FIT_DEFAULTS.learningRate.rate, momentum: BINARY_FIT_DEFAULTS.momentum, lrSchedule: BINARY_FIT_DEFAULTS.learningRate.schedule,
  centered: BINARY_FIT_DEFAULTS.centered, weightDecay: BINARY_FIT_DEFAULTS.weightDecay, seed: 1, sampleSteps: 1000, sampleChains: 100,
  /** PCD's persistent chains when --chains is not given: max(--batch, this) (docs/defaults-sweep.md, third sweep). */
  pcdChains: PCD_MIN_CHAINS,
} as const satisfies {
  pcd: boolean; lrSchedule: LrSchedule; centered: boolean; momentum: number | 'hinton'; [key: string]: unknown;
};

/**
 * --visible gaussian keeps the settings it was tuned with (the sweep measured
 * binary units only): CD-1, batch 100, a constant rate, 'hinton' momentum, no centering.
 */
export const GAUSSIAN_DEFAULTS = {
  batch: 100, pcd: GAUSSIAN_FIT_DEFAULTS.persistent, lr: GAUSSIAN_FIT_DEFAULTS.learningRate, momentum: GAUSSIAN_FIT_DEFAULTS.momentum,
  lrSchedule: 'constant', centered: GAUSSIAN_FIT_DEFAULTS.centered,
} as const;

/** The library options behind the data flags, for its errors (OptionError, DeviceLimitError) via withFlagNames. */
export const DATA_FLAGS = { dataBudgetBytes: '--data-budget', batchSize: '--batch' } as const;

/** The flags every training run takes (readTrainingFlags reads all but --visible and --epochs). */
export const TRAINING_OPTIONS = {
  data: { type: 'string' },
  test: { type: 'string' },
  limit: { type: 'string' },
  binarize: { type: 'string' },
  visible: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  k: { type: 'string' },
  pcd: { type: 'boolean' },
  cd: { type: 'boolean' },
  chains: { type: 'string' },
  lr: { type: 'string' },
  'lr-schedule': { type: 'string' },
  centered: { type: 'boolean' },
  'no-centered': { type: 'boolean' },
  'centering-rate': { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'sparsity-target': { type: 'string' },
  'sparsity-cost': { type: 'string' },
  'sparsity-decay': { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  filters: { type: 'string' },
  samples: { type: 'string' },
  'sample-steps': { type: 'string' },
  'data-budget': { type: 'string' },
} as const satisfies OptionSpec;

/** train's flags for a single RBM only (a stack parses them to refuse each by name). */
export const SINGLE_RBM_OPTIONS = {
  hidden: { type: 'string' },
  pt: { type: 'boolean' },
  replicas: { type: 'string' },
  'beta-min': { type: 'string' },
  'eval-every': { type: 'string' },
  'eval-method': { type: 'string' },
  'ais-betas': { type: 'string' },
  'ais-runs': { type: 'string' },
  log: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
} as const satisfies OptionSpec;

/** The settings readTrainingFlags reads: how each RBM trains, on what, and what is written. */
export interface TrainingFlags {
  data: string;
  test?: string;
  limit?: number;
  binarize: 'stochastic' | 'threshold' | 'none';
  batch: number;
  k: number;
  pcd: boolean;
  /** Persistent chains (--pcd: default max(batch, 50); --pt: default undefined, as many as the batch). */
  chains?: number;
  lr: number;
  lrSchedule: LrSchedule;
  momentum: number | 'hinton';
  /** Centered gradients: the offsets' sliding rate; undefined: the plain gradient. */
  centered?: number;
  weightDecay: number;
  sparsityTarget?: number;
  sparsityCost?: number;
  sparsityDecay?: number;
  seed: number;
  out: string;
  filters?: string;
  samples?: string;
  sampleSteps: number;
  /** --data-budget: the GPU bytes the training set may take before it is streamed (undefined: the library's 1 GiB). */
  dataBudget?: number;
}

/** What the command has decided before the shared flags are read. */
export interface TrainingFlagsContext {
  /** Gaussian visible units: GAUSSIAN_DEFAULTS, no binarization, no centering. */
  gaussian: boolean;
  /** Whether --pt was given; undefined where the command has no --pt (a stack), so that no message offers it. */
  pt?: boolean;
  /** What --out needs, for the message when it is missing, e.g. "FILE (where to write the model, …)". */
  out: string;
}

/** Every shared flag checked, with its cross-checks, before any file or GPU work. */
export function readTrainingFlags(v: Values, context: TrainingFlagsContext): TrainingFlags {
  const { gaussian } = context;
  const pt = context.pt === true;
  if (gaussian && v.binarize !== undefined) {
    throw new UsageError('--visible gaussian trains on standardised pixels and never binarizes; drop --binarize');
  }
  if (pt && gaussian) throw new UsageError('--pt supports binary (bernoulli) visible units only; drop --pt or --visible gaussian');
  if (pt && flag(v, 'pcd')) throw new UsageError('--pt and --pcd are two different negative phases; choose one');
  if (flag(v, 'cd') && (pt || flag(v, 'pcd'))) throw new UsageError(`--cd and --${pt ? 'pt' : 'pcd'} are two different negative phases; choose one`);
  if (flag(v, 'centered') && flag(v, 'no-centered')) throw new UsageError('--centered and --no-centered contradict each other; choose one');
  const defaults = gaussian ? GAUSSIAN_DEFAULTS : TRAIN_DEFAULTS;
  const centered = flag(v, 'centered') || (defaults.centered && !flag(v, 'no-centered'));
  if (gaussian && centered) {
    throw new UsageError('--centered supports binary (bernoulli) visible units only; drop --centered or --visible gaussian');
  }
  if (v['centering-rate'] !== undefined && !centered) {
    throw new UsageError('--centering-rate only applies to centered gradients; add --centered (or drop --no-centered)');
  }
  // PCD unless --cd or --pt (or the default is CD).
  const pcd = !pt && (flag(v, 'pcd') || (defaults.pcd && !flag(v, 'cd')));
  if (pt && v.k !== undefined) throw new UsageError('--pt runs one tempered sweep per update; drop --k');
  if (v.chains !== undefined && !pt && !pcd) {
    const phases = context.pt === undefined ? '--pcd' : '--pcd or --pt';
    throw new UsageError(`--chains only applies to ${phases} (CD-k starts its chains from the batch); add ${phases}`);
  }
  const batch = intOption(v, 'batch', defaults.batch);
  const flags: TrainingFlags = {
    data: stringOption(v, 'data') ?? TRAIN_DEFAULTS.data,
    test: stringOption(v, 'test'),
    limit: v.limit === undefined ? undefined : intOption(v, 'limit', 0),
    binarize: gaussian ? 'none' : choiceOption(v, 'binarize', ['stochastic', 'threshold'] as const, 'stochastic'),
    batch,
    k: intOption(v, 'k', TRAIN_DEFAULTS.k, 1, 10_000),
    pcd,
    chains: v.chains !== undefined
      ? intOption(v, 'chains', 1)
      : pcd ? pcdChains(batch) : undefined,
    lr: numberOption(v, 'lr', defaults.lr, { min: 0, above: true }),
    lrSchedule: choiceOption(v, 'lr-schedule', LR_SCHEDULES, defaults.lrSchedule),
    momentum: readMomentum(stringOption(v, 'momentum'), defaults.momentum),
    centered: centered ? numberOption(v, 'centering-rate', DEFAULT_CENTERING_RATE, { min: 0, max: 1 }) : undefined,
    weightDecay: numberOption(v, 'weight-decay', TRAIN_DEFAULTS.weightDecay, { min: 0 }),
    sparsityTarget: numberOption(v, 'sparsity-target', undefined, { min: 0, max: 1, above: true, below: true }),
    sparsityCost: numberOption(v, 'sparsity-cost', undefined, { min: 0 }),
    sparsityDecay: numberOption(v, 'sparsity-decay', undefined, { min: 0, max: 1, below: true }),
    seed: seedOption(v, TRAIN_DEFAULTS.seed),
    out: requiredString(v, 'train', 'out', context.out),
    filters: stringOption(v, 'filters'),
    samples: stringOption(v, 'samples'),
    sampleSteps: intOption(v, 'sample-steps', TRAIN_DEFAULTS.sampleSteps),
    dataBudget: v['data-budget'] === undefined ? undefined : byteSize('data-budget', stringOption(v, 'data-budget') ?? ''),
  };
  if (flags.sparsityTarget !== undefined && flags.sparsityCost === undefined) {
    throw new UsageError('--sparsity-target has no effect without --sparsity-cost; add e.g. --sparsity-cost 0.01');
  }
  return flags;
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30,
};

/** A byte count: plain bytes or a number with a unit (`256MB`, `1.5GiB`; kB/MB/GB are powers of 1000). */
export function byteSize(option: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new UsageError(`--${option} must be a size in bytes, e.g. 256MB, 1GiB or 268435456; got ${JSON.stringify(text)}`);
  }
  return bytes;
}

function readMomentum(s: string | undefined, fallback: number | 'hinton'): number | 'hinton' {
  if (s === undefined) return fallback;
  if (s === 'hinton') return 'hinton';
  const m = s.trim() === '' ? NaN : Number(s);
  if (!(m >= 0 && m < 1)) throw new UsageError(`--momentum must be a number in [0, 1) or "hinton", got "${s}"`);
  return m;
}

/**
 * Checks every output path up front (--out, --filters, --samples and the
 * command's `more`): a typo should not cost a training run, nor an output
 * overwrite an input (--data, --test).
 */
export async function checkTrainingPaths(s: TrainingFlags, more: OutputPath[] = []): Promise<void> {
  const inputs: InputPath[] = [];
  if (s.data !== 'mnist') inputs.push({ flag: '--data', path: s.data });
  if (s.test !== undefined) inputs.push({ flag: '--test', path: s.test });
  await checkOutputPaths(
    [
      { flag: '--out', path: s.out, extension: '.safetensors' },
      ...(s.filters !== undefined ? [{ flag: '--filters', path: s.filters, extension: '.png' }] : []),
      ...(s.samples !== undefined ? [{ flag: '--samples', path: s.samples, extension: '.png' }] : []),
      ...more,
    ],
    inputs,
  );
}
