// Training with parallel tempering as the negative-phase sampler (Desjardins
// et al. 2010; Cho, Raiko & Ilin 2010): the loop of fit.ts — epochs of
// gathered mini-batches, chunked submits, progress, pause and cancel, metrics
// read once per epoch — with a CDTrainer in external-chain mode
// (persistent: true, k: 0). Per update, all in one command encoder:
//
//   1. TemperedChains.encode: `sweepsPerUpdate` tempered sweeps of B chains at
//      each of M temperatures, with their swap rounds, on the current W, b, c
//      (the PT kernels read the model's own buffers: nothing to rescale);
//   2. copy the β = 1 replica's N states (N = chains, default B) into the
//      trainer's negative-phase rows vis[B, B + N) (byte offset B·V·4);
//   3. trainer.encodeUpdates(encoder, 1): gather the data rows, hidden pass
//      over data and negative rows, reconstruction metric, W/b/c update.
//
// Swap acceptance is read with the metrics after each epoch (one small
// readback) and the GPU counters are reset, so they never wrap.
import type { ModelParams, TrainableModel } from './params';
import { runEpochs, type EpochStats, type FitOptions, type FitResult, type NegativePhase, type PhaseSettings } from './fit';
import { checkTrainingState, type TrainingState } from './checkpoint';
import { withTemperingDefaults } from './fit-defaults';
import type { DataSource } from '../data/source';
import { controlledRun, type RunControl } from './training-common';
import { PT_SEED_SALT } from '../host/rng-streams';
import { resolveBetas, TemperedChains } from './tempering';
import { checkTargetAcceptance, retuneBetas, type RetuneOptions } from './ladder';
import { checkSeed, checkSize, showValue } from './validate';

/**
 * fit's options less k and persistent, with fit's defaults for binary units
 * (the rate decaying linearly from 0.1, no momentum, centered gradients) but
 * `chains` at the batch size.
 */
export interface PTFitOptions extends Omit<FitOptions, 'k' | 'persistent' | 'onEpoch'> {
  /** Temperatures M (default 10, or betas.length). */
  replicas?: number;
  /** The ladder, β_0 = 1 first, non-increasing, in [0, 1] (default: evenly spaced from 1 to betaMin). */
  betas?: ArrayLike<number>;
  /** The last β of the default ladder (default 0 for 'linear', 0.2 for 'geometric'). */
  betaMin?: number;
  /** Spacing of the default ladder: 'linear' (default: evenly spaced to betaMin) or 'geometric'. */
  ladder?: 'geometric' | 'linear';

  /** A swap round every this many sweeps (default 1). */
  swapEvery?: number;
  /** Tempered sweeps between two updates (default 1). */
  sweepsPerUpdate?: number;
  /** Seeds the tempered chains (default: the training seed XOR a salt). */
  chainSeed?: number;
  /**
   * Retune the ladder after every epoch from that epoch's swaps, toward a
   * target acceptance per pair (retuneBetas; default off). The model sharpens
   * as it trains, so a ladder that swapped at the start stops swapping at its
   * hot end; retuning follows it. Deterministic (the counts are a function of
   * the seeds). Not with onCheckpoint or resume yet: a checkpoint does not
   * hold the adapted ladder (TemperingCheckpoint has no betas field).
   */
  adapt?: boolean | RetuneOptions;
  /** Called after each epoch's metrics are back; may be async. */
  onEpoch?: (e: PTEpochStats) => void | Promise<void>;
}

export interface PTEpochStats extends EpochStats {
  /** Swap acceptance rate of each pair (m, m+1) during this epoch. */
  swapAcceptance: number[];
  /** The ladder this epoch ran with (float32 values). */
  betas: number[];
}

export interface PTFitResult extends FitResult {
  epochs: PTEpochStats[];
  /** The ladder as the GPU used it at the end (adapted: after the last retune). */
  betas: number[];
  /** Swap acceptance rate of each pair (m, m+1) over the whole run. */
  swapAcceptance: number[];
  swapsAccepted: number[];
  swapsAttempted: number[];
}

export type PTTrainingRun = RunControl<PTFitResult>;

/** The seed of the tempered chains trainPT uses, for replaying a run. */
export function ptChainSeed(model: Pick<ModelParams, 'seed'>, o: Pick<PTFitOptions, 'seed' | 'chainSeed'>): number {
  return (o.chainSeed ?? ((o.seed ?? model.seed) ^ PT_SEED_SALT)) >>> 0;
}

/** Starts training `model` on `data` ([N, V] intensities in [0, 1]) with a parallel-tempering negative phase. */
export function trainPT(model: TrainableModel, data: DataSource, options: PTFitOptions): PTTrainingRun {
  return controlledRun(options?.signal, (gate, isCancelled) => runPT(model, data, options, gate, isCancelled));
}

/** Trains to the end: `trainPT(...).result`. */
export function fitPT(model: TrainableModel, data: DataSource, options: PTFitOptions): Promise<PTFitResult> {
  return trainPT(model, data, options).result;
}

