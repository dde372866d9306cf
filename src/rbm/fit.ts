// The training loop: epochs of gathered mini-batches on the GPU, submitted in
// chunks so progress events, pause and cancel never stall the GPU (the next
// chunk is queued before the previous one is awaited) and a page keeps
// repainting. Metrics are reduced on the GPU and read back once per epoch.
import { shuffledPermutation } from '../data/split';
import { isByteSource, sourceColumnMeans, sourceLength, sourceRows, type DataSource } from '../data/source';
import { BINARIZE_MODES, type BinarizeMode, type GatherStandardisation } from './dataset';
import { StreamedDataset, uploadTrainingData, type DataPlacement } from './streamed-dataset';
import { DeviceLostError, raceLoss } from '../gpu/lost';
import { SubmitRunner } from '../gpu/runner';
import { readFloat32, writeArray } from '../gpu/buffers';
import type { TrainableModel } from './params';
import { CDTrainer, type Hyperparameters } from './trainer';
import type { TileShape } from '../gpu/kernels';
import type { TileChoice } from '../gpu/tune';
import { checkTrainingState, type TrainingSettings, type TrainingState } from './checkpoint';
import {
  checkBelow, checkBoolean, checkEnum, checkFiniteNumber, checkFunction, checkSeed, checkSize, showValue,
} from './validate';
import {
  checkNamedSchedule, checkScheduleOption, controlledRun, firstBatch, isNamedSchedule, momentumAt, now, resolveLearningRate, scheduleAt,
  type LearningRateSchedule, type RunControl, type Schedule,
} from './training-common';
import {
  countNonFinite, DivergenceError, FiniteMonitor, type FiniteProbe, type NonFiniteCounts, type ParamSnapshot,
} from './divergence';
import { MAX_CD_K } from '../host/rng-streams';
import { visibleUnit } from '../units';
import { BINARY_FIT_DEFAULTS, copySchedule, FIT_DEFAULTS, withFitDefaults } from './fit-defaults';

export type { Schedule, LearningRateSchedule };

/** The centered offsets' default sliding rate ν (Melchior et al. 2016 use 0.01–0.1). */
export const DEFAULT_CENTERING_RATE = 0.01;

/**
 * What fit does by default for binary (bernoulli) visible units, with the
 * CLI's batch size 20: the settings docs/defaults-sweep.md measured best
 * (exact test log-likelihoods of 784-20 and 784-25 models on the bundled
 * digits, 10 epochs) and the CLI's defaults: PCD-1 (max(batchSize, 50)
 * persistent chains), the rate decaying linearly from 0.1 to 0 over the run,
 * no momentum, centered gradients. BINARY_FIT_DEFAULTS (src/rbm/fit-defaults.ts)
 * without the batch size; other unit types have their own (FIT_DEFAULTS).
 */
