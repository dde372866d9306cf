// Gaussian visible units with unit variance, v ∈ ℝ: the Gaussian–Bernoulli
// RBM's visible layer, E = Σ (v_i − b_i)²/2 − vᵀWh − cᵀh, p(v | h) = N(b + Wh, I).
// WGSL: shaders/units/gaussian.wgsl.
import gaussianWGSL from '../../shaders/units/gaussian.wgsl?raw';
import { wgslModule } from '../gpu/wgsl-link';
import { gaussianBaseMeans, logZBase } from '../host/ais-math';
import { normal01 } from '../host/philox';
import { checkFiniteArray } from './checks';
import type { UnitType } from './types';

export const GAUSSIAN: UnitType<'gaussian'> = {
  name: 'gaussian',
  label: 'Gaussian',
  wgsl: wgslModule('units/gaussian.wgsl', gaussianWGSL),

  mean: (x) => x,
  sample: (mean, seed, step, element, phase) => mean + normal01(seed, step, element, phase),
  freeEnergyTerm: (v, b) => (v - b) ** 2 / 2,
  biasDifference: (v, b, bBase) => (b - bBase) * (v - (b + bBase) / 2),

  binary: false,
  binarizes: false,
  checkStates: (name, states) => checkFiniteArray(name, states),
  checkMeans: () => {},
  biasFromMean: (mean) => mean,
  noise: (seed, element, phase) => normal01(seed, 0, element, phase),

  baseBiases: (data, visible) => gaussianBaseMeans(data, visible),
  baseBiasesFromMeans(means, visible) {
    if (means.length !== visible) throw new RangeError(`means has ${means.length} values, the model ${visible} visible units`);
    checkFiniteArray('base-model means', means);
    return Float64Array.from(means);
  },
  baseLogZ: (bA, hidden) => logZBase(bA, hidden, true),

  tempering: { supported: false, reason: 'a Gaussian visible layer at inverse temperature β has variance 1/β, unbounded as β → 0' },
  exactLogZ: { enumerable: false, chunkMode: 1, logConstant: (visible) => (visible / 2) * Math.log(2 * Math.PI) },
};
