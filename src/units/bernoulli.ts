// Bernoulli visible units, v ∈ {0, 1}: the binary RBM's visible layer.
// WGSL: shaders/units/bernoulli.wgsl (also the kernels' DEFAULT_UNIT).
import bernoulliWGSL from '../../shaders/units/bernoulli.wgsl?raw';
import { wgslModule } from '../gpu/wgsl-link';
import { baseRateBiases, biasesFromMarginals, logZBase } from '../host/ais-math';
import { sigmoid } from '../host/math';
import { uniform01 } from '../host/philox';
import { checkBinary } from './checks';
import type { UnitType } from './types';

/** Keeps an initial bias finite for a unit whose data mean is 0 or 1. */
const MEAN_CLAMP = 1e-3;

export const BERNOULLI: UnitType<'bernoulli'> = {
  name: 'bernoulli',
  label: 'Bernoulli',
  wgsl: wgslModule('units/bernoulli.wgsl', bernoulliWGSL),

  mean: sigmoid,
  sample: (mean, seed, step, element, phase) => (uniform01(seed, step, element, phase) < mean ? 1 : 0),
  freeEnergyTerm: (v, b) => -(b * v),
  biasDifference: (v, b, bBase) => (b - bBase) * v,

  binary: true,
  binarizes: true,
  checkStates: checkBinary,
  checkMeans(name, means) {
    for (let i = 0; i < means.length; i++) {
      if (means[i] < 0 || means[i] > 1) throw new RangeError(`${name}[${i}] is ${means[i]}: Bernoulli marginals lie in [0, 1]`);
    }
  },
  biasFromMean(mean) {
    const p = Math.min(1 - MEAN_CLAMP, Math.max(MEAN_CLAMP, mean));
    return Math.log(p / (1 - p));
  },
  noise: (seed, element, phase) => (uniform01(seed, 0, element, phase) < 0.5 ? 1 : 0),

  baseBiases: baseRateBiases,
  baseBiasesFromMeans: biasesFromMarginals,
  baseLogZ: (bA, hidden) => logZBase(bA, hidden, false),

  tempering: { supported: true },
  exactLogZ: { enumerable: true, chunkMode: 0, logConstant: () => 0 },
};
