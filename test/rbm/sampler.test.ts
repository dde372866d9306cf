// Sampler statistics against the exact distribution of a tiny RBM.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { exactMarginals, sigmoid } from '../reference/exact';
import { testDevice, testRuntime } from '../helpers/device';
import { mulberry32, randomNormal } from '../helpers/random';
import { maxRelError } from '../helpers/compare';

const V = 6;
const H = 4;
// SwiftShader is slow: fewer chains in the browser, with a bound scaled by 1/√n.
const CHAINS = testRuntime() === 'browser' ? 4000 : 20000;
const TV_BOUND = 0.03 * Math.sqrt(20000 / CHAINS);

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

function histogram(samples: Float32Array, n: number, V: number): Float64Array {
  const h = new Float64Array(2 ** V);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < V; i++) if (samples[r * V + i] === 1) s |= 1 << i;
    h[s] += 1 / n;
  }
  return h;
}

function tv(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / 2;
}

describe('Gibbs sampling on a tiny RBM (V=6, H=4)', () => {
  const rand = mulberry32(99);
  const params = { W: randomNormal(V * H, 1, rand), b: randomNormal(V, 0.7, rand), c: randomNormal(H, 0.7, rand) };
  const exact = exactMarginals({ visible: V, hidden: H, ...params });

  it(`${CHAINS} chains from noise reach the exact distribution (TV < ${TV_BOUND.toFixed(3)})`, async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 5 });
    const r = await model.sample({ chains: CHAINS, steps: 60, keepEvery: 30 });
    model.dispose();
    expect(r.kept).toBe(2);
    const last = r.samples.subarray(CHAINS * V);
    // Chains began as noise: after burn-in they must match p(v), and the noise start must not.
    expect(tv(histogram(last, CHAINS, V), exact)).toBeLessThan(TV_BOUND);
    expect(tv(new Float64Array(64).fill(1 / 64), exact)).toBeGreaterThan(0.1);
    // Probabilities are σ(W h + b): each in (0, 1), and the samples' mean tracks them.
    let ps = 0;
    let ss = 0;
    for (let e = 0; e < last.length; e++) {
      ps += r.probabilities[CHAINS * V + e];
      ss += last[e];
    }
    expect(Math.abs(ps - ss) / last.length).toBeLessThan(0.01);
  });

  it('clamped sampling draws the free units from p(v_free | v_clamped)', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 6 });
    // Clamp v0 = 1, v1 = 0 in every chain.
    const mask = new Float32Array(CHAINS * V);
    const values = new Float32Array(CHAINS * V);
    for (let r = 0; r < CHAINS; r++) {
      mask[r * V] = 1;
      mask[r * V + 1] = 1;
      values[r * V] = 1;
    }
    const r = await model.sample({ chains: CHAINS, steps: 40, clamp: { mask, values } });
    model.dispose();
    const h = histogram(r.samples, CHAINS, V);
    const cond = new Float64Array(64);
    let z = 0;
    for (let s = 0; s < 64; s++) if ((s & 3) === 1) z += exact[s];
    for (let s = 0; s < 64; s++) if ((s & 3) === 1) cond[s] = exact[s] / z;
    expect(tv(h, cond)).toBeLessThan(TV_BOUND);
  });

  it('transform gives P(h|v) and reconstruct σ(P(h|v)·Wᵀ + b)', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params });
    const data = Float32Array.from({ length: 3 * V }, (_, e) => (e * 7) % 3 === 0 ? 1 : 0);
    const [h, rec] = [await model.transform(data), await model.reconstruct(data)];
    model.dispose();
    const refH: number[] = [];
    const refV: number[] = [];
    for (let r = 0; r < 3; r++) {
      const hr = Array.from({ length: H }, (_, j) => {
        let x = params.c[j];
        for (let i = 0; i < V; i++) x += data[r * V + i] * params.W[i * H + j];
        return sigmoid(x);
      });
      refH.push(...hr);
      for (let i = 0; i < V; i++) {
        let x = params.b[i];
        for (let j = 0; j < H; j++) x += hr[j] * params.W[i * H + j];
        refV.push(sigmoid(x));
      }
    }
    expect(maxRelError(h, refH)).toBeLessThan(1e-5);
    expect(maxRelError(rec, refV)).toBeLessThan(1e-5);
  });

  it('saves and reloads through safetensors with identical free energies', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 12 });
    const bytes = await model.toSafetensors({ note: 'test' });
    const { model: again, metadata } = RBM.fromSafetensors(device, bytes);
    const data = Float32Array.from({ length: 4 * V }, (_, e) => (e % 5 === 0 ? 1 : 0));
    const [f1, f2] = [await model.freeEnergy(data), await again.freeEnergy(data)];
    expect(Array.from(f2)).toEqual(Array.from(f1));
    expect(metadata.note).toBe('test');
    model.dispose();
    again.dispose();
  });

  it('rejects bad chain options', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params });
    await expect(model.sample({ chains: 0, steps: 1 })).rejects.toThrow(/chains must be a positive integer/);
    await expect(model.sample({ chains: 2, steps: 1, init: new Float32Array(5) })).rejects.toThrow(/2 × 6 = 12 values, got 5/);
    await expect(model.sample({ chains: 2, steps: 0 })).rejects.toThrow(/steps/);
    model.dispose();
  });
});
