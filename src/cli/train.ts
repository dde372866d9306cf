// `webgpu-rbm train`: CD-k / PCD-k on the bundled digits or an IDX file, with a
// progress bar, a line per epoch (reconstruction error, speed, free-energy
// gap), the model as safetensors, and optional filter and sample PNGs.
// --checkpoint writes the whole training state every few epochs; --resume
// continues such a run bit-identically (see readResume).
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  checkpointFromSafetensors, checkpointToSafetensors, DEFAULT_CENTERING_RATE, sourceColumnMeans, sourceHead, sourceRows, DEFAULT_REPLICAS, DeviceLostError, DivergenceError, fitPT, freeEnergyGap, imageShapeMetadata, MODEL_FILE_FORMAT, MODEL_KEYS,
  byteColumnStats, MAX_EXACT_LOGZ_UNITS, meanFreeEnergy, RBM, rbmToSafetensors, standardisationMetadata, standardize, trajectoryAis, TrajectoryRecorder, unstandardize,
} from '../index';
import type { EpochStats, FitOptions, FitResult, ImageShape, PTEpochStats, PTFitOptions, PTFitResult, TrainingState } from '../index';
import { choiceOption, flag, intOption, numberOption, parseCommand, positionals, stringOption, withFlagNames } from './args';
import type { OptionSpec, Values } from './args';
import { loadData, MNIST_TEST_COUNT } from './data-node';
import { runTrainPotts, wantsPotts } from './train-potts';
import { CliError, messageOf, UsageError } from './errors';
import { MAX_READ_BYTES, readInput } from './read-input';
import { writeFileAtomic } from './atomic-write';
import { SignalGuard } from './signals';
import { openDevice } from './gpu-node';
import { writeFiltersPng, writeTilesPng } from './images';
import { thresholded } from './metrics';
import {
  aisEstimate, CLI_AIS_BETAS, CLI_AIS_RUNS, enumeratedUnits, exactEstimate, logLikelihood, standardiseWith, TRAIN_EXACT_UNITS,
} from './loglik';
import type { LogZEstimate } from './loglik';
import { EpochLog, RateMeter } from './epoch-log';
import { runTrainStack, wantsStack } from './train-stack';
import {
  checkTrainingPaths, DATA_FLAGS, DEFAULT_GAUSSIAN_LEARNING_RATE, GAUSSIAN_DEFAULTS, readTrainingFlags, SINGLE_RBM_OPTIONS, TRAIN_DEFAULTS, TRAINING_OPTIONS,
} from './train-flags';
import type { TrainingFlags } from './train-flags';
import { fmt, formatCount, Reporter } from './output';
import type { JsonObject, ProgressBar } from './output';