export const RECOMMENDED_FIT_OPTIONS = {
  batchSize: 20,
  ...BINARY_FIT_DEFAULTS,
} as const satisfies Partial<FitOptions>;

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /**
   * GEMM tile shapes: 'auto' (default) times the candidates once per device
   * and size before the first update; a shape (or one per kernel) starts at
   * once. Results are bit-identical for every tile, so this only moves time.
   */
  tile?: 'auto' | TileShape | TileChoice;
  /** Gibbs steps per update (default 1). */
  k?: number;
  /**
   * PCD-k instead of CD-k (default true for binary visible units, false for
   * Gaussian and Potts ones: FIT_DEFAULTS in src/rbm/fit-defaults.ts).
   */
  persistent?: boolean;
  /**
   * Persistent chains N (PCD and parallel tempering; default max(batchSize,
   * 50) for PCD, batchSize for parallel tempering and for PCD on Potts
   * units). The negative statistics
   * average over the N chains (weight 1/N), the positive over the batch
   * (1/B). They start at the first N rows of epoch 0's shuffle.
   */
  chains?: number;
  /**
   * Learning rate: a number, a function of the epoch, or a named schedule
   * ({ schedule: 'linear', rate: 0.2 }: decaying linearly to 0 over the run),
   * which checkpoints record so a resumed run continues it (default for
   * binary visible units { schedule: 'linear', rate: 0.1 }; Gaussian: a
   * constant 0.002, DEFAULT_GAUSSIAN_LEARNING_RATE; Potts: a constant 0.05).
   */
  learningRate?: Schedule | LearningRateSchedule;
  /**
   * Momentum, a function of the epoch, or 'hinton': 0.5 for 5 epochs, then
   * 0.9 (default 0 for binary visible units, 'hinton' for Gaussian and Potts ones).
   */
  momentum?: Schedule | 'hinton';
  /** L2 weight decay on W (default 1e-4). */
  weightDecay?: number;
  /**
   * Centered gradients (Montavon & Müller 2012; Melchior et al. 2016): the
   * updates centre v and h on offsets μ, λ (kept on the GPU, in checkpoints),
   * sliding averages of the batches' data means with rate ν (`true`: ν =
   * DEFAULT_CENTERING_RATE). μ starts at the training data's means, λ at 0.5.
   * Binary visible units only (default true for them, false for the others).
   */
  centered?: boolean | { rate?: number };
  sparsityTarget?: number;
  /** Strength of the sparsity penalty; 0 turns it off (default 0). */
  sparsityCost?: number;
  sparsityDecay?: number;
  /** How intensities become binary: 'stochastic' (per epoch, default), 'threshold', or 'none' (data already 0/1). */
  binarize?: BinarizeMode;
  threshold?: number;
  /** Seeds shuffling and binarization (default: the model's seed). */
  seed?: number;
  /** Updates per command buffer (default 32): the grain of progress, pause and cancel. */
  updatesPerSubmit?: number;
  /**
   * GPU bytes the training set may take (default DEFAULT_DATA_BUDGET_BYTES,
   * 1 GiB). A set that needs more is streamed: two blocks of whole batches on
   * the GPU, refilled from host memory each epoch in the same shuffled order,
   * with bit-identical results (docs/streaming.md).
   */
  dataBudgetBytes?: number;
  /**
   * Gaussian visible units on 8-bit data (a u8 DataSource): standardise each
   * column in the gather, x ↦ fround(fround(x − mean) · fround(1 / std)) with
   * x = byte / 255 (standardizeInGather), so the set stays at 1 byte per value
   * on the GPU instead of a float32 copy at 4.
   */
  standardize?: GatherStandardisation;
  /** The most bytes per resident shard buffer (default, and at most, the device's storage limit); for tests and benchmarks. */
  maxShardBytes?: number;
  onProgress?: (p: TrainingProgress) => void;
  /** Called after each epoch's metrics are back; may be async (e.g. an evaluation). */
  onEpoch?: (e: EpochStats) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * Read W, b, c back after every epoch (default true), so that if the device
   * is lost the DeviceLostError carries the last completed epoch's parameters,
   * and if training diverges the model goes back to them (DivergenceError).
   * With false, only the parameters training started from are kept: a
   * divergence restores those.
   */
  snapshots?: boolean;
  /**
   * Called with the run's whole state (TrainingState: parameters, velocities,
   * chains, sparsity estimates, update counter, epoch, settings) after every
   * `checkpointEvery`-th whole epoch (counted from the first epoch of the
   * original run) and after the last; may be async, e.g. to write it with
   * checkpointToSafetensors. Training waits for it. A cancelled run's partial
   * epoch is never checkpointed.
   */
  onCheckpoint?: (state: TrainingState) => void | Promise<void>;
  /** Epochs between two checkpoints (default 1). */
  checkpointEvery?: number;
  /**
   * Continues a checkpointed run: the model gets the state's parameters and
   * velocities, the trainer its update counter, sparsity estimates and
   * chains, and training goes on from epoch `resume.epoch` to `epochs` (the
   * total, as in the original run), bit-identical to a run that never
   * stopped. The options must agree with the checkpoint's settings (a
   * RangeError names the first that differs), and the model with its sizes,
   * unit type and seed; the data set must have as many rows. Options left
   * out (k, persistent, chains, learningRate, momentum, weightDecay,
   * centered) take the checkpoint's settings, not the defaults: a run
   * checkpointed under earlier defaults continues as it started.
   */
  resume?: TrainingState;
}

/** counter[0], the update step keying the GPU's RNG, is a u32: a run may not take more steps than this. */
export const MAX_RNG_STEPS = 0xffffffff;

export interface TrainingProgress {
  epoch: number;
  /** Updates finished in this epoch and in all (in this run: a resumed run counts from 0). */
  epochStep: number;
  step: number;
  batchesPerEpoch: number;
  samplesPerSecond: number;
  seconds: number;
}

export interface EpochStats {
  epoch: number;
  /** Mean per-pixel squared error of the one-step reconstructions of the epoch's batches. */
  reconError: number;
  seconds: number;
  samplesPerSecond: number;
  learningRate: number;
  momentum: number;
}

export interface FitResult {
  epochs: EpochStats[];
  /** Where the training set lived: resident, or streamed (with its block size). */
  data?: DataPlacement;
  reconError: number[];
  updates: number;
  seconds: number;
  samplesPerSecond: number;
  cancelled: boolean;
}

