// The Hyper uniform shared by update.wgsl and bias_update.wgsl (hyper.wgsl):
// the optimiser's hyperparameters as the GPU reads them. In src/gpu so that the
// tile tuner (tune.ts) can pack one without importing src/rbm; src/rbm/hyper.ts
// re-exports it for the trainers.
import { HYPER, packFields } from './kernels';

export interface Hyperparameters {
  learningRate: number;
  momentum?: number;
  weightDecay?: number;
  /** Target mean activation of the hidden units (Hinton's guide §11); used when sparsityCost > 0. */
  sparsityTarget?: number;
  sparsityCost?: number;
  /** Decay of the running mean of hidden activations (default 0.9). */
  sparsityDecay?: number;
}

/** The same check and message as src/rbm/validate.ts's checkFiniteNumber (gpu does not import rbm). */
function checkFinite(name: string, x: number, min: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) {
    throw new RangeError(`${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${x}`);
  }
}

/** The Hyper uniform of update.wgsl and bias_update.wgsl, validated. */
export function packHyper(h: Hyperparameters, batchSize: number): ArrayBuffer {
  if (h === null || typeof h !== 'object') throw new RangeError(`hyperparameters must be an object, got ${h}`);
  checkFinite('learningRate', h.learningRate, 0);
  const momentum = h.momentum ?? 0;
  const weightDecay = h.weightDecay ?? 0;
  const sparsityTarget = h.sparsityTarget ?? 0.1;
  const sparsityCost = h.sparsityCost ?? 0;
  const sparsityDecay = h.sparsityDecay ?? 0.9;
  checkFinite('momentum', momentum, 0);
  checkFinite('weightDecay', weightDecay, 0);
  checkFinite('sparsityTarget', sparsityTarget, 0);
  checkFinite('sparsityCost', sparsityCost, 0);
  checkFinite('sparsityDecay', sparsityDecay, 0);
  if (momentum >= 1) throw new RangeError(`momentum must be below 1, got ${momentum}`);
  if (sparsityTarget >= 1) throw new RangeError(`sparsityTarget must be below 1, got ${sparsityTarget}`);
  if (sparsityDecay >= 1) throw new RangeError(`sparsityDecay must be below 1, got ${sparsityDecay}`);
  return packFields(HYPER, {
    learning_rate: h.learningRate,
    momentum,
    weight_decay: weightDecay,
    inv_batch: 1 / batchSize,
    sparsity_target: sparsityTarget,
    sparsity_cost: sparsityCost,
    sparsity_decay: sparsityDecay,
  });
}
