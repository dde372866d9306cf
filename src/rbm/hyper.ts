// The Hyper uniform shared by update.wgsl and bias_update.wgsl.
import { packUniform } from '../gpu/buffers';
import { checkFiniteNumber } from './validate';

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

/** The Hyper uniform of update.wgsl and bias_update.wgsl, validated. */
export function packHyper(h: Hyperparameters, batchSize: number): ArrayBuffer {
  if (h === null || typeof h !== 'object') throw new RangeError(`hyperparameters must be an object, got ${h}`);
  checkFiniteNumber('learningRate', h.learningRate, 0);
  const momentum = h.momentum ?? 0;
  const weightDecay = h.weightDecay ?? 0;
  const sparsityTarget = h.sparsityTarget ?? 0.1;
  const sparsityCost = h.sparsityCost ?? 0;
  const sparsityDecay = h.sparsityDecay ?? 0.9;
  checkFiniteNumber('momentum', momentum, 0);
  checkFiniteNumber('weightDecay', weightDecay, 0);
  checkFiniteNumber('sparsityTarget', sparsityTarget, 0);
  checkFiniteNumber('sparsityCost', sparsityCost, 0);
  checkFiniteNumber('sparsityDecay', sparsityDecay, 0);
  if (momentum >= 1) throw new RangeError(`momentum must be below 1, got ${momentum}`);
  if (sparsityTarget >= 1) throw new RangeError(`sparsityTarget must be below 1, got ${sparsityTarget}`);
  if (sparsityDecay >= 1) throw new RangeError(`sparsityDecay must be below 1, got ${sparsityDecay}`);
  return packUniform([
    { f32: h.learningRate },
    { f32: momentum },
    { f32: weightDecay },
    { f32: 1 / batchSize },
    { f32: sparsityTarget },
    { f32: sparsityCost },
    { f32: sparsityDecay },
    { f32: 0 },
  ]);
}