export type TrainingRun = RunControl<FitResult>;

/**
 * Starts training `model` on `data` ([N, V] intensities in [0, 1]). The result
 * rejects with a RangeError for a bad option (nothing changed), ModelBusyError
 * if the model is already training, and DivergenceError if the parameters or
 * metrics stop being finite (the model back on the last finite snapshot).
 */
export function train(model: TrainableModel, data: DataSource, options: FitOptions): TrainingRun {
  return controlledRun(options?.signal, async (gate, isCancelled) => {
    // Before runEpochs's own checks, so bad input changes nothing (and reports the option's name).
    checkOptionsObject(options);
    if (options.k !== undefined) {
      checkSize('k', options.k);
      if (options.k > MAX_CD_K) throw new RangeError(`k must be at most ${MAX_CD_K}, got ${options.k}`);
    }
    if (options.persistent !== undefined) checkBoolean('persistent', options.persistent);
    // A resumed run's defaults are its checkpoint's settings: checked before they are read.
    if (options.resume !== undefined) checkTrainingState(options.resume, 'resume');
    const o = withFitDefaults(options, model.visibleType);
    const phase: NegativePhase<EpochStats> = {
      k: o.k,
      persistent: o.persistent,
      start: async (trainer, first) => {
        if (trainer.persistent) trainer.initChains(first(trainer.chains));
      },
      encode: (encoder, trainer, n) => trainer.encodeUpdates(encoder, n),
      epochStats: async (stats) => stats,
    };
    if (options.chains !== undefined && !phase.persistent && options.chains !== options.batchSize) {
      throw new RangeError(
        `chains (${options.chains}) only applies to persistent training: CD-k starts its chains from the batch; ` +
          'use persistent: true (PCD) or trainPT, or leave chains out',
      );
    }
    return runEpochs(model, data, o, gate, isCancelled, {
      settings: { method: phase.persistent ? 'pcd' : 'cd', k: phase.k },
      make: () => Promise.resolve(phase),
    });
  });
}

function checkOptionsObject(o: unknown): void {
  if (o === null || typeof o !== 'object') throw new RangeError(`training options must be an object, got ${showValue(o)}`);
}

/** Checks every option of the epoch loop (types, ranges, enums), before anything is allocated. */
export function checkLoopOptions(o: EpochLoopOptions<EpochStats>): void {
  checkOptionsObject(o);
  checkSize('epochs', o.epochs);
  checkSize('batchSize', o.batchSize);
  if (o.updatesPerSubmit !== undefined) checkSize('updatesPerSubmit', o.updatesPerSubmit);
  if (o.dataBudgetBytes !== undefined && !(Number.isSafeInteger(o.dataBudgetBytes) && o.dataBudgetBytes >= 1)) {
    throw new RangeError(`dataBudgetBytes must be a positive whole number of bytes, got ${showValue(o.dataBudgetBytes)}`);
  }
  if (o.binarize !== undefined) checkEnum('binarize', o.binarize, BINARIZE_MODES);
  if (o.standardize !== undefined && o.binarize !== undefined && o.binarize !== 'none') {
    throw new RangeError(`standardize (Gaussian units on 8-bit data) never binarizes; drop binarize: '${o.binarize}'`);
  }
  if (o.threshold !== undefined) checkFiniteNumber('threshold', o.threshold);
  if (o.seed !== undefined) checkSeed('seed', o.seed);
  if (isNamedSchedule(o.learningRate)) checkNamedSchedule(o.learningRate);
  else if (o.learningRate !== undefined) checkScheduleOption('learningRate', o.learningRate, o.epochs);
  if (o.centered !== undefined) checkCenteredOption(o.centered);
  if (o.momentum !== undefined) checkScheduleOption('momentum', o.momentum, o.epochs);
  if (o.weightDecay !== undefined) checkFiniteNumber('weightDecay', o.weightDecay, 0);
  if (o.sparsityTarget !== undefined) {
    checkBelow('sparsityTarget', o.sparsityTarget, 0, 1);
    // The CLI refuses the same: a target of 0 drives every unit off, and a target alone does nothing.
    if (o.sparsityTarget === 0) throw new RangeError('sparsityTarget must be above 0 (a target of 0 switches every hidden unit off)');
    if (o.sparsityCost === undefined) {
      throw new RangeError('sparsityTarget has no effect without sparsityCost; add e.g. sparsityCost: 0.01');
    }
  }
  if (o.sparsityCost !== undefined) checkFiniteNumber('sparsityCost', o.sparsityCost, 0);
  if (o.sparsityDecay !== undefined) checkBelow('sparsityDecay', o.sparsityDecay, 0, 1);
  if (o.onProgress !== undefined) checkFunction('onProgress', o.onProgress);
  if (o.onEpoch !== undefined) checkFunction('onEpoch', o.onEpoch);
  if (o.snapshots !== undefined) checkBoolean('snapshots', o.snapshots);
  if (o.chains !== undefined) checkSize('chains', o.chains);
  if (o.onCheckpoint !== undefined) checkFunction('onCheckpoint', o.onCheckpoint);
  if (o.checkpointEvery !== undefined) checkSize('checkpointEvery', o.checkpointEvery);
  if (o.resume !== undefined) checkTrainingState(o.resume, 'resume');
}