export const TRAIN_HELP = `Usage: webgpu-rbm train [options] --out model.safetensors

Trains an RBM with CD-k, PCD-k or parallel tempering on the GPU and writes it
as safetensors.

Data
  --data mnist|FILE        training images: the bundled 10,000 digits (split by
                           --seed into 8,000 train / ${MNIST_TEST_COUNT} held out) or an IDX
                           images file (*-images-idx3-ubyte[.gz])     [${TRAIN_DEFAULTS.data}]
  --test FILE              IDX images to measure the free-energy gap on
                           (default for mnist: the held-out digits)
  --limit N                use only the first N training images (after the split)
  --binarize MODE          stochastic (resampled each epoch) | threshold (> 0.5)
                                                                  [stochastic]
  --visible TYPE           bernoulli | gaussian: Gaussian visible units on
                           standardised pixels (per-pixel mean/std stored in
                           the model file; no binarization)          [bernoulli]
                           potts: categorical sequences, q one-hot states per
                           site (--data aligned FASTA, or a .npy of integer
                           codes with --states Q); options: docs/potts.md
Model and training
  --hidden N               hidden units                                 [${TRAIN_DEFAULTS.hidden}]
  --epochs E               passes over the training images              [${TRAIN_DEFAULTS.epochs}]
  --batch B                mini-batch size    [${TRAIN_DEFAULTS.batch}; ${GAUSSIAN_DEFAULTS.batch} for --visible gaussian]
  --k K                    Gibbs steps per update                       [${TRAIN_DEFAULTS.k}]
  --pcd                    persistent chains (PCD-k)    [the default; not for
                           --visible gaussian]
  --cd                     chains restarted from the data (CD-k)
  --pt                     parallel tempering for the negative phase (one
                           tempered sweep per update; not with --k or --pcd)
  --chains N               persistent chains for --pcd or --pt; the negative
                           statistics average over them  [--pcd: the batch
                           size, at least ${TRAIN_DEFAULTS.pcdChains}; --pt: the batch size]
  --replicas M             temperatures for --pt                        [${DEFAULT_REPLICAS}]
  --beta-min X             hottest β of --pt's evenly spaced ladder     [0]
  --lr X                   learning rate    [${TRAIN_DEFAULTS.lr}; ${DEFAULT_GAUSSIAN_LEARNING_RATE} for --visible gaussian]
  --lr-schedule S          constant | linear: from --lr down to 0 over the
                           run's --epochs (checkpoints keep it)
                           [${TRAIN_DEFAULTS.lrSchedule}; ${GAUSSIAN_DEFAULTS.lrSchedule} for --visible gaussian]
  --momentum X|hinton      momentum, or hinton: 0.5 for 5 epochs, then 0.9
                           [${TRAIN_DEFAULTS.momentum}; ${GAUSSIAN_DEFAULTS.momentum} for --visible gaussian]
  --centered               centered gradients (Melchior et al. 2016): offsets
                           μ, λ track the data means; binary units only [on]
  --no-centered            the plain gradient
  --centering-rate X       sliding rate of the offsets, in [0, 1]   [${DEFAULT_CENTERING_RATE}]
  --weight-decay X         L2 penalty on W                              [${TRAIN_DEFAULTS.weightDecay}]
  --sparsity-target X      target mean hidden activation (with --sparsity-cost) [0.1]
  --sparsity-cost X        strength of the sparsity penalty; 0 = off    [0]
  --sparsity-decay X       decay of the running activation estimate     [0.9]
  --seed S                 seeds initialisation, shuffling, binarization, split [${TRAIN_DEFAULTS.seed}]
  --data-budget SIZE       GPU memory the training set may take (256MB, 1GiB,
                           bytes); a larger set is streamed from host memory in
                           two blocks of whole batches, with the same results
                           (docs/streaming.md)                           [1GiB]
Stacks of RBMs (a deep belief net)
  --stack H1,H2,…          train RBMs V-H1, H1-H2, … greedily, bottom to top:
                           each one above learns P(h|v) of the one below (of
                           the images thresholded at 0.5). --epochs may list
                           one value per layer; the other training flags,
                           with the defaults above, apply to every layer. Not
                           with --hidden, --pt, --visible gaussian,
                           --eval-every, --log, --checkpoint or --resume. One
                           file holds the stack; transform, classify and
                           sample read it.
Log-likelihood during training
  --eval-every E           every E epochs and after the last: log Z and the
                           average log-likelihood of the training and test
                           images (thresholded at 0.5)
  --eval-method auto|exact|ais|trajectory
                           how --eval-every gets log Z: exact enumeration,
                           forward AIS from the base rate (±3σ), or AIS along
                           this run's trajectory (Béreux et al. 2024: base rate
                           → the model after each epoch so far, adaptive steps).
                           auto: exact when the smaller layer has ≤ ${TRAIN_EXACT_UNITS}
                           units, else AIS                              [auto]
  --ais-betas N            AIS intermediate distributions (trajectory: steps
                           along the whole path) for --eval-every         [${CLI_AIS_BETAS}]
  --ais-runs R             AIS runs for --eval-every                    [${CLI_AIS_RUNS}]
Output
  --out FILE               the model (.safetensors; settings in its __metadata__)
  --filters FILE           PNG of the first up-to-100 hidden units' weights
  --samples FILE           PNG of ${TRAIN_DEFAULTS.sampleChains} Gibbs chains from noise (probabilities)
  --sample-steps N         Gibbs sweeps for --samples                   [${TRAIN_DEFAULTS.sampleSteps}]
  --log FILE               one JSON line per epoch (.jsonl): epoch, updates,
                           seconds, samples/s, reconstruction error, free-energy
                           gap, log-likelihood when evaluated
  --checkpoint FILE        the model and the whole training state (velocities,
                           chains, sparsity estimates, RNG position, epoch,
                           settings) as one .safetensors file, written after
                           every --checkpoint-every epochs and after the last
  --checkpoint-every E     epochs between two checkpoints               [1]
  --resume FILE            continue the run a --checkpoint FILE holds, with its
                           settings, to --epochs in total (default: the run's
                           own); the result is bit-identical to a run that
                           never stopped. Only --epochs, --out, --checkpoint
                           (default: FILE itself), --checkpoint-every, --log,
                           --data, --test (where the files are now), --filters,
                           --samples, --sample-steps and --json may be given
  --json                   print one JSON object on the last line of stdout
                           (lines and progress go to stderr); its seconds and
                           samples_per_second cover the training loop only,
                           setup_seconds (tuning, compiling, upload) and
                           eval_seconds (gaps, log-likelihoods) are apart
  -h, --help               show this help

The free-energy gap is mean F(test) − mean F(train) over equally many images
(thresholded at 0.5); it grows when the model overfits.
Ctrl-C (SIGINT), SIGTERM and SIGHUP stop after the current update and still
write the model (exit 130, 143, 129); a second signal quits at once. Every
file is written to a temp file and renamed, so an interrupted or failed save
leaves the previous file whole. A run whose parameters become NaN or infinite
stops with an error and writes no model.

Example
  webgpu-rbm train --data mnist --hidden 256 --epochs 5 --out out/mnist.safetensors \\
    --filters out/filters.png --samples out/samples.png
`;

const OPTIONS = { ...TRAINING_OPTIONS, ...SINGLE_RBM_OPTIONS } as const satisfies OptionSpec;

/** The flags a resumed run may give: where things are and what it writes, never how it trains. */
export const RESUME_FLAGS = [
  'epochs', 'out', 'checkpoint', 'checkpoint-every', 'log', 'data', 'test', 'filters', 'samples', 'sample-steps', 'data-budget',
] as const;

export interface TrainSettings extends TrainingFlags {
  visible: 'bernoulli' | 'gaussian';
  hidden: number;
  epochs: number;
  pt: boolean;
  replicas?: number;
  betaMin?: number;
  evalEvery?: number;
  evalMethod: EvalMethod;
  aisBetas: number;
  aisRuns: number;
  log?: string;
  checkpoint?: string;
  checkpointEvery: number;
}

/** How --eval-every gets log Z. */
const EVAL_METHODS = ['auto', 'exact', 'ais', 'trajectory'] as const;
type EvalMethod = (typeof EVAL_METHODS)[number];

/** Every flag checked before any file or GPU work. */
export function readTrainSettings(v: Values): TrainSettings {
  const visible = choiceOption(v, 'visible', ['bernoulli', 'gaussian'] as const, 'bernoulli');
  const pt = flag(v, 'pt');
  if (!pt) {
    const stray = ['replicas', 'beta-min'].find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies to --pt; add --pt`);
  }
  if (v['checkpoint-every'] !== undefined && v.checkpoint === undefined) {
    throw new UsageError('--checkpoint-every only applies to --checkpoint; add e.g. --checkpoint run.ckpt.safetensors');
  }
  if (v['eval-every'] === undefined) {
    const stray = ['eval-method', 'ais-betas', 'ais-runs'].find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies to --eval-every; add e.g. --eval-every 1`);
  }
  const flags = readTrainingFlags(v, {
    gaussian: visible === 'gaussian', pt, out: 'FILE (where to write the model, e.g. --out model.safetensors)',
  });
  return {
    ...flags,
    visible,
    hidden: intOption(v, 'hidden', TRAIN_DEFAULTS.hidden),
    epochs: intOption(v, 'epochs', TRAIN_DEFAULTS.epochs),
    pt,
    replicas: pt ? intOption(v, 'replicas', DEFAULT_REPLICAS, 2, 1000) : undefined,
    betaMin: v['beta-min'] === undefined ? undefined : numberOption(v, 'beta-min', 0, { min: 0, max: 1, below: true }),
    evalEvery: v['eval-every'] === undefined ? undefined : intOption(v, 'eval-every', 1),
    evalMethod: choiceOption(v, 'eval-method', EVAL_METHODS, 'auto'),
    aisBetas: intOption(v, 'ais-betas', CLI_AIS_BETAS, 1, 10_000_000),
    aisRuns: intOption(v, 'ais-runs', CLI_AIS_RUNS, 1, 100_000),
    log: stringOption(v, 'log'),
    checkpoint: stringOption(v, 'checkpoint'),
    checkpointEvery: intOption(v, 'checkpoint-every', 1),
  };
}