async function runPT(
  model: TrainableModel,
  data: DataSource,
  options: PTFitOptions,
  gate: () => Promise<void>,
  isCancelled: () => boolean,
): Promise<PTFitResult> {
  model.assertLive();
  if (options === null || typeof options !== 'object') throw new RangeError(`training options must be an object, got ${showValue(options)}`);
  if (model.visibleType !== 'bernoulli') {
    throw new RangeError('parallel-tempering training supports Bernoulli visible units only');
  }
  // fit's defaults for binary units (src/rbm/fit-defaults.ts), chains at the batch size; a resumed run's from its checkpoint.
  if (options.resume !== undefined) checkTrainingState(options.resume, 'resume');
  const o = withTemperingDefaults(options, model.visibleType);
  const sweeps = o.sweepsPerUpdate ?? 1;
  checkSize('sweepsPerUpdate', sweeps);
  // The ladder and the chains' options, before anything is allocated (TemperedChains.create checks them again).
  resolveBetas(o, 'linear');
  if (o.swapEvery !== undefined) checkSize('swapEvery', o.swapEvery);
  if (o.chainSeed !== undefined) checkSeed('chainSeed', o.chainSeed);
  const adapt = resolveTrainingAdapt(o);
  const B = o.batchSize;
  const N = o.chains ?? B;
  const negOffset = B * model.visible * 4;
  const negBytes = N * model.visible * 4;
  let pt: TemperedChains | undefined;
  let totalAccepted: number[] = [];
  let totalAttempted: number[] = [];
  const settings: PhaseSettings = {
    method: 'pt',
    k: 0,
    // The ladder as the GPU holds it (float32), as TemperedChains reports it.
    betas: Array.from(Float32Array.from(resolveBetas(o, 'linear'))),
    sweepsPerUpdate: sweeps,
    swapEvery: o.swapEvery ?? 1,
    chainSeed: ptChainSeed(model, o),
  };
  const make = async (first: (rows: number) => Float32Array, _seed: number, resume?: TrainingState): Promise<NegativePhase<PTEpochStats>> => {
    const t = resume?.tempering;
    // A fresh run's chains start at epoch 0's first N rows (every replica); a resumed run's where they were.
    const init = t ? t.states : first(N);
    // Tempered chains first: a bad ladder fails before the trainer is built.
    const chains = await TemperedChains.create(model, {
      chains: N,
      replicas: o.replicas,
      betas: o.betas,
      betaMin: o.betaMin,
      // Training's default ladder stays evenly spaced to β = 0, so earlier checkpoints resume on theirs.
      ladder: o.betas === undefined ? (o.ladder ?? 'linear') : undefined,
      swapEvery: o.swapEvery,
      seed: ptChainSeed(model, o),
      init,
      tile: o.tile,
    });
    pt = chains;
    totalAccepted = t ? [...t.swapsAccepted] : new Array<number>(chains.replicas - 1).fill(0);
    totalAttempted = t ? [...t.swapsAttempted] : new Array<number>(chains.replicas - 1).fill(0);
    return {
      k: 0,
      persistent: true,
      start: async (trainer) => trainer.initChains(init),
      resume: async (trainer, state) => {
        const s = state.tempering!;
        chains.restoreState(s);
        // The trainer's negative rows: the β = 1 replica, as the last update copied them.
        trainer.initChains(s.states.slice(0, negBytes / 4));
      },
      checkpoint: async () => {
        const s = await chains.readState();
        return { tempering: { ...s, swapsAccepted: [...totalAccepted], swapsAttempted: [...totalAttempted] } };
      },
      encode: (encoder, trainer, n) => {
        for (let u = 0; u < n; u++) {
          chains.encode(encoder, sweeps);
          encoder.copyBufferToBuffer(chains.vis, 0, trainer.vis, negOffset, negBytes);
          trainer.encodeUpdates(encoder, 1);
        }
      },
      epochStats: async (stats) => {
        const swaps = await chains.swapStats();
        chains.resetSwapStats();
        swaps.accepted.forEach((a, m) => {
          totalAccepted[m] += a;
          totalAttempted[m] += swaps.attempted[m];
        });
        const betas = [...chains.betas];
        // Retune for the next epoch once every pair has been tried (an even and an odd round).
        if (adapt && swaps.attempted.every((n) => n > 0)) chains.setBetas(retuneBetas(betas, swaps.accepted, swaps.attempted, adapt));
        return { ...stats, swapAcceptance: swaps.acceptance, betas };
      },
      dispose: () => chains.dispose(),
    };
  };
  const result = await runEpochs<PTEpochStats>(model, data, o, gate, isCancelled, { settings, rngStepsPerUpdate: sweeps, make });
  return {
    ...result,
    betas: pt ? [...pt.betas] : [],
    swapAcceptance: totalAccepted.map((a, m) => (totalAttempted[m] > 0 ? a / totalAttempted[m] : NaN)),
    swapsAccepted: totalAccepted,
    swapsAttempted: totalAttempted,
  };
}

/** The retune options of an adaptive run, or undefined; checked before anything is allocated. */
function resolveTrainingAdapt(o: PTFitOptions): RetuneOptions | undefined {
  const a = o.adapt ?? false;
  if (a === false) return undefined;
  if (a !== true && (a === null || typeof a !== 'object')) throw new RangeError(`adapt must be true, false or an options object, got ${showValue(a)}`);
  if (o.onCheckpoint !== undefined || o.resume !== undefined) {
    throw new RangeError('adapt: a checkpoint does not hold the adapted ladder yet, so an adaptive run cannot be checkpointed or resumed; drop adapt, or onCheckpoint/resume');
  }
  const r: RetuneOptions = a === true ? {} : a;
  if (r.targetAcceptance !== undefined) checkTargetAcceptance('adapt.targetAcceptance', r.targetAcceptance);
  const betas = resolveBetas(o, 'linear');
  for (let m = 1; m < betas.length; m++) {
    if (!(betas[m] < betas[m - 1])) throw new RangeError(`adapting the ladder needs strictly decreasing betas; betas[${m}] = ${betas[m]} after ${betas[m - 1]}`);
  }
  return r;
}