function checkCenteredOption(c: unknown): void {
  if (typeof c === 'boolean') return;
  if (c === null || typeof c !== 'object') throw new RangeError(`centered must be true, false or { rate }, got ${showValue(c)}`);
  const rate = (c as { rate?: unknown }).rate;
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
    throw new RangeError(`centered.rate must be a number in [0, 1] (the offsets' sliding rate), got ${showValue(rate)}`);
  }
}

/** The offsets' rate of a centered option, or undefined for the plain update. */
function centeringRate(c: FitOptions['centered']): number | undefined {
  if (c === undefined || c === false) return undefined;
  return c === true ? DEFAULT_CENTERING_RATE : c.rate ?? DEFAULT_CENTERING_RATE;
}

/**
 * Where an update's negative phase comes from. CD-k / PCD-k use the trainer's
 * own Gibbs passes; parallel tempering (pt-train.ts) writes its chains' states
 * into the trainer's negative rows (k = 0, persistent) before each update.
 */
export interface NegativePhase<E extends EpochStats> {
  k: number;
  persistent: boolean;
  /** Before the first update of a fresh run; `first(n)` is epoch 0's first n shuffled rows, binarized as the GPU will. */
  start(trainer: CDTrainer, first: (rows: number) => Float32Array): Promise<void>;
  /** Encodes n whole updates. */
  encode(encoder: GPUCommandEncoder, trainer: CDTrainer, n: number): void;
  /** The epoch's statistics, with whatever this phase adds (read after the epoch). */
  epochStats(stats: EpochStats): Promise<E>;
  /**
   * Instead of start() in a resumed run, after the trainer has its state back
   * (its chains included): puts the phase's own state back (parallel tempering's replicas).
   */
  resume?(trainer: CDTrainer, state: TrainingState): Promise<void>;
  /** The phase's own part of a checkpoint, read after the epoch's updates. */
  checkpoint?(): Promise<Pick<TrainingState, 'tempering'>>;
  dispose?(): void;
}

/** What a checkpoint records of a negative phase: its method, k and (parallel tempering) the ladder and its options. */
export type PhaseSettings = Pick<TrainingSettings, 'method' | 'k'> &
  Partial<Pick<TrainingSettings, 'betas' | 'sweepsPerUpdate' | 'swapEvery' | 'chainSeed'>>;

/** The negative phase a loop runs: its settings, how far its RNG moves per update, and how to make it. */
export interface PhaseSpec<E extends EpochStats> {
  settings: PhaseSettings;
  /**
   * How far the phase's own RNG step counter (a u32 on the GPU) moves per
   * update (parallel tempering: its sweeps per update; default 1).
   */
  rngStepsPerUpdate?: number;
  /**
   * Runs after the input checks, so a bad option changes nothing. `first(n)`:
   * the first n rows of epoch 0's shuffle, binarized as the GPU will (where
   * chains start); `resume`: the state a resumed run continues.
   */
  make(first: (rows: number) => Float32Array, seed: number, resume?: TrainingState): Promise<NegativePhase<E>>;
}

/** Options every training loop shares (FitOptions minus how the negative phase is sampled). */
export type EpochLoopOptions<E extends EpochStats> = Omit<FitOptions, 'k' | 'persistent' | 'onEpoch'> & {
  onEpoch?: (e: E) => void | Promise<void>;
};

