// Gaussian–Bernoulli RBMs: the Gaussian epilogue, free energy, whole updates
// against the CPU reference, files, and learning on real-valued Fashion-MNIST.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { CpuRBM } from '../reference/reference';
import { softplus } from '../reference/exact';
import { readIdx, idxImagesToDataset } from '../../src/data/idx';
import { standardize } from '../../src/data/standardize';
import { testDevice } from '../helpers/device';
import { mulberry32, randomNormal } from '../helpers/random';
import { maxRelError } from '../helpers/compare';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

function gaussianF(V: number, H: number, p: { W: Float32Array; b: Float32Array; c: Float32Array }, v: Float32Array): number {
  let f = 0;
  for (let i = 0; i < V; i++) f += (v[i] - p.b[i]) ** 2 / 2;
  for (let j = 0; j < H; j++) {
    let x = p.c[j];
    for (let i = 0; i < V; i++) x += v[i] * p.W[i * H + j];
    f -= softplus(x);
  }
  return f;
}

describe('Gaussian visible units', () => {
  const V = 23;
  const H = 11;
  const rand = mulberry32(17);
  const params = { W: randomNormal(V * H, 0.1, rand), b: randomNormal(V, 0.5, rand), c: randomNormal(H, 0.5, rand) };

  it('free energy is Σ(v − b)²/2 − Σ softplus(vᵀw_j + c_j)', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, visibleType: 'gaussian' });
    const data = randomNormal(5 * V, 1, rand);
    const F = await model.freeEnergy(data);
    model.dispose();
    for (let r = 0; r < 5; r++) {
      const ref = gaussianF(V, H, params, data.subarray(r * V, (r + 1) * V));
      expect(Math.abs(F[r] - ref)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref)));
    }
  });

  it.each([false, true])('CD-1/PCD-1 updates equal the CPU reference (persistent=%s)', async (persistent) => {
    const B = 7;
    const model = RBM.create(device, { visible: V, hidden: H, params, visibleType: 'gaussian', seed: 4 });
    const cpu = new CpuRBM(V, H, params, 4, true);
    const t = await model.createTrainer({ batchSize: B, persistent });
    const hyper = { learningRate: 0.01, momentum: 0.5 };
    const recon: number[] = [];
    for (let u = 0; u < 4; u++) {
      const batch = randomNormal(B * V, 1, rand);
      t.update(batch, hyper);
      recon.push(cpu.update(batch, B, 1, persistent, hyper));
    }
    const p = await model.readParams();
    expect(maxRelError(p.W, cpu.W, 1e-2)).toBeLessThan(1e-4);
    expect(maxRelError(p.b, cpu.b, 1e-2)).toBeLessThan(1e-4);
    expect(maxRelError(p.c, cpu.c, 1e-2)).toBeLessThan(1e-4);
    expect(maxRelError(await t.readMetrics(4), recon)).toBeLessThan(1e-4);
    t.dispose();
    model.dispose();
  });

  it('samples are the mean plus unit-variance noise', async () => {
    // W = 0: p(v) = N(b, I) exactly.
    const b = Float32Array.from({ length: V }, (_, i) => i / 10 - 1);
    const model = RBM.create(device, { visible: V, hidden: H, visibleType: 'gaussian', params: { W: new Float32Array(V * H), b, c: new Float32Array(H) } });
    const chains = 4000;
    const r = await model.sample({ chains, steps: 3 });
    model.dispose();
    for (let i = 0; i < V; i += 5) {
      let s = 0;
      let s2 = 0;
      for (let c = 0; c < chains; c++) {
        const x = r.samples[c * V + i] - b[i];
        s += x;
        s2 += x * x;
      }
      expect(Math.abs(s / chains)).toBeLessThan(4 / Math.sqrt(chains));
      expect(Math.abs(s2 / chains - 1)).toBeLessThan(0.1);
      expect(r.probabilities[i]).toBeCloseTo(b[i], 5);
    }
  });

  it('saves as "visible": "gaussian" and reloads as Gaussian', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, visibleType: 'gaussian' });
    const { model: again, metadata } = RBM.fromSafetensors(device, await model.toSafetensors());
    expect(metadata.visible).toBe('gaussian');
    expect(again.visibleType).toBe('gaussian');
    const data = randomNormal(2 * V, 1, rand);
    expect(Array.from(await again.freeEnergy(data))).toEqual(Array.from(await model.freeEnergy(data)));
    model.dispose();
    again.dispose();
  });

  it('refuses binarization for real-valued data', async () => {
    const model = RBM.create(device, { visible: 2, hidden: 2, visibleType: 'gaussian' });
    await expect(model.fit(new Float32Array([0.5, -3, 2, 1]), { epochs: 1, batchSize: 1, binarize: 'stochastic' })).rejects.toThrow(/Gaussian RBM trains on real values/);
    model.dispose();
  });
});

it('learns standardised Fashion-MNIST: reconstruction error falls', async () => {
  const idx = await readIdx(readFileSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'));
  const images = idxImagesToDataset(idx);
  const n = 2000;
  const { data, mean } = standardize(images.pixels.subarray(0, n * 784), 784);
  const model = RBM.create(device, { visible: 784, hidden: 64, seed: 2, visibleType: 'gaussian', visibleMarginals: mean.map(() => 0), weightScale: 0.01 });
  const r = await model.fit(data, { epochs: 3, batchSize: 50, learningRate: 0.002, momentum: 0.5 });
  model.dispose();
  expect(r.reconError[2]).toBeLessThan(r.reconError[0]);
  // Standardised data has variance 1 per pixel: a model that learned nothing reconstructs at ≥ 1.
  expect(r.reconError[2]).toBeLessThan(0.8); // measured: 0.65 after 3 epochs
}, 300_000);
