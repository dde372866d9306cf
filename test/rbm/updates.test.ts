// Whole CD-k / PCD-k updates, several in a row, replayed on the CPU reference.
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
  updates: number;
}

const CASES: Case[] = [
  { name: 'CD-1', V: 37, H: 19, B: 11, k: 1, persistent: false, updates: 6 },
  { name: 'CD-5', V: 29, H: 13, B: 7, k: 5, persistent: false, updates: 4 },
  { name: 'PCD-1', V: 37, H: 19, B: 11, k: 1, persistent: true, updates: 6 },
  { name: 'CD-2 with a sparsity target', V: 23, H: 31, B: 9, k: 2, persistent: false, updates: 5, sparsity: true },
  { name: 'PCD-3, tiny', V: 7, H: 5, B: 3, k: 3, persistent: true, updates: 5 },
];

describe.each(CASES)('$name updates match the CPU reference', ({ V, H, B, k, persistent, updates, sparsity }) => {
  const models = disposedAfterAll();

  it(`leaves W, b, c equal to the reference after ${updates} updates`, async () => {
    const { data, gpu, init } = await replaySetup(device, models, { V, H, B, updates, density: 0.35, dataSeed: V * 1000 + k, modelSeed: 77 });
    const cpu = new CpuRBM(V, H, init, 77);
    const trainer = await gpu.createTrainer({ batchSize: B, k, persistent });
    const hyper = replayHyper(0.1, sparsity);
    const recon = replayUpdates(trainer, data, B * V, updates, hyper, (batch) => cpu.update(batch, B, k, persistent, hyper));
    // The GPU-reduced reconstruction error of every update equals the reference's.
    const gpuRecon = await trainer.readMetrics(updates);
    expect(maxRelError(gpuRecon, recon)).toBeLessThan(1e-5);
    expect(recon.every((r) => r > 0.01 && r < 1)).toBe(true);
    const after = await gpu.readParams();
    expect(trainer.step).toBe(updates);
    expect(cpu.step).toBe(updates);
    // The parameters moved (the test would pass trivially otherwise) …
    expect(maxRelError(after.W, init.W, 1e-2)).toBeGreaterThan(1e-2);
    // … and moved exactly as the reference says, up to float32 rounding.
    expect(maxRelError(after.W, cpu.W, 1e-2)).toBeLessThan(2e-5);
    expect(maxRelError(after.b, cpu.b, 1e-2)).toBeLessThan(2e-5);
    expect(maxRelError(after.c, cpu.c, 1e-2)).toBeLessThan(2e-5);
    trainer.dispose();
  });
});

describe('trainer', () => {
  it('is reproducible: the same seed and data give bit-identical parameters', async () => {
    const V = 20;
    const H = 9;
    const B = 5;
    const data = randomBinary(3 * B * V, 0.5, mulberry32(3));
    const run = async () => {
      const m = RBM.create(device, { visible: V, hidden: H, seed: 9 });
      const t = await m.createTrainer({ batchSize: B, k: 2, persistent: true });
      for (let u = 0; u < 3; u++) t.update(data.subarray(u * B * V, (u + 1) * B * V), { learningRate: 0.1, momentum: 0.9 });
      const p = await m.readParams();
      m.dispose();
      return p;
    };
    const [a, b] = [await run(), await run()];
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(Array.from(a.c)).toEqual(Array.from(b.c));
  });

  it('rejects a batch of the wrong size or non-binary data and leaves the model unchanged', async () => {
    const m = RBM.create(device, { visible: 6, hidden: 4, seed: 1 });
    const t = await m.createTrainer({ batchSize: 2 });
    const before = await m.readParams();
    expect(() => t.update(new Float32Array(11), { learningRate: 0.1 })).toThrow(/batchSize × visible = 2 × 6 = 12/);
    const bad = new Float32Array(12);
    bad[7] = 0.5;
    expect(() => t.update(bad, { learningRate: 0.1 })).toThrow(/not binary: row 1, column 1 is 0.5/);
    expect(() => t.update(new Float32Array(12), { learningRate: Number.NaN })).toThrow(/learningRate/);
    const after = await m.readParams();
    expect(Array.from(after.W)).toEqual(Array.from(before.W));
    m.dispose();
    expect(() => t.update(new Float32Array(12), { learningRate: 0.1 })).toThrow(/disposed/);
  });
});