/**
 * The epoch loop: checks, GPU data set, trainer, chunked submits with one
 * chunk queued ahead, progress, pause/cancel, per-epoch metrics, snapshots
 * and checkpoints. `spec.make` runs after the input checks, so a bad option
 * changes nothing.
 *
 * The run holds the model (ModelBusyError for a second run) until it ends.
 * After every submitted chunk the GPU counts non-finite values of W, b, c,
 * their velocities and the metrics (finite_check.wgsl, read back when the
 * chunk has run); the epoch's mean error and each snapshot are checked on the
 * CPU. On any of them the run stops, the model gets back the last finite
 * snapshot (epoch −1: the parameters it started from; a resumed run: the
 * checkpoint's) and the promise rejects with a DivergenceError.
 *
 * A resumed run (o.resume) checks the checkpoint against the options, the
 * model and the data set before anything changes, then puts every part of
 * the state back and runs epochs [resume.epoch, epochs): the shuffle and
 * binarization of each epoch, the schedules and the RNG steps are those of
 * the absolute epoch and update, so the result is bit-identical to a run
 * that never stopped. Its result counts this run's epochs and updates.
 */
export async function runEpochs<E extends EpochStats>(
  model: TrainableModel,
  data: DataSource,
  o: EpochLoopOptions<E>,
  gate: () => Promise<void>,
  isCancelled: () => boolean,
  spec: PhaseSpec<E>,
): Promise<Omit<FitResult, 'epochs'> & { epochs: E[] }> {
  model.assertLive();
  checkLoopOptions(o as EpochLoopOptions<EpochStats>);
  const chunk = o.updatesPerSubmit ?? 32;
  const V = model.visible;
  const B = o.batchSize;
  // train and trainPT fill in the defaults (withFitDefaults: PCD's chains included); these fallbacks are theirs.
  const defaults = FIT_DEFAULTS[model.visibleType];
  const chainCount = o.chains ?? B;
  const gaussian = model.visibleType === 'gaussian';
  if (o.standardize !== undefined && !gaussian) {
    throw new RangeError(`standardize is for Gaussian visible units on 8-bit data; this model's visible units are ${model.visibleType}`);
  }
  // Potts units train on one-hot rows as given (src/units/potts.ts); a row that is not one-hot is an error naming the fix.
  const potts = checkPottsData(model, data, o.binarize);
  const binarize = o.binarize ?? (gaussian || potts ? 'none' : 'stochastic');
  if (gaussian && binarize !== 'none') {
    throw new RangeError("a Gaussian RBM trains on real values: use binarize: 'none' (and standardised data)");
  }
  const seed = (o.seed ?? model.seed) >>> 0;
  const threshold = o.threshold ?? 0.5;
  const lrOption = resolveLearningRate(o.learningRate ?? copySchedule(defaults.learningRate), o.epochs);
  const learningRate = lrOption.at;
  const centering = centeringRate(o.centered ?? defaults.centered);
  if (centering !== undefined && model.visibleType !== 'bernoulli') {
    throw new RangeError(`centered gradients support binary (bernoulli) visible units only, not ${model.visibleType}; leave centered out`);
  }
  const momentum = o.momentum ?? defaults.momentum;
  const resume = o.resume;
  const startEpoch = resume?.epoch ?? 0;
  const every = o.checkpointEvery ?? 1;
  // (checkLoopOptions checked constant schedules and the first epochs of function ones.)
  const n = data instanceof Float32Array || isByteSource(data) ? sourceLength(data) : 0;
  if (n > 0 && n % V === 0) {
    const rows = n / V;
    const perEpoch = Math.floor(rows / B);
    if (perEpoch < 1) throw new RangeError(`the data set has ${rows} rows, fewer than one batch of ${B}`);
    checkRngSteps(o.epochs, perEpoch, spec.rngStepsPerUpdate ?? 1);
  }
  const release = model.lockForTraining();
  let dataset: ReturnType<typeof uploadTrainingData>['dataset'] | undefined;
  let trainer: CDTrainer | undefined;
  let phase: NegativePhase<E> | undefined;
  let monitor: FiniteMonitor | undefined;
  let snapshot: ParamSnapshot | undefined;
  // Chunks submitted and not yet settled (drained before a divergence restores the snapshot).
  let runner: SubmitRunner<ChunkCheck> | undefined;
  try {
    // A budget too small even to stream throws here, before anything is allocated.
    const uploaded = uploadTrainingData(model.device, data, V, {
      requireBinary: binarize === 'none' && !gaussian, realValued: gaussian, batchSize: B, dataBudgetBytes: o.dataBudgetBytes,
      ...(o.maxShardBytes !== undefined ? { maxShardBytes: o.maxShardBytes } : {}),
      ...(o.standardize !== undefined ? { standardize: o.standardize } : {}),
    });
    dataset = uploaded.dataset;
    const placement = uploaded.placement;
    // Streamed: no submit crosses a block's end, and each block's first submit sends up the next block.
    const stream = dataset instanceof StreamedDataset ? dataset : undefined;
    const N = dataset.count;
    const batches = Math.floor(N / B);
    if (batches < 1) throw new RangeError(`the data set has ${N} rows, fewer than one batch of ${B}`);
    const settings: TrainingSettings = {
      ...spec.settings,
      batchSize: B,
      chains: chainCount,
      seed,
      binarize,
      threshold,
      learningRate: lrOption.rate,
      ...(lrOption.decay ? { learningRateDecay: lrOption.decay } : {}),
      momentum: typeof momentum === 'function' ? null : momentum,
      ...(centering !== undefined ? { centered: centering } : {}),
      // The values the GPU applies (src/gpu/hyper.ts defaults).
      weightDecay: o.weightDecay ?? defaults.weightDecay,
      sparsityTarget: o.sparsityTarget ?? 0.1,
      sparsityCost: o.sparsityCost ?? 0,
      sparsityDecay: o.sparsityDecay ?? 0.9,
      dataRows: N,
    };
    if (resume) {
      checkResume(resume, model, settings, o.epochs, batches, spec.rngStepsPerUpdate ?? 1);
      snapshot = { epoch: resume.epoch - 1, W: resume.params.W.slice(), b: resume.params.b.slice(), c: resume.params.c.slice() };
    } else {
      // The parameters training starts from: where a divergence in the first epoch goes back to.
      const initial = await model.readParams();
      for (const [name, a] of Object.entries(initial)) {
        if (countNonFinite(a) > 0) {
          throw new RangeError(`the model's parameter ${name} is not finite before training; load or create a finite model`);
        }
      }
      snapshot = { epoch: -1, ...initial };
    }
    const first = (rows: number): Float32Array => firstBatch(data, V, rows, shuffledPermutation(N, seed, 0), binarize, threshold, seed);
    phase = await spec.make(first, seed, resume);
    model.assertLive();
    trainer = await CDTrainer.create(model, {
      batchSize: B,
      chains: chainCount,
      k: phase.k,
      persistent: phase.persistent,
      metricsCapacity: batches,
      tile: o.tile,
      // μ from the training data's means (a resumed run gets its offsets back below).
      ...(centering !== undefined
        ? { centered: { rate: centering, ...(resume ? {} : { visibleOffset: Float32Array.from(sourceColumnMeans(data, V)) }) } }
        : {}),
    });
    trainer.bindDataset(dataset, { binarize, threshold, seed });
    monitor = await FiniteMonitor.create(model, trainer.metricsBuffer, batches);
    const base: Omit<Hyperparameters, 'learningRate' | 'momentum'> = {
      weightDecay: o.weightDecay ?? defaults.weightDecay,
      sparsityTarget: o.sparsityTarget,
      sparsityCost: o.sparsityCost,
      sparsityDecay: o.sparsityDecay,
    };
    trainer.setHyperparameters({ ...base, learningRate: scheduleAt(learningRate, startEpoch, 'learningRate') });
    if (resume) {
      // Parameters, then their velocities (restoreParams clears them), then the trainer's and the phase's state.
      model.restoreParams(resume.params);
      writeVelocities(model, resume.velocities);
      trainer.restoreState({
        step: resume.updates, hiddenMean: resume.hiddenMean,
        ...(resume.chains ? { chains: resume.chains } : {}), ...(resume.offsets ? { offsets: resume.offsets } : {}),
      });
      await phase.resume?.(trainer, resume);
    } else {
      await phase.start(trainer, first);
    }

    const device = model.device;
    const start = now();
    const epochs: E[] = [];
    let done = 0; // updates of this run known to have finished on the GPU
    const diverged = (
      epoch: number, update: number, lr: number, nonFinite: 'parameters' | 'metric', counts: NonFiniteCounts,
    ): DivergenceError => new DivergenceError({ snapshot: snapshot!, epoch, update, nonFinite, counts, learningRate: lr });
    // One chunk queued behind the one waited for: the GPU never idles on us.
    runner = new SubmitRunner<ChunkCheck>(device, {
      depth: 2,
      settled: async ({ submitted, value: f }) => {
        const counts = await raceLoss(device, f.check!);
        if (counts.parameters + counts.velocities > 0) throw diverged(f.epoch, submitted, f.lr, 'parameters', counts);
        if (counts.metrics > 0) throw diverged(f.epoch, submitted, f.lr, 'metric', counts);
        done = submitted;
        const seconds = (now() - start) / 1000;
        o.onProgress?.({
          epoch: f.epoch,
          epochStep: f.epochStep,
          step: done,
          batchesPerEpoch: batches,
          samplesPerSecond: (done * B) / Math.max(seconds, 1e-9),
          seconds,
        });
      },
    });

    const t = trainer;
    const p = phase;
    /** The whole state after `epochsDone` epochs (read after every update submitted so far). */
    const capture = async (epochsDone: number): Promise<TrainingState> => {
      const H = model.hidden;
      const [params, W, b, c, state, own] = await Promise.all([
        model.readParams(),
        readFloat32(device, model.optimiser.W, V * H),
        readFloat32(device, model.optimiser.b, V),
        readFloat32(device, model.optimiser.c, H),
        t.readState(),
        p.checkpoint?.(),
      ]);
      return {
        visible: V, hidden: H, visibleType: model.visibleType, modelSeed: model.seed,
        epoch: epochsDone, updates: state.step,
        params, velocities: { W, b, c }, hiddenMean: state.hiddenMean,
        ...(settings.method === 'pcd' && state.chains ? { chains: state.chains } : {}),
        ...(state.offsets ? { offsets: state.offsets } : {}),
        ...(own?.tempering ? { tempering: own.tempering } : {}),
        settings: structuredClone(settings),
      };
    };

    let stopped = false;
    for (let epoch = startEpoch; epoch < o.epochs && !stopped; epoch++) {
      const epochStart = now();
      const lr = scheduleAt(learningRate, epoch, 'learningRate');
      const mom = momentumAt(momentum, epoch);
      trainer.setHyperparameters({ ...base, learningRate: lr, momentum: mom });
      trainer.startEpoch(epoch, shuffledPermutation(N, seed, epoch));
      const m = monitor;
      const chunks = await runner.steps({
        total: batches,
        chunk: stream ? (done) => Math.min(chunk, stream.updatesLeftInBlock(done)) : chunk,
        label: (first, n) => `epoch ${epoch} updates ${first}+${n}`,
        gate,
        cancelled: isCancelled,
        encode: (encoder, first, n): ChunkCheck => {
          p.encode(encoder, t, n);
          return { probe: m.encode(encoder), epoch, epochStep: first + n, lr, first };
        },
        // The probe's staging buffer is mapped once its command buffer is submitted.
        submitted: (c) => {
          c.check = m.read(c.probe);
          stream?.submitted(c.first);
        },
      });
      stopped = chunks.cancelled;
      const epochUpdates = chunks.submitted;
      if (epochUpdates === 0) break;
      const metrics = await trainer.readMetrics(epochUpdates);
      await runner.drain();
      const seconds = (now() - epochStart) / 1000;
      let sum = 0;
      for (const m of metrics) sum += m;
      const reconError = sum / metrics.length;
      if (!Number.isFinite(reconError)) {
        throw diverged(epoch, done, lr, 'metric', { parameters: 0, velocities: 0, metrics: Math.max(1, countNonFinite(metrics)) });
      }
      const stats = await phase.epochStats({
        epoch,
        reconError,
        seconds,
        samplesPerSecond: (epochUpdates * B) / Math.max(seconds, 1e-9),
        learningRate: lr,
        momentum: mom,
      });
      epochs.push(stats);
      if (o.snapshots !== false) {
        const p = await model.readParams();
        const bad = countNonFinite(p.W, p.b, p.c);
        if (bad > 0) throw diverged(epoch, done, lr, 'parameters', { parameters: bad, velocities: 0, metrics: 0 });
        snapshot = { epoch, ...p };
      }
      await o.onEpoch?.(stats);
      // Whole epochs only: a cancelled run's partial epoch cannot be resumed from.
      const complete = epochUpdates === batches;
      if (o.onCheckpoint && complete && ((epoch + 1) % every === 0 || epoch + 1 === o.epochs)) {
        await o.onCheckpoint(await capture(epoch + 1));
      }
    }
    await runner.drain();
    const seconds = (now() - start) / 1000;
    return {
      epochs,
      reconError: epochs.map((e) => e.reconError),
      updates: done,
      seconds,
      samplesPerSecond: (done * B) / Math.max(seconds, 1e-9),
      cancelled: isCancelled(),
      data: placement,
    };
  } catch (e) {
    if (e instanceof DeviceLostError && snapshot) e.snapshot = snapshot;
    if (e instanceof DivergenceError) {
      // Let the chunk queued behind the diverged one finish, then put the snapshot back (velocities cleared).
      await runner?.abandon();
      model.restoreParams(e.snapshot);
    }
    throw e;
  } finally {
    trainer?.dispose();
    phase?.dispose?.();
    monitor?.dispose();
    dataset?.dispose();
    release();
  }
}

