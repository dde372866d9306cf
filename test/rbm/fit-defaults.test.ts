// fit's defaults (src/rbm/fit-defaults.ts): a run that leaves an option out
// trains exactly as one that spells out the defaults of its visible units
// (binary: docs/defaults-sweep.md's PCD-1 with max(batch, 50) chains, linear
// 0.1, no momentum, centered; Gaussian: CD-1, 0.002, 'hinton'; Potts: the
// earlier CD-1, 0.05, 'hinton'), checkpoints record them, the CLI's defaults
// are the same constants, and a resume continues its checkpoint's settings
// (defaults of another version included) when its options leave them out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { RECOMMENDED_FIT_OPTIONS, type FitOptions } from '../../src/rbm/fit';
import { fitPT } from '../../src/rbm/pt-train';
import {
  BINARY_FIT_DEFAULTS, DEFAULT_GAUSSIAN_LEARNING_RATE, FIT_DEFAULTS, GAUSSIAN_FIT_DEFAULTS, PCD_MIN_CHAINS, POTTS_FIT_DEFAULTS,
  pcdChains, withFitDefaults, withTemperingDefaults,
} from '../../src/rbm/fit-defaults';
import type { TrainingSettings, TrainingState } from '../../src/rbm/checkpoint';
import { GAUSSIAN_DEFAULTS, TRAIN_DEFAULTS } from '../../src/cli/train-flags';
import { oneHotFromCodes } from '../../src/units/potts';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';
import { randomCodes } from '../helpers/random-potts';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

const V = 7;
const H = 4;
const B = 5;
const ROWS = 23; // 4 updates per epoch

let device: GPUDevice;
const made: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => made.forEach((m) => m.dispose()));

function model(visibleType: 'bernoulli' | 'gaussian' = 'bernoulli'): RBM {
  const m = RBM.create(device, { visible: V, hidden: H, seed: 3, weightScale: 0.3, visibleType });
  made.push(m);
  return m;
}

/** The bits of W, b, c. */
async function paramBits(m: RBM): Promise<number[]> {
  const p = await m.readParams();
  return [p.W, p.b, p.c].flatMap((a) => Array.from(new Uint32Array(a.slice().buffer)));
}

/** Trains a fresh model, returning its parameter bits and the checkpoint of its last epoch. */
async function run(
  visibleType: 'bernoulli' | 'gaussian', data: Float32Array, o: FitOptions,
): Promise<{ bits: number[]; state: TrainingState }> {
  const m = model(visibleType);
  const states: TrainingState[] = [];
  await m.fit(data, { ...o, onCheckpoint: (s) => void states.push(s) });
  return { bits: await paramBits(m), state: states[states.length - 1] };
}

const intensities = Float32Array.from({ length: ROWS * V }, mulberry32(21));