function momentumLabel(m: number | 'hinton'): string {
  return typeof m === 'number' ? String(m) : m;
}

/** The model file's __metadata__: every value a string, as safetensors requires. */
interface RunRecord {
  reconError: number[];
  gaps: number[];
  cancelled: boolean;
  epochsDone: number;
  evals: EvalRecord[];
  swapAcceptance?: number[];
  standardisation?: { mean: Float32Array; std: Float32Array };
}

/** One --eval-every measurement. */
interface EvalRecord {
  epoch: number;
  z: LogZEstimate;
  train: number;
  trainLow: number;
  trainHigh: number;
  test?: number;
  testLow?: number;
  testHigh?: number;
}

function modelMetadata(s: TrainSettings, shape: ImageShape, V: number, run: RunRecord, source: string): Record<string, string> {
  const meta: Record<string, string> = {
    // The library's schema (src/rbm/model-file.ts) first, in this order; then this command's training record.
    [MODEL_KEYS.format]: MODEL_FILE_FORMAT,
    // "visible" is the unit type in this project's model format, so the sizes get their own keys.
    [MODEL_KEYS.visible]: s.visible,
    [MODEL_KEYS.visibleUnits]: String(V),
    [MODEL_KEYS.hiddenUnits]: String(s.hidden),
    ...imageShapeMetadata(shape),
    epochs: String(run.epochsDone),
    batch: String(s.batch),
    k: s.pt ? '1' : String(s.k),
    pcd: String(s.pcd),
    ...(s.chains !== undefined ? { chains: String(s.chains) } : {}),
    lr: String(s.lr),
    // Only when set, so that a constant-rate, plain run writes the same bytes as before these options.
    ...(s.lrSchedule !== 'constant' ? { lr_schedule: s.lrSchedule } : {}),
    momentum: momentumLabel(s.momentum),
    ...(s.centered !== undefined ? { centered: 'true', centering_rate: String(s.centered) } : {}),
    weight_decay: String(s.weightDecay),
    binarize: s.binarize,
    [MODEL_KEYS.seed]: String(s.seed),
    data: source,
    recon_error: JSON.stringify(run.reconError),
  };
  // No date or host: the same seed and settings give the same file, byte for byte.
  if (s.limit !== undefined) meta.limit = String(s.limit);
  if (s.sparsityCost !== undefined) {
    meta.sparsity_cost = String(s.sparsityCost);
    meta.sparsity_target = String(s.sparsityTarget ?? 0.1);
    if (s.sparsityDecay !== undefined) meta.sparsity_decay = String(s.sparsityDecay);
  }
  if (run.gaps.length > 0) meta.free_energy_gap = JSON.stringify(run.gaps);
  if (s.pt) {
    meta.pt = 'true';
    meta.replicas = String(s.replicas);
    if (s.betaMin !== undefined) meta.beta_min = String(s.betaMin);
    if (run.swapAcceptance) meta.swap_acceptance = JSON.stringify(run.swapAcceptance);
  }
  // Here, not through toSafetensors' standardisation option (which appends it): the key order is the file's bytes.
  if (run.standardisation) Object.assign(meta, standardisationMetadata(run.standardisation, V));
  if (run.evals.length > 0) {
    meta.eval_epochs = JSON.stringify(run.evals.map((e) => e.epoch));
    meta.log_z = JSON.stringify(run.evals.map((e) => e.z.logZ));
    meta.log_z_method = run.evals[0].z.method;
    meta.train_log_likelihood = JSON.stringify(run.evals.map((e) => e.train));
    if (run.evals[0].test !== undefined) meta.test_log_likelihood = JSON.stringify(run.evals.map((e) => e.test));
  }
  if (run.cancelled) meta.cancelled = 'true';
  return meta;
}

/** Checks every output path up front, train's --log and --checkpoint among them. */
async function prepareOutputs(s: TrainSettings): Promise<void> {
  await checkTrainingPaths(s, [
    ...(s.log !== undefined ? [{ flag: '--log', path: s.log, extension: '.jsonl' }] : []),
    ...(s.checkpoint !== undefined ? [{ flag: '--checkpoint', path: s.checkpoint, extension: '.safetensors' }] : []),
  ]);
}
/** The metadata keys a --checkpoint file adds for the command: its flags and the run's history so far. */
export const TRAIN_FLAGS_KEY = 'train_flags';
export const TRAIN_HISTORY_KEY = 'train_history';

/** What the command keeps of the epochs done, so that a resumed run's outputs continue them. */
interface TrainHistory {
  recon_error: number[];
  gaps: number[];
  evals: EvalRecord[];
  epoch_acceptance: number[][];
  /** The --log lines of the epochs done (kept whether or not --log was given). */
  log: string[];
}

/** A run continued from a checkpoint. */
interface Resumed {
  path: string;
  state: TrainingState;
  history: TrainHistory;
  /** The checkpoint's flags with the ones given now (RESUME_FLAGS) over them. */
  values: Values;
}

/**
 * Reads --resume FILE: the training state, the flags of the run it holds and
 * its history. Flags given now replace the checkpoint's only where they say
 * where files are or what is written (RESUME_FLAGS); any other flag must not
 * change the settings (a UsageError names it). --checkpoint defaults to FILE,
 * --epochs to the run's own total.
 */