/** Writes the momentum buffers of W, b, c (after restoreParams, which zeroes them). */
function writeVelocities(model: TrainableModel, v: TrainingState['velocities']): void {
  const d = model.device;
  writeArray(d, model.optimiser.W, 0, v.W);
  writeArray(d, model.optimiser.b, 0, v.b);
  writeArray(d, model.optimiser.c, 0, v.c);
}

/**
 * Checks that a resumed run continues the checkpoint's: the model's sizes,
 * unit type and seed, every setting, the data set's rows and the counters.
 * Throws a RangeError naming the first difference.
 */
function checkResume(
  r: TrainingState, model: TrainableModel, settings: TrainingSettings, epochs: number, batches: number, stepsPerUpdate: number,
): void {
  const shape = (v: number, h: number, type: string, seed: number): string => `a ${v}-${h} ${type} model with seed ${seed}`;
  if (r.visible !== model.visible || r.hidden !== model.hidden || r.visibleType !== model.visibleType || r.modelSeed !== model.seed) {
    throw new RangeError(
      `resume: the checkpoint is of ${shape(r.visible, r.hidden, r.visibleType, r.modelSeed)}, ` +
        `this model is ${shape(model.visible, model.hidden, model.visibleType, model.seed)}`,
    );
  }
  const s = r.settings;
  if (s.dataRows !== settings.dataRows) {
    throw new RangeError(`resume: the checkpoint was trained on ${s.dataRows} rows, this data set has ${settings.dataRows}`);
  }
  const show = (x: unknown): string => (x === null ? 'a function of the epoch' : x === undefined ? 'nothing (off)' : JSON.stringify(x));
  const keys = new Set([...Object.keys(s), ...Object.keys(settings)] as (keyof TrainingSettings)[]);
  for (const key of keys) {
    if (JSON.stringify(s[key]) !== JSON.stringify(settings[key])) {
      throw new RangeError(`resume: the checkpoint was trained with ${key} = ${show(s[key])}, these options give ${show(settings[key])}`);
    }
  }
  if (epochs < r.epoch) {
    throw new RangeError(`resume: the checkpoint has ${r.epoch} epochs done, more than epochs = ${epochs} (the total to reach)`);
  }
  if (r.updates !== r.epoch * batches) {
    throw new RangeError(
      `resume: the checkpoint's update counter is ${r.updates}, but ${r.epoch} epochs of ${batches} updates make ${r.epoch * batches}; the checkpoint is inconsistent`,
    );
  }
  if (r.tempering && r.tempering.steps !== r.updates * stepsPerUpdate) {
    throw new RangeError(
      `resume: the checkpoint's tempered chains ran ${r.tempering.steps} sweeps, but ${r.updates} updates of ${stepsPerUpdate} make ${r.updates * stepsPerUpdate}; the checkpoint is inconsistent`,
    );
  }
}

