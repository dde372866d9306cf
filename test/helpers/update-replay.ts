// Setup shared by the tests that replay whole trainer updates in float64
// (test/rbm/updates, centered and chains): the cases' sizes, a random model
// and its data, the hyperparameters, and the batches fed to both sides.
import { afterAll } from 'vitest';
import { RBM } from '../../src/rbm/model';
import type { RBMParamsF32 } from '../../src/rbm/params';
import type { Hyperparameters } from '../../src/rbm/trainer';
import { mulberry32, randomBinary } from './random';

/** One replayed case: V visible, H hidden, batches of B rows, k Gibbs steps, with or without a sparsity target. */
export interface ReplayCase {
  name: string;
  V: number;
  H: number;
  B: number;
  k: number;
  sparsity?: boolean;
}

/** Models for a describe block to create, disposed after its tests. */
export function disposedAfterAll(): RBM[] {
  const models: RBM[] = [];
  afterAll(() => models.forEach((m) => m.dispose()));
  return models;
}

export interface ReplaySetup {
  /** mulberry32(dataSeed), already past the data: draw anything else the test needs from it. */
  rand: () => number;
  /** `updates` batches of B × V binary values, each 1 with probability `density`. */
  data: Float32Array;
  /** The model under test (in `models`): weight scale 0.3, visible biases from marginals all equal to `density`. */
  gpu: RBM;
  /** The model's parameters before any update, to start the replay from. */
  init: RBMParamsF32;
}

export async function replaySetup(
  device: GPUDevice,
  models: RBM[],
  o: { V: number; H: number; B: number; updates: number; density: number; dataSeed: number; modelSeed: number },
): Promise<ReplaySetup> {
  const rand = mulberry32(o.dataSeed);
  const data = randomBinary(o.updates * o.B * o.V, o.density, rand);
  const gpu = RBM.create(device, {
    visible: o.V, hidden: o.H, seed: o.modelSeed, weightScale: 0.3, visibleMarginals: new Float64Array(o.V).fill(o.density),
  });
  models.push(gpu);
  const init = await gpu.readParams();
  return { rand, data, gpu, init };
}

/** Momentum 0.5 and weight decay 1e-3, with a sparsity target of 0.05 (cost 0.5, decay 0.7) when `sparsity`. */
export function replayHyper(learningRate: number, sparsity?: boolean): Hyperparameters {
  return {
    learningRate,
    momentum: 0.5,
    weightDecay: 1e-3,
    ...(sparsity ? { sparsityTarget: 0.05, sparsityCost: 0.5, sparsityDecay: 0.7 } : {}),
  };
}

/**
 * Feeds batch after batch of `data` (`batchSize` values each, `updates` of them)
 * to the GPU trainer and then to `replay`, in that order; returns what `replay`
 * returned for each batch.
 */
export function replayUpdates<T>(
  trainer: { update(batch: Float32Array, hyper: Hyperparameters): void },
  data: Float32Array,
  batchSize: number,
  updates: number,
  hyper: Hyperparameters,
  replay: (batch: Float32Array) => T,
): T[] {
  const out: T[] = [];
  for (let u = 0; u < updates; u++) {
    const batch = data.subarray(u * batchSize, (u + 1) * batchSize);
    trainer.update(batch, hyper);
    out.push(replay(batch));
  }
  return out;
}