describe('withFitDefaults (host side)', () => {
  it('fills in the defaults of each unit type; what the caller gives wins', () => {
    expect(withFitDefaults({ batchSize: 20 }, 'bernoulli')).toEqual({
      batchSize: 20, k: 1, persistent: true, chains: 50, learningRate: { schedule: 'linear', rate: 0.1 }, momentum: 0, weightDecay: 1e-4, centered: true,
    });
    expect(withFitDefaults({ batchSize: 64 }, 'bernoulli').chains).toBe(64);
    expect(withFitDefaults({ batchSize: 20, persistent: false }, 'bernoulli')).not.toHaveProperty('chains');
    expect(withFitDefaults({ batchSize: 20, chains: 7, momentum: 'hinton', centered: false }, 'bernoulli')).toMatchObject({ chains: 7, momentum: 'hinton', centered: false });
    expect(withFitDefaults({ batchSize: 20 }, 'gaussian')).toEqual({
      batchSize: 20, k: 1, persistent: false, learningRate: DEFAULT_GAUSSIAN_LEARNING_RATE, momentum: 'hinton', weightDecay: 1e-4, centered: false,
    });
    // PCD on Gaussian units: the CLI's --pcd chains; on Potts units: the batch, as before.
    expect(withFitDefaults({ batchSize: 20, persistent: true }, 'gaussian').chains).toBe(50);
    expect(withFitDefaults({ batchSize: 20 }, 'potts')).toEqual({
      batchSize: 20, k: 1, persistent: false, learningRate: 0.05, momentum: 'hinton', weightDecay: 1e-4, centered: false,
    });
    expect(withFitDefaults({ batchSize: 20, persistent: true }, 'potts').chains).toBe(20);
    // Parallel tempering: the binary rates, its chains left at the batch size.
    expect(withTemperingDefaults({ batchSize: 20 }, 'bernoulli')).toEqual({
      batchSize: 20, learningRate: { schedule: 'linear', rate: 0.1 }, momentum: 0, weightDecay: 1e-4, centered: true,
    });
    // The named schedule is a copy: a caller cannot change the constant through it.
    const filled = withFitDefaults({ batchSize: 20 }, 'bernoulli');
    expect(filled.learningRate).not.toBe(BINARY_FIT_DEFAULTS.learningRate);
  });

  it('a resume takes what its options leave out from the checkpoint, not the defaults', () => {
    const settings: TrainingSettings = {
      method: 'cd', batchSize: 20, chains: 20, k: 2, seed: 1, binarize: 'stochastic', threshold: 0.5, learningRate: 0.05,
      momentum: 'hinton', weightDecay: 1e-3, sparsityTarget: 0.1, sparsityCost: 0, sparsityDecay: 0.9, dataRows: 100,
    };
    expect(withFitDefaults({ batchSize: 20, resume: { settings } }, 'bernoulli')).toMatchObject({
      k: 2, persistent: false, learningRate: 0.05, momentum: 'hinton', weightDecay: 1e-3, centered: false,
    });
    expect(withFitDefaults({ batchSize: 20, resume: { settings } }, 'bernoulli')).not.toHaveProperty('chains');
    const pcd: TrainingSettings = { ...settings, method: 'pcd', chains: 9, learningRate: 0.2, learningRateDecay: { schedule: 'linear', epochs: 8 }, momentum: 0, centered: 0.05 };
    expect(withFitDefaults({ batchSize: 20, resume: { settings: pcd } }, 'bernoulli')).toMatchObject({
      persistent: true, chains: 9, learningRate: { schedule: 'linear', rate: 0.2, epochs: 8 }, momentum: 0, centered: { rate: 0.05 },
    });
    // Given options win (the resume check then names any difference).
    expect(withFitDefaults({ batchSize: 20, momentum: 0.5, resume: { settings: pcd } }, 'bernoulli').momentum).toBe(0.5);
    const pt: TrainingSettings = { ...settings, method: 'pt', k: 0, chains: 6 };
    expect(withTemperingDefaults({ batchSize: 20, resume: { settings: pt } }, 'bernoulli')).toMatchObject({ chains: 6, learningRate: 0.05, momentum: 'hinton', centered: false });
  });

  it("are the CLI's defaults and RECOMMENDED_FIT_OPTIONS (one source)", () => {
    expect(RECOMMENDED_FIT_OPTIONS).toEqual({ batchSize: 20, ...BINARY_FIT_DEFAULTS });
    expect(FIT_DEFAULTS).toEqual({ bernoulli: BINARY_FIT_DEFAULTS, gaussian: GAUSSIAN_FIT_DEFAULTS, potts: POTTS_FIT_DEFAULTS });
    expect({
      k: TRAIN_DEFAULTS.k, pcd: TRAIN_DEFAULTS.pcd, lr: TRAIN_DEFAULTS.lr, lrSchedule: TRAIN_DEFAULTS.lrSchedule,
      momentum: TRAIN_DEFAULTS.momentum, centered: TRAIN_DEFAULTS.centered, weightDecay: TRAIN_DEFAULTS.weightDecay, pcdChains: TRAIN_DEFAULTS.pcdChains,
    }).toEqual({
      k: BINARY_FIT_DEFAULTS.k, pcd: BINARY_FIT_DEFAULTS.persistent, lr: BINARY_FIT_DEFAULTS.learningRate.rate,
      lrSchedule: BINARY_FIT_DEFAULTS.learningRate.schedule, momentum: BINARY_FIT_DEFAULTS.momentum, centered: BINARY_FIT_DEFAULTS.centered,
      weightDecay: BINARY_FIT_DEFAULTS.weightDecay, pcdChains: PCD_MIN_CHAINS,
    });
    expect({ pcd: GAUSSIAN_DEFAULTS.pcd, lr: GAUSSIAN_DEFAULTS.lr, momentum: GAUSSIAN_DEFAULTS.momentum, centered: GAUSSIAN_DEFAULTS.centered, lrSchedule: GAUSSIAN_DEFAULTS.lrSchedule })
      .toEqual({ pcd: GAUSSIAN_FIT_DEFAULTS.persistent, lr: GAUSSIAN_FIT_DEFAULTS.learningRate, momentum: GAUSSIAN_FIT_DEFAULTS.momentum, centered: GAUSSIAN_FIT_DEFAULTS.centered, lrSchedule: 'constant' });
    expect(pcdChains(20)).toBe(50);
  });
});