/** What each submitted chunk of updates carries to its settling: its finite check and where it was. */
interface ChunkCheck {
  probe: FiniteProbe;
  /** The probe's counts, read from when the chunk is submitted. */
  check?: Promise<NonFiniteCounts>;
  epoch: number;
  /** Updates of the epoch submitted up to this chunk's end. */
  epochStep: number;
  /** The chunk's first update within the epoch. */
  first: number;
  lr: number;
}

/** Rejects a run whose RNG step counter (a u32 on the GPU) would wrap, naming `epochs`. */
function checkRngSteps(epochs: number, batches: number, stepsPerUpdate: number): void {
  const steps = epochs * batches * stepsPerUpdate;
  if (steps > MAX_RNG_STEPS) {
    const per = batches * stepsPerUpdate;
    throw new RangeError(
      `epochs = ${epochs} is too many: ${epochs} epochs × ${batches} updates per epoch` +
        (stepsPerUpdate > 1 ? ` × ${stepsPerUpdate} sweeps per update` : '') +
        ` = ${steps} RNG steps, past ${MAX_RNG_STEPS} (2^32 − 1), where the GPU's u32 step counter would wrap and ` +
        `repeat its random numbers. Use at most ${Math.floor(MAX_RNG_STEPS / per)} epochs per run ` +
        '(continue in a further run with another seed).',
    );
  }
}

/** A Potts model's training data: one-hot rows, used as given (binarize 'none'); true for Potts models. */
function checkPottsData(model: TrainableModel, data: DataSource, binarize: BinarizeMode | undefined): boolean {
  const unit = visibleUnit(model);
  if (!unit.grouped) return false;
  if (binarize !== undefined && binarize !== 'none') {
    throw new RangeError(`a Potts RBM trains on one-hot rows as given: use binarize: 'none' (got '${binarize}')`);
  }
  unit.checkStates('training data', data instanceof Float32Array ? data : sourceRows(data, model.visible), model.visible);
  return true;
}
