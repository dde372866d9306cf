// Training with parallel tempering as the negative-phase sampler (Desjardins
// et al. 2010; Cho, Raiko & Ilin 2010): the loop of fit.ts — epochs of
// gathered mini-batches, chunked submits, progress, pause and cancel, metrics
// read once per epoch — with a CDTrainer in external-chain mode
// (persistent: true, k: 0). Per update, all in one command encoder:
//
//   1. TemperedChains.encode: `sweepsPerUpdate` tempered sweeps of B chains at
//      each of M temperatures, with their swap rounds, on the current W, b, c
//      (the PT kernels read the model's own buffers: nothing to rescale);
//   2. copy the β = 1 replica's B states into the trainer's negative-phase
//      rows vis[B, 2B) (byte offset B·V·4);
//   3. trainer.encodeUpdates(encoder, 1): gather the data rows, hidden pass
//      over data and negative rows, reconstruction metric, W/b/c update.
//
// Swap acceptance is read with the metrics after each epoch (one small
// readback) and the GPU counters are reset, so they never wrap.
import { shuffledPermutation } from '../data/split';
import { GpuDataset } from './dataset';
import { DeviceLostError, raceLoss } from '../gpu/lost';
import type { RBM } from './model';
import type { EpochStats, FitOptions, FitResult, TrainingProgress } from './fit';
import { controlledRun, firstBatch, momentumAt, now, scheduleAt, type RunControl } from './training-common';
import type { CDTrainer, Hyperparameters } from './trainer';
import { PT_SEED_SALT, TemperedChains } from './tempering';
import { checkSize } from './validate';

export interface PTFitOptions extends Omit<FitOptions, 'k' | 'persistent' | 'onEpoch'> {
  /** Temperatures M (default 10, or betas.length). */
  replicas?: number;
  /** The ladder, β_0 = 1 first, non-increasing, in [0, 1] (default: evenly spaced from 1 to betaMin). */
  betas?: ArrayLike<number>;
  /** The last β of the default ladder (default 0). */
  betaMin?: number;
  /** A swap round every this many sweeps (default 1). */
  swapEvery?: number;
  /** Tempered sweeps between two updates (default 1). */
  sweepsPerUpdate?: number;
  /** Seeds the tempered chains (default: the training seed XOR a salt). */
  chainSeed?: number;
  /** Called after each epoch's metrics are back; may be async. */
  onEpoch?: (e: PTEpochStats) => void | Promise<void>;
}

export interface PTEpochStats extends EpochStats {
  /** Swap acceptance rate of each pair (m, m+1) during this epoch. */
  swapAcceptance: number[];
}

export interface PTFitResult extends FitResult {
  epochs: PTEpochStats[];
  /** The ladder as the GPU used it. */
  betas: number[];
  /** Swap acceptance rate of each pair (m, m+1) over the whole run. */
  swapAcceptance: number[];
  swapsAccepted: number[];
  swapsAttempted: number[];
}

export type PTTrainingRun = RunControl<PTFitResult>;

/** The seed of the tempered chains trainPT uses, for replaying a run. */
export function ptChainSeed(model: RBM, o: Pick<PTFitOptions, 'seed' | 'chainSeed'>): number {
  return (o.chainSeed ?? ((o.seed ?? model.seed) ^ PT_SEED_SALT)) >>> 0;
}

/** Starts training `model` on `data` ([N, V] intensities in [0, 1]) with a parallel-tempering negative phase. */
export function trainPT(model: RBM, data: Float32Array, options: PTFitOptions): PTTrainingRun {
  return controlledRun(options.signal, (gate, isCancelled) => runPT(model, data, options, gate, isCancelled));
}

/** Trains to the end: `trainPT(...).result`. */
export function fitPT(model: RBM, data: Float32Array, options: PTFitOptions): Promise<PTFitResult> {
  return trainPT(model, data, options).result;
}