describe('fit with only epochs and batchSize', () => {
  it('binary units: bit-identical to the recommended options with max(batch, 50) chains, and recorded so', async () => {
    const implicit = await run('bernoulli', intensities, { epochs: 2, batchSize: B });
    const explicit = await run('bernoulli', intensities, { ...RECOMMENDED_FIT_OPTIONS, epochs: 2, batchSize: B, chains: Math.max(B, 50) });
    expect(implicit.bits).toEqual(explicit.bits);
    expect(implicit.state.settings).toEqual(explicit.state.settings);
    expect(implicit.state.settings).toMatchObject({
      method: 'pcd', k: 1, batchSize: B, chains: 50, learningRate: 0.1, learningRateDecay: { schedule: 'linear', epochs: 2 },
      momentum: 0, weightDecay: 1e-4, centered: 0.01,
    });
    expect(implicit.state.chains).toHaveLength(50 * V);
    expect(implicit.state.offsets?.visible).toHaveLength(V);
    // The check can fail: the old defaults train differently.
    const legacy = await run('bernoulli', intensities, { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: B });
    expect(legacy.bits).not.toEqual(implicit.bits);
    expect(legacy.state.settings).toMatchObject({ method: 'cd', chains: B, learningRate: 0.05, momentum: 'hinton' });
    expect(legacy.state.settings.centered).toBeUndefined();
  });

  it('binary units: a batch above 50 runs as many chains as the batch', async () => {
    const rows = randomBinary(60 * V, 0.4, mulberry32(5));
    const r = await run('bernoulli', rows, { epochs: 1, batchSize: 60, binarize: 'none' });
    expect(r.state.settings).toMatchObject({ method: 'pcd', chains: 60 });
  });

  it('Gaussian units: bit-identical to CD-1, the Gaussian rate, hinton momentum, not centered (and not refused for centering)', async () => {
    const normals = randomNormal(ROWS * V, 1, mulberry32(7));
    const implicit = await run('gaussian', normals, { epochs: 2, batchSize: B, binarize: 'none' });
    const explicit = await run('gaussian', normals, {
      epochs: 2, batchSize: B, binarize: 'none', k: 1, persistent: false, learningRate: DEFAULT_GAUSSIAN_LEARNING_RATE, momentum: 'hinton', weightDecay: 1e-4, centered: false,
    });
    expect(implicit.bits).toEqual(explicit.bits);
    expect(implicit.state.settings).toMatchObject({ method: 'cd', k: 1, chains: B, learningRate: 0.002, momentum: 'hinton', weightDecay: 1e-4 });
    expect(implicit.state.settings.centered).toBeUndefined();
    expect(implicit.state.settings.learningRateDecay).toBeUndefined();
    const legacy = await run('gaussian', normals, { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: B, binarize: 'none' });
    expect(legacy.bits).not.toEqual(implicit.bits);
    // Asking for centering on Gaussian units is still refused.
    await expect(model('gaussian').fit(normals, { epochs: 1, batchSize: B, binarize: 'none', centered: true })).rejects.toThrow(/binary \(bernoulli\) visible units only/);
  });

  it('Potts units keep the earlier defaults: CD-1, 0.05, hinton, not centered', async () => {
    const q = 3;
    const sites = 3;
    const m = RBM.create(device, { visible: sites * q, hidden: H, seed: 2, visibleType: 'potts', visibleStates: q });
    made.push(m);
    const data = oneHotFromCodes(randomCodes(12, sites, q, mulberry32(4)), sites, q);
    const states: TrainingState[] = [];
    await m.fit(data, { epochs: 1, batchSize: 4, onCheckpoint: (s) => void states.push(s) });
    expect(states[0].settings).toMatchObject({ method: 'cd', k: 1, chains: 4, learningRate: 0.05, momentum: 'hinton', weightDecay: 1e-4 });
    expect(states[0].settings.centered).toBeUndefined();
  });

  it('parallel tempering: the binary rates and centering, chains = the batch', async () => {
    const m = model();
    const states: TrainingState[] = [];
    await fitPT(m, intensities, { epochs: 1, batchSize: B, replicas: 3, onCheckpoint: (s) => void states.push(s) });
    expect(states[0].settings).toMatchObject({
      method: 'pt', chains: B, learningRate: 0.1, learningRateDecay: { schedule: 'linear', epochs: 1 }, momentum: 0, centered: 0.01,
    });
  });
});

describe('resume leaving options out', () => {
  it('continues a checkpoint of the earlier defaults (CD-1, 0.05, hinton) with its settings, bit for bit', async () => {
    const o = { ...LEGACY_FIT_OPTIONS, epochs: 3, batchSize: B };
    const whole = await run('bernoulli', intensities, o);
    const part = await run('bernoulli', intensities, { ...o, epochs: 1 });
    const resumed = await run('bernoulli', intensities, { epochs: 3, batchSize: B, resume: part.state });
    expect(resumed.bits).toEqual(whole.bits);
    expect(resumed.state.settings).toEqual(whole.state.settings);
  });

  it('continues a default run (PCD, 50 chains, linear, centered) bit for bit', async () => {
    const whole = await run('bernoulli', intensities, { epochs: 3, batchSize: B });
    // The first epoch's checkpoint of a 3-epoch run (the linear schedule's horizon is the run's 3 epochs).
    const m = model();
    const states: TrainingState[] = [];
    await m.fit(intensities, { epochs: 3, batchSize: B, onCheckpoint: (s) => void states.push(s) });
    const resumed = await run('bernoulli', intensities, { epochs: 3, batchSize: B, resume: states[0] });
    expect(resumed.bits).toEqual(whole.bits);
    expect(resumed.state.settings).toMatchObject({ method: 'pcd', chains: 50, centered: 0.01 });
  });
});
