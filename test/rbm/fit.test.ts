// The training loop: GPU gather, epochs, schedules, metrics, pause/cancel,
// and equality with the CPU reference replaying the same batches.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { GpuDataset } from '../../src/rbm/dataset';
import { CpuRBM } from '../reference/reference';
import { shuffledPermutation } from '../../src/data/split';
import { binarizeStochastic, binarizeThreshold } from '../../src/data/binarize';
import { readFloat32 } from '../../src/gpu/buffers';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary } from '../helpers/random';
import { maxRelError } from '../helpers/compare';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

function intensities(n: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.fround(rand()));
}

describe('gather', () => {
  it.each(['stochastic', 'threshold'] as const)('builds batches through the permutation with %s binarization', async (mode) => {
    const V = 13;
    const N = 10;
    const B = 4;
    const data = intensities(N * V, mulberry32(5));
    const model = RBM.create(device, { visible: V, hidden: 3, seed: 8 });
    const ds = GpuDataset.upload(device, data, V);
    const t = await model.createTrainer({ batchSize: B });
    t.bindDataset(ds, { binarize: mode, seed: 21 });
    t.setHyperparameters({ learningRate: 0 });
    const perm = shuffledPermutation(N, 21, 3);
    t.startEpoch(3, perm);
    const enc = device.createCommandEncoder();
    t.encodeUpdates(enc, 2); // the second update gathers rows perm[B..2B)
    device.queue.submit([enc.finish()]);
    const got = await readFloat32(device, t.vis, B * V);
    const binary = mode === 'stochastic' ? binarizeStochastic(data, 21, 3) : binarizeThreshold(data);
    for (let r = 0; r < B; r++) {
      expect(Array.from(got.subarray(r * V, (r + 1) * V))).toEqual(Array.from(binary.subarray(perm[B + r] * V, (perm[B + r] + 1) * V)));
    }
    t.dispose();
    ds.dispose();
    model.dispose();
  });
});

describe('fit', () => {
  it.each([false, true])('equals the CPU reference over 2 epochs of shuffled batches (persistent=%s)', async (persistent) => {
    const V = 17;
    const H = 9;
    const N = 24;
    const B = 6;
    const data = randomBinary(N * V, 0.4, mulberry32(persistent ? 2 : 1));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 31, weightScale: 0.2 });
    const cpu = new CpuRBM(V, H, await model.readParams(), 31);
    const opts = { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: B, k: 2, persistent, chains: B, learningRate: (e: number) => 0.1 / (1 + e), momentum: 0.5, weightDecay: 1e-3, binarize: 'none' as const, updatesPerSubmit: 3 };
    const result = await model.fit(data, opts);
    const cpuRecon: number[] = [];
    for (let e = 0; e < 2; e++) {
      const perm = shuffledPermutation(N, 31, e);
      let sum = 0;
      for (let b = 0; b < N / B; b++) {
        const batch = new Float32Array(B * V);
        for (let r = 0; r < B; r++) batch.set(data.subarray(perm[b * B + r] * V, (perm[b * B + r] + 1) * V), r * V);
        sum += cpu.update(batch, B, 2, persistent, { learningRate: 0.1 / (1 + e), momentum: 0.5, weightDecay: 1e-3 });
      }
      cpuRecon.push(sum / (N / B));
    }
    const p = await model.readParams();
    expect(result.updates).toBe(8);
    expect(result.cancelled).toBe(false);
    expect(maxRelError(p.W, cpu.W, 1e-2)).toBeLessThan(5e-5);
    expect(maxRelError(p.b, cpu.b, 1e-2)).toBeLessThan(5e-5);
    expect(maxRelError(p.c, cpu.c, 1e-2)).toBeLessThan(5e-5);
    expect(maxRelError(result.reconError, cpuRecon)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('reports progress, and cancel stops at a chunk boundary leaving a usable model', async () => {
    const V = 20;
    const data = randomBinary(200 * V, 0.3, mulberry32(4));
    const model = RBM.create(device, { visible: V, hidden: 8 });
    const events: number[] = [];
    const run = model.train(data, {
      ...LEGACY_FIT_OPTIONS, epochs: 50, batchSize: 5, binarize: 'none', updatesPerSubmit: 4,
      onProgress: (p) => {
        events.push(p.step);
        if (p.step >= 12) run.cancel();
      },
    });
    const r = await run.result;
    expect(r.cancelled).toBe(true);
    expect(r.updates).toBeGreaterThanOrEqual(12);
    expect(r.updates).toBeLessThan(50 * 40);
    expect(r.updates % 4).toBe(0);
    expect(events).toEqual([...events].sort((a, b) => a - b));
    const p = await model.readParams();
    expect(p.W.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('pause holds training until resume', async () => {
    const V = 10;
    const data = randomBinary(40 * V, 0.3, mulberry32(6));
    const model = RBM.create(device, { visible: V, hidden: 4 });
    let pausedAt = -1;
    const run = model.train(data, {
      ...LEGACY_FIT_OPTIONS, epochs: 3, batchSize: 4, binarize: 'none', updatesPerSubmit: 2,
      onProgress: (p) => {
        if (pausedAt < 0) {
          run.pause();
          pausedAt = p.step;
          setTimeout(() => run.resume(), 100);
        }
      },
    });
    const t0 = performance.now();
    const r = await run.result;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(r.updates).toBe(30);
    model.dispose();
  });

  it('rejects bad options before touching the model', async () => {
    const model = RBM.create(device, { visible: 4, hidden: 2 });
    const before = await model.readParams();
    const data = randomBinary(16, 0.5, mulberry32(1));
    await expect(model.fit(data, { epochs: 1, batchSize: 2, learningRate: Number.NaN })).rejects.toThrow(/learningRate/);
    await expect(model.fit(data, { epochs: 1, batchSize: 5 })).rejects.toThrow(/fewer than one batch/);
    await expect(model.fit(new Float32Array(16).fill(0.5), { epochs: 1, batchSize: 2, binarize: 'none' })).rejects.toThrow(/0\/1 data/);
    await expect(model.fit(new Float32Array(16).fill(2), { epochs: 1, batchSize: 2 })).rejects.toThrow(/in \[0, 1\]/);
    await expect(model.fit(new Float32Array(15), { epochs: 1, batchSize: 2 })).rejects.toThrow(/multiple of 4/);
    expect(Array.from((await model.readParams()).W)).toEqual(Array.from(before.W));
    model.dispose();
  });
});