async function readResume(given: Values): Promise<Resumed> {
  const path = stringOption(given, 'resume') ?? '';
  if (path === '') throw new UsageError('--resume needs a checkpoint file written by train --checkpoint');
  const fail = (why: string): never => {
    throw new CliError(`--resume ${path}: ${why.replace(/\.$/, '')}`);
  };
  const bytes = await readInput(path, {
    label: `--resume ${path}`,
    hint: 'pass a checkpoint written by "webgpu-rbm train --checkpoint"',
    maxBytes: MAX_READ_BYTES,
    kind: 'a checkpoint',
  });
  let loaded: ReturnType<typeof checkpointFromSafetensors> | undefined;
  try {
    loaded = checkpointFromSafetensors(bytes);
  } catch (e) {
    fail(messageOf(e));
  }
  const { state, metadata } = loaded!;
  const parse = (key: string): unknown => {
    if (!Object.hasOwn(metadata, key)) fail(`the checkpoint has no "${key}" metadata: it was not written by train --checkpoint (resume it with the library's fit(…, { resume }))`);
    try {
      return JSON.parse(metadata[key]);
    } catch {
      return fail(`the checkpoint's "${key}" metadata is not JSON; the file is corrupt`);
    }
  };
  const flags = parse(TRAIN_FLAGS_KEY);
  if (flags === null || typeof flags !== 'object' || Array.isArray(flags) ||
    !Object.values(flags).every((x) => typeof x === 'string' || typeof x === 'boolean')) {
    fail(`the checkpoint's "${TRAIN_FLAGS_KEY}" metadata must be an object of flag values; the file is corrupt`);
  }
  const history = parse(TRAIN_HISTORY_KEY) as TrainHistory;
  const lists = ['recon_error', 'gaps', 'evals', 'epoch_acceptance', 'log'] as const;
  if (history === null || typeof history !== 'object' || !lists.every((k) => Array.isArray(history[k])) || history.recon_error.length !== state.epoch) {
    fail(`the checkpoint's "${TRAIN_HISTORY_KEY}" metadata does not hold the ${state.epoch} epochs done; the file is corrupt`);
  }
  const stored = flags as Record<string, string | boolean>;
  const values: Record<string, string | boolean | undefined> = { ...stored, checkpoint: path };
  for (const f of RESUME_FLAGS) if (given[f] !== undefined) values[f] = given[f];
  // A PCD run without --chains kept as many chains as its default gave then (the batch size before
  // the default became max(batch, 50)): the checkpoint's chains say how many.
  if (stored.chains === undefined && state.chains !== undefined && flags !== null) {
    const V = state.visible;
    if (V > 0 && state.chains.length % V === 0) values.chains = String(state.chains.length / V);
  }
  const settings = readTrainSettings(values);
  for (const [f, v] of Object.entries(given)) {
    if (v === undefined || f === 'resume' || f === 'json' || f === 'help' || (RESUME_FLAGS as readonly string[]).includes(f)) continue;
    let differs: boolean;
    try {
      differs = !isDeepStrictEqual(readTrainSettings({ ...values, [f]: v }), settings);
    } catch {
      differs = true; // e.g. --pcd given to a --cd run: the flags contradict each other, so it is a change
    }
    if (differs) {
      const was = stored[f] === undefined ? 'its default' : stored[f] === true ? `--${f}` : `--${f} ${stored[f]}`;
      throw new UsageError(
        `--${f}${v === true ? '' : ` ${v}`} conflicts with the checkpoint's settings (${was}): a resumed run keeps them. ` +
          `With --resume give only ${RESUME_FLAGS.map((x) => `--${x}`).join(', ')} (and --json)`,
      );
    }
  }
  if (settings.lrSchedule === 'linear' && given.epochs !== undefined && settings.epochs !== Number(stored.epochs)) {
    throw new UsageError(
      `--epochs ${settings.epochs} conflicts with the checkpoint's linear --lr-schedule, which decays to 0 at its --epochs ${stored.epochs}: ` +
        'a resumed run keeps the schedule; drop --epochs',
    );
  }
  if (settings.epochs <= state.epoch) {
    throw new UsageError(
      `--resume ${path} has ${state.epoch} epoch(s) done already; --epochs is the total to reach, so give more than ${state.epoch}` +
        (given.epochs === undefined ? ` (the run was for ${settings.epochs})` : ''),
    );
  }
  return { path, state, history, values };
}

/** The flags a checkpoint records: every flag of the run (data paths made absolute), none of resume, json, help. */
function flagsToStore(values: Values, s: TrainSettings): Record<string, string | boolean> {
  const stored: Record<string, string | boolean> = {};
  for (const [f, v] of Object.entries(values)) {
    if (v === undefined || f === 'resume' || f === 'json' || f === 'help') continue;
    stored[f] = v;
  }
  if (s.data !== 'mnist') stored.data = resolve(s.data);
  if (s.test !== undefined) stored.test = resolve(s.test);
  stored.epochs = String(s.epochs);
  // How it trains, spelled out: a checkpoint must resume the same run when a later version changes the defaults.
  stored.batch = String(s.batch);
  stored.lr = String(s.lr);
  stored['lr-schedule'] = s.lrSchedule;
  stored.momentum = momentumLabel(s.momentum);
  stored['weight-decay'] = String(s.weightDecay);
  if (!s.pt) {
    stored.k = String(s.k);
    delete stored.cd;
    delete stored.pcd;
    stored[s.pcd ? 'pcd' : 'cd'] = true;
  }
  if (s.visible !== 'gaussian') {
    delete stored.centered;
    delete stored['no-centered'];
    delete stored['centering-rate'];
    if (s.centered !== undefined) {
      stored.centered = true;
      stored['centering-rate'] = String(s.centered);
    } else {
      stored['no-centered'] = true;
    }
  }
  return stored;
}

