// The training loop: epochs of gathered mini-batches on the GPU, submitted in
// chunks so progress events, pause and cancel never stall the GPU (the next
// chunk is queued before the previous one is awaited) and a page keeps
// repainting. Metrics are reduced on the GPU and read back once per epoch.
import { shuffledPermutation } from '../data/split';
import { GpuDataset, type BinarizeMode } from './dataset';
import { DeviceLostError, raceLoss } from '../gpu/lost';
import type { RBM } from './model';
import type { CDTrainer, Hyperparameters } from './trainer';
import { checkSize } from './validate';
import {
  controlledRun, firstBatch, momentumAt, now, scheduleAt, type RunControl, type Schedule,
} from './training-common';

export type { Schedule };

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** Gibbs steps per update (default 1). */
  k?: number;
  /** PCD-k instead of CD-k (default false). */
  persistent?: boolean;
  /** Learning rate, or a function of the epoch (default 0.05). */
  learningRate?: Schedule;
  /** Momentum, a function of the epoch, or 'hinton': 0.5 for 5 epochs, then 0.9 (default). */
  momentum?: Schedule | 'hinton';
  /** L2 weight decay on W (default 1e-4). */
  weightDecay?: number;
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
  onProgress?: (p: TrainingProgress) => void;
  /** Called after each epoch's metrics are back; may be async (e.g. an evaluation). */
  onEpoch?: (e: EpochStats) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * Read W, b, c back after every epoch (default true), so that if the device
   * is lost the DeviceLostError carries the last completed epoch's parameters.
   */
  snapshots?: boolean;
}

export interface TrainingProgress {
  epoch: number;
  /** Updates finished in this epoch and in all. */
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
  reconError: number[];
  updates: number;
  seconds: number;
  samplesPerSecond: number;
  cancelled: boolean;
}

export type TrainingRun = RunControl<FitResult>;

/** Starts training `model` on `data` ([N, V] intensities in [0, 1]). */
export function train(model: RBM, data: Float32Array, options: FitOptions): TrainingRun {
  const phase: NegativePhase<EpochStats> = {
    k: options.k ?? 1,
    persistent: options.persistent ?? false,
    start: async (trainer, first) => {
      if (trainer.persistent) trainer.initChains(first());
    },
    encode: (encoder, trainer, n) => trainer.encodeUpdates(encoder, n),
    epochStats: async (stats) => stats,
  };
  return controlledRun(options.signal, (gate, isCancelled) =>
    runEpochs(model, data, options, gate, isCancelled, () => Promise.resolve(phase)),
  );
}

/**
 * Where an update's negative phase comes from. CD-k / PCD-k use the trainer's
 * own Gibbs passes; parallel tempering (pt-train.ts) writes its chains' states
 * into the trainer's negative rows (k = 0, persistent) before each update.
 */
export interface NegativePhase<E extends EpochStats> {
  k: number;
  persistent: boolean;
  /** Before the first update; `first()` is epoch 0's first batch, binarized as the GPU will. */
  start(trainer: CDTrainer, first: () => Float32Array): Promise<void>;
  /** Encodes n whole updates. */
  encode(encoder: GPUCommandEncoder, trainer: CDTrainer, n: number): void;
  /** The epoch's statistics, with whatever this phase adds (read after the epoch). */
  epochStats(stats: EpochStats): Promise<E>;
  dispose?(): void;
}

/** Options every training loop shares (FitOptions minus how the negative phase is sampled). */
export type EpochLoopOptions<E extends EpochStats> = Omit<FitOptions, 'k' | 'persistent' | 'onEpoch'> & {
  onEpoch?: (e: E) => void | Promise<void>;
};

/**
 * The epoch loop: checks, GPU data set, trainer, chunked submits with one
 * chunk queued ahead, progress, pause/cancel, per-epoch metrics and snapshots.
 * `makePhase` runs after the input checks, so a bad option changes nothing.
 */
