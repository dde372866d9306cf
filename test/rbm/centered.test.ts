// Centered gradients (update_centered, center_offsets, center_bias) against the
// float64 reference's Algorithm 1 on odd sizes, and the plain update recovered
// exactly when the offsets are zero and never move.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { CpuRBM } from '../reference/reference';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary } from '../helpers/random';
import { maxRelError } from '../helpers/compare';
import { disposedAfterAll, replayHyper, replaySetup, replayUpdates, type ReplayCase } from '../helpers/update-replay';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

interface Case extends ReplayCase {
  persistent: boolean;
  rate: number;
}

const CASES: Case[] = [
  { name: 'CD-1', V: 13, H: 7, B: 5, k: 1, persistent: false, rate: 0.1 },
  { name: 'PCD-2 with a sparsity target', V: 13, H: 7, B: 5, k: 2, persistent: true, rate: 0.3, sparsity: true },
  { name: 'CD-1, offsets = batch means (ν = 1)', V: 19, H: 11, B: 3, k: 1, persistent: false, rate: 1 },
];
const UPDATES = 5;

describe.each(CASES)('centered $name matches the float64 reference', ({ V, H, B, k, persistent, rate, sparsity }) => {
  const models = disposedAfterAll();

  it(`leaves W, b, c and the offsets equal to the reference after ${UPDATES} updates`, async () => {
    const { rand, data, gpu, init } = await replaySetup(device, models, { V, H, B, updates: UPDATES, density: 0.3, dataSeed: V * 100 + H, modelSeed: 5 });
    // Offsets away from 0.5 and from each other, so every term of the centered step counts.
    const mu = Float32Array.from({ length: V }, () => 0.1 + 0.8 * rand());
    const lambda = Float32Array.from({ length: H }, () => 0.1 + 0.8 * rand());
    const trainer = await gpu.createTrainer({ batchSize: B, k, persistent, centered: { rate, visibleOffset: mu, hiddenOffset: lambda } });
    const cpu = new CpuRBM(V, H, init, 5);
    cpu.centering = { mu: Float64Array.from(mu), lambda: Float64Array.from(lambda), rate };
    const plain = new CpuRBM(V, H, init, 5);
    const hyper = replayHyper(0.2, sparsity);
    replayUpdates(trainer, data, B * V, UPDATES, hyper, (batch) => {
      cpu.update(batch, B, k, persistent, hyper);
      plain.update(batch, B, k, persistent, hyper);
    });
    const after = await gpu.readParams();
    const state = await trainer.readState();
    // Centering changes the step (else the comparison below could not tell the updates apart) …
    expect(maxRelError(plain.W, cpu.W, 1e-2)).toBeGreaterThan(1e-2);
    expect(maxRelError(plain.b, cpu.b, 1e-2)).toBeGreaterThan(1e-2);
    expect(maxRelError(plain.c, cpu.c, 1e-2)).toBeGreaterThan(1e-2);
    // … and the GPU takes the reference's centered step, up to float32 rounding.
    expect(maxRelError(after.W, cpu.W, 1e-2)).toBeLessThan(3e-5);
    expect(maxRelError(after.b, cpu.b, 1e-2)).toBeLessThan(3e-5);
    expect(maxRelError(after.c, cpu.c, 1e-2)).toBeLessThan(3e-5);
    expect(state.offsets).toBeDefined();
    expect(maxRelError(state.offsets!.visible, cpu.centering.mu, 1e-3)).toBeLessThan(1e-5);
    expect(maxRelError(state.offsets!.hidden, cpu.centering.lambda, 1e-3)).toBeLessThan(1e-5);
    trainer.dispose();
  });
});

describe('centered trainer', () => {
  it('with μ = λ = 0 and rate 0 takes bit-identically the plain step', async () => {
    const V = 13;
    const H = 7;
    const B = 5;
    const data = randomBinary(4 * B * V, 0.4, mulberry32(11));
    const run = async (centered: boolean): Promise<{ W: Float32Array; b: Float32Array; c: Float32Array }> => {
      const m = RBM.create(device, { visible: V, hidden: H, seed: 3, weightScale: 0.2 });
      const t = await m.createTrainer({
        batchSize: B, k: 1, persistent: true,
        ...(centered ? { centered: { rate: 0, visibleOffset: new Float32Array(V), hiddenOffset: new Float32Array(H) } } : {}),
      });
      for (let u = 0; u < 4; u++) t.update(data.subarray(u * B * V, (u + 1) * B * V), { learningRate: 0.1, momentum: 0.5, weightDecay: 1e-3 });
      const p = await m.readParams();
      m.dispose();
      return p;
    };
    const [plain, centered] = [await run(false), await run(true)];
    expect(Array.from(centered.W)).toEqual(Array.from(plain.W));
    expect(Array.from(centered.b)).toEqual(Array.from(plain.b));
    expect(Array.from(centered.c)).toEqual(Array.from(plain.c));
  });

  it('round-trips its offsets through readState / restoreState and refuses a state without them', async () => {
    const m = RBM.create(device, { visible: 6, hidden: 4, seed: 1 });
    const t = await m.createTrainer({ batchSize: 2, centered: { rate: 0.5 } });
    t.update(randomBinary(12, 0.5, mulberry32(2)), { learningRate: 0.1 });
    const s = await t.readState();
    expect(Array.from(s.offsets!.visible).some((x) => x !== 0.5)).toBe(true);
    const t2 = await m.createTrainer({ batchSize: 2, centered: { rate: 0.5 } });
    t2.restoreState(s);
    expect(await t2.readState()).toEqual(s);
    expect(() => t2.restoreState({ step: 0, hiddenMean: s.hiddenMean })).toThrow(/centered and needs offsets/);
    const plain = await m.createTrainer({ batchSize: 2 });
    expect(() => plain.restoreState(s)).toThrow(/not centered/);
    [t, t2, plain].forEach((x) => x.dispose());
    m.dispose();
  });

  it('rejects a bad rate, offsets of the wrong size and Gaussian visible units', async () => {
    const m = RBM.create(device, { visible: 6, hidden: 4, seed: 1 });
    await expect(m.createTrainer({ batchSize: 2, centered: { rate: 1.5 } })).rejects.toThrow(/centered.rate must be in \[0, 1\]/);
    await expect(m.createTrainer({ batchSize: 2, centered: { rate: 0.1, hiddenOffset: new Float32Array(3) } }))
      .rejects.toThrow(/centered.hiddenOffset must be a Float32Array of 4 values/);
    m.dispose();
    const g = RBM.create(device, { visible: 6, hidden: 4, seed: 1, visibleType: 'gaussian' });
    await expect(g.createTrainer({ batchSize: 2, centered: { rate: 0.1 } })).rejects.toThrow(/binary \(bernoulli\) visible units only/);
    g.dispose();
  });
});