/** A diverged run as one line: where, what, the fix, and that --out was left alone. */
function divergedError(e: DivergenceError, s: TrainSettings): CliError {
  const what = e.nonFinite === 'metric' ? 'the reconstruction error' : 'the parameters';
  return new CliError(
    `training diverged in epoch ${e.epoch + 1} (by update ${e.update}): ${what} became NaN or infinite; ` +
      `lower --lr (it was ${s.lr}; try --lr ${fmt(e.suggestedLearningRate, 3)}). ${s.out} was not written`,
  );
}

/** True when every value is finite: the last guard before a model file is written. */
function allFinite(...arrays: Float32Array[]): boolean {
  return arrays.every((a) => a.every(Number.isFinite));
}

export async function runTrain(args: string[]): Promise<number> {
  // --stack H1,H2,…: a stack of RBMs trained greedily (src/cli/train-stack.ts).
  if (wantsStack(args)) return runTrainStack(args);
  // --visible potts: categorical sequences (src/cli/train-potts.ts).
  if (wantsPotts(args)) return runTrainPotts(args);
  const parsed = parseCommand('train', args, OPTIONS);
  positionals(parsed, 'train', []);
  const resumed = parsed.values.resume !== undefined ? await readResume(parsed.values) : undefined;
  const values = resumed?.values ?? parsed.values;
  const s = readTrainSettings(values);
  const out = new Reporter(flag(parsed.values, 'json'));
  await prepareOutputs(s);

  const data = await loadData({ data: s.data, test: s.test, seed: s.seed, limit: s.limit });
  const { train, test } = data;
  const V = train.width * train.height;
  const shape = { width: train.width, height: train.height };
  if (resumed) {
    const r = resumed.state;
    if (r.visible !== V || r.settings.dataRows !== train.count) {
      throw new CliError(
        `--resume ${resumed.path}: the checkpoint was trained on ${formatCount(r.settings.dataRows)} images of ${r.visible} values, ` +
          `but ${s.data === 'mnist' ? 'the bundled digits give' : `--data ${s.data} gives`} ${formatCount(train.count)} of ${V}; resume on the run's own data`,
      );
    }
  }
  if (train.count < s.batch) {
    throw new UsageError(
      `--batch ${s.batch} is larger than the ${train.count} training images; lower --batch${s.limit !== undefined ? ' or raise --limit' : ''}`,
    );
  }
  // The GPU keys its random numbers by a u32 update counter: a run may not wrap it.
  const maxEpochs = Math.floor(0xffffffff / Math.floor(train.count / s.batch));
  if (s.epochs > maxEpochs) {
    throw new UsageError(`--epochs ${s.epochs} × ${Math.floor(train.count / s.batch)} updates per epoch would wrap the GPU's random-number counter; use at most --epochs ${maxEpochs}`);
  }
  const gaussian = s.visible === 'gaussian';
  // Gaussian units see standardised pixels (the training set's per-pixel mean and std, applied to the test set too).
  // 8-bit images stay 8-bit on the GPU: the gather standardises them (fit's standardize option);
  // other real-valued data is standardised here, as float32 rows.
  const byteData = gaussian && !(train.data instanceof Float32Array) && train.data.format === 'u8' ? train.data : undefined;
  const hostStandardised = gaussian && !byteData ? standardize(train.pixels, V) : undefined;
  const standardisation = byteData ? byteColumnStats(byteData.bytes, V) : hostStandardised;
  const trainValues = hostStandardised ? hostStandardised.data : train.data;
  const asModelSees = (pixels: Float32Array): Float32Array =>
    standardisation ? standardiseWith(pixels, standardisation) : thresholded(pixels);

  const gpu = await openDevice();
  let model: RBM | undefined;
  // Signals during training stop after the current update and still save the model.
  const guard = new SignalGuard('finish', (line) => out.warn(line), () => gpu.close());
  try {
    const method = (s.pt ? `PT (${s.replicas} replicas)` : `${s.pcd ? 'PCD' : 'CD'}-${s.k}`) + (s.centered !== undefined ? ', centered' : '');
    out.line(
      `training a ${V}-${s.hidden}${gaussian ? ' Gaussian–Bernoulli' : ''} RBM on ${formatCount(train.count)} ${shape.width}×${shape.height} images from ${data.source}` +
        `${test ? ` (${formatCount(test.count)} held out)` : ''}, ${method}, lr ${s.lr}${s.lrSchedule !== 'constant' ? ` (${s.lrSchedule})` : ''}, batch ${s.batch}, on ${gpu.adapterName}`,
    );
    if (resumed) out.line(`resuming ${resumed.path} after epoch ${resumed.state.epoch} of ${s.epochs}`);
    model = RBM.create(gpu.device, {
      visible: V,
      hidden: s.hidden,
      seed: s.seed,
      visibleType: s.visible,
      // A resumed run starts from the checkpoint's parameters (fit puts them, and the rest of the state, back).
      ...(resumed ? { params: resumed.state.params } : { visibleMarginals: byteData ? new Float32Array(V) : sourceColumnMeans(trainValues, V) }),
    });
    const trained = model;
    // Equally many rows of each set (thresholded, or standardised), made once for every epoch's gap.
    const gapRows = test ? Math.min(train.count, test.count) : 0;
    const trainBinary = test ? asModelSees(sourceRows(sourceHead(train.data, V, gapRows), V)) : undefined;
    const testBinary = test ? asModelSees(test.pixels.subarray(0, gapRows * V)) : undefined;
    // The history of the epochs done: a resumed run continues the checkpoint's.
    const earlier = resumed?.history;
    const gaps: number[] = [...(earlier?.gaps ?? [])];
    const evals: EvalRecord[] = [...(earlier?.evals ?? [])];
    const epochAcceptance: number[][] = [...(earlier?.epoch_acceptance ?? [])];
    const logLines: string[] = [...(earlier?.log ?? [])];
    // For --eval-every: every training and test row, as the model sees them.
    const evalTrain = s.evalEvery !== undefined ? asModelSees(train.pixels) : undefined;
    const evalTest = s.evalEvery !== undefined && test ? asModelSees(test.pixels) : undefined;
    const evalMethod = s.evalMethod === 'auto' ? (enumeratedUnits(trained) <= TRAIN_EXACT_UNITS ? 'exact' : 'ais') : s.evalMethod;
    if (evalTrain && evalMethod === 'exact' && enumeratedUnits(trained) > MAX_EXACT_LOGZ_UNITS) {
      throw new UsageError(
        `--eval-method exact enumerates 2^n states of the smaller layer, which has ${enumeratedUnits(trained)} units (at most ${MAX_EXACT_LOGZ_UNITS}); use --eval-method ais or trajectory`,
      );
    }
    const useExact = evalMethod === 'exact';
    // --eval-method trajectory: the model after every epoch (from the start, or from the resumed
    // model: any path from the base rate is a valid AIS path, a coarser one only less accurate).
    const recorder = evalTrain && evalMethod === 'trajectory' ? new TrajectoryRecorder(trained, { data: evalTrain }) : undefined;
    await recorder?.record(trained);
    let bar: ProgressBar | undefined;

    const trajectoryEstimate = async (rec: TrajectoryRecorder): Promise<LogZEstimate> => {
      const t = await rec.settled();
      const stepsBetween = Math.max(1, Math.round(s.aisBetas / t.snapshots.length));
      const r = await withFlagNames({ runs: '--ais-runs' }, () =>
        trajectoryAis(trained.device, t, { runs: s.aisRuns, stepsBetween, seed: s.seed, allocate: 'adaptive' }),
      );
      return {
        method: 'trajectory', logZ: r.logZ, logZLow: r.logZLow, logZHigh: r.logZHigh, seconds: r.seconds + r.pilotSeconds,
        betas: r.steps, runs: r.runs, effectiveSampleSize: r.effectiveSampleSize,
      };
    };

    const evaluate = async (epoch: number): Promise<string> => {
      if (!evalTrain) return '';
      const z = recorder
        ? await trajectoryEstimate(recorder)
        : useExact
          ? await exactEstimate(trained)
          : await aisEstimate(trained, evalTrain, { betas: s.aisBetas, runs: s.aisRuns, seed: s.seed, flags: { runs: '--ais-runs', betas: '--ais-betas' } });
      const tr = logLikelihood(await meanFreeEnergy(trained, evalTrain), z);
      const rec: EvalRecord = { epoch, z, train: tr.value, trainLow: tr.low, trainHigh: tr.high };
      let text = `  log-lik train ${fmt(tr.value, 6)}`;
      if (evalTest) {
        const te = logLikelihood(await meanFreeEnergy(trained, evalTest), z);
        Object.assign(rec, { test: te.value, testLow: te.low, testHigh: te.high });
        text += ` test ${fmt(te.value, 6)}`;
      }
      evals.push(rec);
      const how = z.method === 'exact' ? 'exact' : `${z.method === 'trajectory' ? 'trajectory AIS' : 'AIS'} ${z.betas}×${z.runs} ±3σ ${fmt(tr.low - tr.value, 2)}/+${fmt(tr.high - tr.value, 2)}, ${fmt(z.seconds, 3)} s`;
      return `${text} (${how})`;
    };

    /** Writes parameters read back from the GPU (or a snapshot) to --out, atomically. */
    const saveModel = (p: { W: Float32Array; b: Float32Array; c: Float32Array }, metadata: Record<string, string>): Promise<void> =>
      writeFileAtomic(s.out, rbmToSafetensors({ visible: V, hidden: s.hidden, W: p.W, b: p.b, c: p.c, metadata, visibleType: s.visible }), `--out ${s.out}`);
    const epochRecon: number[] = [...(earlier?.recon_error ?? [])];
    const log = s.log !== undefined ? new EpochLog(s.log, (line) => out.warn(line), logLines) : undefined;
    const updatesPerEpoch = Math.floor(train.count / s.batch);
    // Time spent in onEpoch (gaps, log-likelihoods, the log) and checkpoints: not training, so not in the training rate.
    let callbackSeconds = 0;
    let checkpointSeconds = 0;
    let epochCallbackEnd = 0;
    let lastCheckpoint: number | undefined;
    let checkpointFailed = false;
    const storedFlags = flagsToStore(values, s);
    /** Writes the whole state after an epoch (its readback counted from the end of onEpoch), atomically; a failure warns. */
    const onCheckpoint = async (state: TrainingState): Promise<void> => {
      const path = s.checkpoint!;
      const run: RunRecord = {
        reconError: epochRecon.slice(0, state.epoch), gaps: gaps.slice(0, state.epoch), cancelled: false, epochsDone: state.epoch,
        evals: evals.filter((x) => x.epoch <= state.epoch), standardisation,
      };
      const history: TrainHistory = {
        recon_error: run.reconError, gaps: run.gaps, evals: run.evals,
        epoch_acceptance: epochAcceptance.slice(0, state.epoch), log: logLines.slice(0, state.epoch),
      };
      try {
        const meta = {
          ...modelMetadata(s, shape, V, run, data.source),
          [TRAIN_FLAGS_KEY]: JSON.stringify(storedFlags),
          [TRAIN_HISTORY_KEY]: JSON.stringify(history),
        };
        await writeFileAtomic(path, checkpointToSafetensors(state, meta), `--checkpoint ${path}`);
        lastCheckpoint = state.epoch;
      } catch (e) {
        if (!checkpointFailed) out.warn(`warning: ${messageOf(e)}; training goes on (the last checkpoint written stays)`);
        checkpointFailed = true;
      }
      const seconds = (performance.now() - epochCallbackEnd) / 1000;
      checkpointSeconds += seconds;
      callbackSeconds += seconds;
    };
    let evalSeconds = 0;
    const onEpoch = async (e: EpochStats | PTEpochStats): Promise<void> => {
      const callbackStart = performance.now();
      bar?.stop();
      bar = undefined;
      epochRecon.push(e.reconError);
      let gapText = '';
      const record: JsonObject = {
        epoch: e.epoch + 1,
        updates: (e.epoch + 1) * updatesPerEpoch,
        seconds: e.seconds,
        samples_per_second: e.samplesPerSecond,
        recon_error: e.reconError,
      };
      const evalStart = performance.now();
      if (trainBinary && testBinary) {
        const gap = await freeEnergyGap(trained, trainBinary, testBinary);
        gaps.push(gap);
        record.free_energy_gap = gap;
        gapText = `  F gap ${gap >= 0 ? '+' : ''}${fmt(gap, 3)}`;
      }
      let swapText = '';
      if ('swapAcceptance' in e) {
        epochAcceptance.push(e.swapAcceptance);
        swapText = `  swaps ${fmt(mean(e.swapAcceptance), 3)} (${fmt(Math.min(...e.swapAcceptance), 2)}–${fmt(Math.max(...e.swapAcceptance), 2)})`;
      }
      const n = e.epoch + 1;
      // WEBGPU_RBM_FAULT=lose-device: the tests' stand-in for a GPU reset after the first epoch.
      if (process.env.WEBGPU_RBM_FAULT === 'lose-device' && n === 1) gpu.device.destroy();
      await recorder?.record(trained);
      const due = s.evalEvery !== undefined && (n % s.evalEvery === 0 || n === s.epochs) && !guard.signal.aborted;
      const llText = due ? await evaluate(n) : '';
      evalSeconds += (performance.now() - evalStart) / 1000;
      if ('swapAcceptance' in e) record.swap_acceptance = e.swapAcceptance;
      const ev = due ? evals[evals.length - 1] : undefined;
      if (ev) {
        Object.assign(record, {
          log_z: ev.z.logZ, log_z_method: ev.z.method, train_log_likelihood: ev.train, test_log_likelihood: ev.test,
        });
      }
      logLines.push(JSON.stringify(record));
      await log?.append(record);
      callbackSeconds += (performance.now() - callbackStart) / 1000;
      epochCallbackEnd = performance.now();
      out.line(
        `epoch ${n}/${s.epochs}  recon ${fmt(e.reconError)}  ${formatCount(e.samplesPerSecond)} samples/s  ${fmt(e.seconds, 3)} s${gapText}${swapText}${llText}`,
      );
    };
    const common = {
      epochs: s.epochs,
      batchSize: s.batch,
      // Linear: the named schedule, so checkpoints record it and --resume continues it.
      learningRate: s.lrSchedule === 'linear' ? { schedule: 'linear' as const, rate: s.lr, epochs: s.epochs } : s.lr,
      momentum: s.momentum,
      // Off spelled out: fit's default for binary units is centered.
      centered: s.centered !== undefined ? { rate: s.centered } : false,
      weightDecay: s.weightDecay,
      sparsityTarget: s.sparsityTarget,
      sparsityCost: s.sparsityCost,
      sparsityDecay: s.sparsityDecay,
      binarize: s.binarize,
      seed: s.seed,
      signal: guard.signal,
      ...(s.chains !== undefined ? { chains: s.chains } : {}),
      ...(s.dataBudget !== undefined ? { dataBudgetBytes: s.dataBudget } : {}),
      ...(byteData && standardisation ? { standardize: standardisation } : {}),
      ...(s.checkpoint !== undefined ? { onCheckpoint, checkpointEvery: s.checkpointEvery } : {}),
      ...(resumed ? { resume: resumed.state } : {}),
      onProgress: (p: { batchesPerEpoch: number; epoch: number; epochStep: number; step: number; seconds: number }) => {
        bar ??= out.bar(p.batchesPerEpoch, `epoch ${p.epoch + 1}/${s.epochs}`);
        // The current rate, not the average since the start (which includes the evaluations between epochs).
        bar.update(p.epochStep, rate.update(p.step * s.batch, p.seconds - callbackSeconds));
      },
      onEpoch,
    };
    const rate = new RateMeter();
    let result: FitResult | PTFitResult;
    const fitStart = performance.now();
    try {
      if (s.pt) {
        const options: PTFitOptions = { ...common, replicas: s.replicas, betaMin: s.betaMin };
        result = await withFlagNames({ ...DATA_FLAGS, chains: s.chains !== undefined ? '--chains' : '--batch', replicas: '--replicas' }, () => fitPT(trained, trainValues, options));
      } else {
        const options: FitOptions = { ...common, k: s.k, persistent: s.pcd };
        result = await withFlagNames({ ...DATA_FLAGS, chains: '--chains' }, () => trained.train(trainValues, options).result);
      }
    } catch (e) {
      if (e instanceof DivergenceError) throw divergedError(e, s);
      if (e instanceof DeviceLostError && e.snapshot && e.snapshot.epoch >= 0) {
        // The GPU is gone, the last completed epoch is not: save it as a stopped run would.
        const done = e.snapshot.epoch + 1;
        const run: RunRecord = {
          reconError: epochRecon.slice(0, done), gaps: gaps.slice(0, done), cancelled: true, epochsDone: done,
          evals: evals.filter((x) => x.epoch <= done), standardisation,
        };
        await saveModel(e.snapshot, { ...modelMetadata(s, shape, V, run, data.source), device_lost: 'true' });
        const how = lastCheckpoint !== undefined
          ? `continue with --resume ${s.checkpoint} (epoch ${lastCheckpoint})`
          : 'continue from it with a new run';
        throw new CliError(`${e.message.replace(/\. Its buffers are gone.*$/, '')}; saved the model after epoch ${done} to ${s.out}; ${how}`);
      }
      throw e;
    }
    bar?.stop();
    // fit's seconds run from its first update to its return, callbacks included; set-up precedes them.
    const trainingSeconds = Math.max(result.seconds - callbackSeconds, 1e-9);
    const setupSeconds = Math.max((performance.now() - fitStart) / 1000 - result.seconds, 0);
    const samplesPerSecond = (result.updates * s.batch) / trainingSeconds;
    if (result.cancelled) {
      out.line(
        `stopped after ${result.epochs.length} complete epoch(s) and ${result.updates} updates` +
          (lastCheckpoint !== undefined ? `; continue with --resume ${s.checkpoint} (epoch ${lastCheckpoint})` : ''),
      );
    }
    if (result.updates === 0) {
      // Nothing was learned: an untrained model must not replace a file the user already has.
      out.line(`nothing written: no update had finished (${s.out} is unchanged)`);
      return guard.exitCode ?? 130;
    }
    const swapAcceptance = 'swapAcceptance' in result ? result.swapAcceptance : undefined;
    if (swapAcceptance) {
      out.line(`swap acceptance per pair (β ${(result as PTFitResult).betas.map((b) => fmt(b, 3)).join(', ')}): ${swapAcceptance.map((a) => fmt(a, 3)).join(' ')}`);
    }

    const epochsBefore = resumed?.state.epoch ?? 0;
    const run: RunRecord = {
      // The whole run's, a resumed one's earlier epochs included.
      reconError: epochRecon,
      gaps,
      cancelled: result.cancelled,
      epochsDone: epochsBefore + result.epochs.length,
      evals,
      swapAcceptance,
      standardisation,
    };
    const metadata = modelMetadata(s, shape, V, run, data.source);
    const params = await model.readParams();
    if (!allFinite(params.W, params.b, params.c)) {
      throw new CliError(`training produced non-finite parameters; lower --lr (now ${s.lr}, try ${s.lr / 10}). ${s.out} was not written`);
    }
    // One readback serves the last check and the file.
    await saveModel(params, metadata);
    // The model is safe on disk: from here a signal quits at once.
    guard.setMode('now');
    out.line(
      `wrote ${s.out} (${V}×${s.hidden}, ${fmt(trainingSeconds, 3)} s of training at ${formatCount(samplesPerSecond)} samples/s; ` +
        `set-up ${fmt(setupSeconds, 3)} s${evalSeconds > 0 ? `, evaluation ${fmt(evalSeconds, 3)} s` : ''})`,
    );
    if (lastCheckpoint !== undefined) out.line(`wrote ${s.checkpoint} (the training state after epoch ${lastCheckpoint}; continue with --resume)`);
    if (s.filters) {
      const n = await writeFiltersPng(s.filters, model, shape);
      out.line(`wrote ${s.filters} (${n} filters)`);
    }
    if (s.samples && guard.received) {
      out.line(`skipped ${s.samples}: stopped by ${guard.received}`);
    } else if (s.samples) {
      const r = await model.sample({ chains: TRAIN_DEFAULTS.sampleChains, steps: s.sampleSteps });
      const images = standardisation ? toPixels(r.probabilities, standardisation.mean, standardisation.std) : r.probabilities;
      await writeTilesPng(s.samples, images, r.chains, shape);
      out.line(`wrote ${s.samples} (${r.chains} chains after ${s.sampleSteps} Gibbs sweeps)`);
    }

    const json: JsonObject = {
      command: 'train',
      visible: V,
      hidden: s.hidden,
      visible_type: s.visible,
      width: shape.width,
      height: shape.height,
      epochs: epochsBefore + result.epochs.length,
      resumed_from: resumed?.path,
      resumed_epochs: resumed ? epochsBefore : undefined,
      batch: s.batch,
      chains: s.chains ?? (s.pcd || s.pt ? s.batch : undefined),
      // Where the training set lived: resident on the GPU or streamed in blocks (--data-budget).
      data_placement: result.data ? { ...result.data } : undefined,
      method: s.pt ? 'pt' : s.pcd ? 'pcd' : 'cd',
      k: s.pt ? 1 : s.k,
      pcd: s.pcd,
      pt: s.pt,
      replicas: s.replicas,
      betas: 'betas' in result ? result.betas : undefined,
      swap_acceptance: swapAcceptance,
      epoch_swap_acceptance: s.pt ? epochAcceptance : undefined,
      lr: s.lr,
      lr_schedule: s.lrSchedule,
      momentum: s.momentum,
      centered: s.centered !== undefined,
      centering_rate: s.centered,
      weight_decay: s.weightDecay,
      binarize: s.binarize,
      seed: s.seed,
      data: data.source,
      train_count: train.count,
      test_count: test?.count,
      updates: result.updates,
      seconds: trainingSeconds,
      samples_per_second: samplesPerSecond,
      setup_seconds: setupSeconds,
      eval_seconds: evalSeconds,
      log: s.log,
      recon_error: epochRecon,
      epoch_seconds: result.epochs.map((e) => e.seconds),
      checkpoint: s.checkpoint,
      checkpoint_epoch: lastCheckpoint,
      checkpoint_seconds: s.checkpoint !== undefined ? checkpointSeconds : undefined,
      free_energy_gap: test ? gaps : undefined,
      cancelled: result.cancelled,
      out: s.out,
      filters: s.filters,
      samples: s.samples,
      adapter: gpu.adapterName,
    };
    if (s.evalEvery !== undefined) {
      Object.assign(json, {
        eval_every: s.evalEvery,
        log_z_method: evalMethod,
        ais_betas: useExact ? undefined : s.aisBetas,
        ais_runs: useExact ? undefined : s.aisRuns,
        eval_epochs: evals.map((e) => e.epoch),
        log_z: evals.map((e) => e.z.logZ),
        log_z_low: evals.map((e) => e.z.logZLow),
        log_z_high: evals.map((e) => e.z.logZHigh),
        log_z_seconds: evals.map((e) => e.z.seconds),
        train_log_likelihood: evals.map((e) => e.train),
        train_log_likelihood_low: evals.map((e) => e.trainLow),
        train_log_likelihood_high: evals.map((e) => e.trainHigh),
        test_log_likelihood: evalTest ? evals.map((e) => e.test ?? null) : undefined,
        test_log_likelihood_low: evalTest ? evals.map((e) => e.testLow ?? null) : undefined,
        test_log_likelihood_high: evalTest ? evals.map((e) => e.testHigh ?? null) : undefined,
      });
    }
    out.result(json);
    return guard.exitCode ?? (result.cancelled ? 130 : 0);
  } finally {
    guard.dispose();
    model?.dispose();
    gpu.close();
  }
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A Gaussian model's visible means back on the pixel scale, clipped to [0, 1] for a PNG. */
export function toPixels(values: Float32Array, m: Float32Array, sd: Float32Array): Float32Array {
  return unstandardize(values, m, sd).map((x) => Math.min(1, Math.max(0, x)));
}