async function runPT(
  model: RBM,
  data: Float32Array,
  o: PTFitOptions,
  gate: () => Promise<void>,
  isCancelled: () => boolean,
): Promise<PTFitResult> {
  model.owner.assertLive();
  if (model.visibleType !== 'bernoulli') {
    throw new RangeError('parallel-tempering training supports Bernoulli visible units only');
  }
  checkSize('epochs', o.epochs);
  checkSize('batchSize', o.batchSize);
  const chunk = o.updatesPerSubmit ?? 32;
  checkSize('updatesPerSubmit', chunk);
  const sweeps = o.sweepsPerUpdate ?? 1;
  checkSize('sweepsPerUpdate', sweeps);
  const V = model.visible;
  const B = o.batchSize;
  const binarize = o.binarize ?? 'stochastic';
  const seed = (o.seed ?? model.seed) >>> 0;
  const threshold = o.threshold ?? 0.5;
  const learningRate = o.learningRate ?? 0.05;
  const momentum = o.momentum ?? 'hinton';
  for (let e = 0; e < o.epochs; e++) {
    scheduleAt(learningRate, e, 'learningRate');
    momentumAt(momentum, e);
  }
  const dataset = GpuDataset.upload(model.device, data, V, binarize === 'none');
  const N = dataset.count;
  const batches = Math.floor(N / B);
  let trainer: CDTrainer | undefined;
  let pt: TemperedChains | undefined;
  let snapshot: DeviceLostError['snapshot'];
  try {
    if (batches < 1) throw new RangeError(`the data set has ${N} rows, fewer than one batch of ${B}`);
    const init = firstBatch(data, V, B, shuffledPermutation(N, seed, 0), binarize, threshold, seed);
    // Tempered chains first: a bad ladder fails before the trainer is built.
    pt = await TemperedChains.create(model, {
      chains: B,
      replicas: o.replicas,
      betas: o.betas,
      betaMin: o.betaMin,
      swapEvery: o.swapEvery,
      seed: ptChainSeed(model, o),
      init,
    });
    trainer = await model.createTrainer({ batchSize: B, k: 0, persistent: true, metricsCapacity: batches });
    trainer.bindDataset(dataset, { binarize, threshold, seed });
    const base: Omit<Hyperparameters, 'learningRate' | 'momentum'> = {
      weightDecay: o.weightDecay ?? 1e-4,
      sparsityTarget: o.sparsityTarget,
      sparsityCost: o.sparsityCost,
      sparsityDecay: o.sparsityDecay,
    };
    trainer.setHyperparameters({ ...base, learningRate: scheduleAt(learningRate, 0, 'learningRate') });
    trainer.initChains(init);

    const device = model.device;
    const negBytes = B * V * 4;
    const start = now();
    const epochs: PTEpochStats[] = [];
    const totalAccepted = new Array<number>(pt.replicas - 1).fill(0);
    const totalAttempted = new Array<number>(pt.replicas - 1).fill(0);
    let done = 0;
    let submitted = 0;
    const inFlight: Array<{ finished: Promise<void>; upto: number; epoch: number; epochStep: number }> = [];
    const settle = async (): Promise<void> => {
      const f = inFlight.shift()!;
      await raceLoss(device, f.finished);
      done = f.upto;
      const seconds = (now() - start) / 1000;
      const p: TrainingProgress = {
        epoch: f.epoch,
        epochStep: f.epochStep,
        step: done,
        batchesPerEpoch: batches,
        samplesPerSecond: (done * B) / Math.max(seconds, 1e-9),
        seconds,
      };
      o.onProgress?.(p);
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
        const encoder = device.createCommandEncoder({ label: `PT epoch ${epoch} updates ${epochUpdates}+${n}` });
        for (let u = 0; u < n; u++) {
          pt.encode(encoder, sweeps);
          encoder.copyBufferToBuffer(pt.vis, 0, trainer.vis, negBytes, negBytes);
          trainer.encodeUpdates(encoder, 1);
        }
        device.queue.submit([encoder.finish()]);
        epochUpdates += n;
        submitted += n;
        inFlight.push({ finished: device.queue.onSubmittedWorkDone(), upto: submitted, epoch, epochStep: epochUpdates });
        if (inFlight.length > 1) await settle();
      }
      if (epochUpdates === 0) break;
      const [metrics, swaps] = await Promise.all([trainer.readMetrics(epochUpdates), pt.swapStats()]);
      pt.resetSwapStats();
      while (inFlight.length > 0) await settle();
      const seconds = (now() - epochStart) / 1000;
      let sum = 0;
      for (const m of metrics) sum += m;
      swaps.accepted.forEach((a, m) => {
        totalAccepted[m] += a;
        totalAttempted[m] += swaps.attempted[m];
      });
      const stats: PTEpochStats = {
        epoch,
        reconError: sum / metrics.length,
        seconds,
        samplesPerSecond: (epochUpdates * B) / Math.max(seconds, 1e-9),
        learningRate: lr,
        momentum: mom,
        swapAcceptance: swaps.acceptance,
      };
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
      betas: [...pt.betas],
      swapAcceptance: totalAccepted.map((a, m) => (totalAttempted[m] > 0 ? a / totalAttempted[m] : NaN)),
      swapsAccepted: totalAccepted,
      swapsAttempted: totalAttempted,
    };
  } catch (e) {
    if (e instanceof DeviceLostError && snapshot) e.snapshot = snapshot;
    throw e;
  } finally {
    trainer?.dispose();
    pt?.dispose();
    dataset.dispose();
  }
}