export async function runEpochs<E extends EpochStats>(
  model: RBM,
  data: Float32Array,
  o: EpochLoopOptions<E>,
  gate: () => Promise<void>,
  isCancelled: () => boolean,
  makePhase: (first: () => Float32Array, seed: number) => Promise<NegativePhase<E>>,
): Promise<Omit<FitResult, 'epochs'> & { epochs: E[] }> {
  model.owner.assertLive();
  checkSize('epochs', o.epochs);
  checkSize('batchSize', o.batchSize);
  const chunk = o.updatesPerSubmit ?? 32;
  checkSize('updatesPerSubmit', chunk);
  const V = model.visible;
  const B = o.batchSize;
  const gaussian = model.visibleType === 'gaussian';
  const binarize = o.binarize ?? (gaussian ? 'none' : 'stochastic');
  if (gaussian && binarize !== 'none') {
    throw new RangeError("a Gaussian RBM trains on real values: use binarize: 'none' (and standardised data)");
  }
  const seed = (o.seed ?? model.seed) >>> 0;
  const threshold = o.threshold ?? 0.5;
  const learningRate = o.learningRate ?? 0.05;
  const momentum = o.momentum ?? 'hinton';
  // Check every epoch's schedule before the first update, so bad input changes nothing.
  for (let e = 0; e < o.epochs; e++) {
    scheduleAt(learningRate, e, 'learningRate');
    momentumAt(momentum, e);
  }
  const dataset = GpuDataset.upload(model.device, data, V, binarize === 'none' && !gaussian, gaussian);
  const N = dataset.count;
  const batches = Math.floor(N / B);
  let trainer: CDTrainer | undefined;
  let phase: NegativePhase<E> | undefined;
  let snapshot: DeviceLostError['snapshot'];
  try {
    if (batches < 1) throw new RangeError(`the data set has ${N} rows, fewer than one batch of ${B}`);
    const first = (): Float32Array => firstBatch(data, V, B, shuffledPermutation(N, seed, 0), binarize, threshold, seed);
    phase = await makePhase(first, seed);
    trainer = await model.createTrainer({
      batchSize: B,
      k: phase.k,
      persistent: phase.persistent,
      metricsCapacity: batches,
    });
    trainer.bindDataset(dataset, { binarize, threshold, seed });
    const base: Omit<Hyperparameters, 'learningRate' | 'momentum'> = {
      weightDecay: o.weightDecay ?? 1e-4,
      sparsityTarget: o.sparsityTarget,
      sparsityCost: o.sparsityCost,
      sparsityDecay: o.sparsityDecay,
    };
    trainer.setHyperparameters({ ...base, learningRate: scheduleAt(learningRate, 0, 'learningRate') });
    await phase.start(trainer, first);

    const device = model.device;
    const start = now();
    const epochs: E[] = [];
    let done = 0; // updates known to have finished on the GPU
    let submitted = 0;
    const inFlight: Array<{ finished: Promise<void>; upto: number; epoch: number; epochStep: number }> = [];
    const settle = async (): Promise<void> => {
      const f = inFlight.shift()!;
      await raceLoss(device, f.finished);
      done = f.upto;
      const seconds = (now() - start) / 1000;
      o.onProgress?.({
        epoch: f.epoch,
        epochStep: f.epochStep,
        step: done,
        batchesPerEpoch: batches,
        samplesPerSecond: (done * B) / Math.max(seconds, 1e-9),
        seconds,
      });
    };

    let stopped = false;
    for (let epoch = 0; epoch < o.epochs && !stopped; epoch++) {
      const epochStart = now();
      const lr = scheduleAt(learningRate, epoch, 'learningRate');
      const mom = momentumAt(momentum, epoch);
      trainer.setHyperparameters({ ...base, learningRate: lr, momentum: mom });
      trainer.startEpoch(epoch, shuffledPermutation(N, seed, epoch));
      let epochUpdates = 0;
      while (epochUpdates < batches) {
        await gate();
        if (isCancelled()) {
          stopped = true;
          break;
        }
        const n = Math.min(chunk, batches - epochUpdates);
        const encoder = device.createCommandEncoder({ label: `epoch ${epoch} updates ${epochUpdates}+${n}` });
        phase.encode(encoder, trainer, n);
        device.queue.submit([encoder.finish()]);
        epochUpdates += n;
        submitted += n;
        inFlight.push({ finished: device.queue.onSubmittedWorkDone(), upto: submitted, epoch, epochStep: epochUpdates });
        // Keep one chunk queued behind the one we wait for: the GPU never idles on us.
        if (inFlight.length > 1) await settle();
      }
      if (epochUpdates === 0) break;
      const metrics = await trainer.readMetrics(epochUpdates);
      while (inFlight.length > 0) await settle();
      const seconds = (now() - epochStart) / 1000;
      let sum = 0;
      for (const m of metrics) sum += m;
      const stats = await phase.epochStats({
        epoch,
        reconError: sum / metrics.length,
        seconds,
        samplesPerSecond: (epochUpdates * B) / Math.max(seconds, 1e-9),
        learningRate: lr,
        momentum: mom,
      });
      epochs.push(stats);
      if (o.snapshots !== false) snapshot = { epoch, ...(await model.readParams()) };
      await o.onEpoch?.(stats);
    }
    while (inFlight.length > 0) await settle();
    const seconds = (now() - start) / 1000;
    return {
      epochs,
      reconError: epochs.map((e) => e.reconError),
      updates: done,
      seconds,
      samplesPerSecond: (done * B) / Math.max(seconds, 1e-9),
      cancelled: isCancelled(),
    };
  } catch (e) {
    if (e instanceof DeviceLostError && snapshot) e.snapshot = snapshot;
    throw e;
  } finally {
    trainer?.dispose();
    phase?.dispose?.();
    dataset.dispose();
  }
}
