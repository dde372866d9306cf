// The seed's identities on a tiny RBM, with the GPU free-energy kernel in the loop.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { energy, freeEnergy, logSumExp, logZByHidden, logZByVisible, logZBruteForce } from '../reference/exact';
import { testDevice } from '../helpers/device';
import { mulberry32, randomNormal } from '../helpers/random';

const V = 6;
const H = 4;

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

function bits(x: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (x >> i) & 1);
}

describe('tiny RBM (V=6, H=4) identities', () => {
  const rand = mulberry32(2024);
  const p = { W: randomNormal(V * H, 1, rand), b: randomNormal(V, 1, rand), c: randomNormal(H, 1, rand) };
  const params = { visible: V, hidden: H, ...p };

  it('the free_energy kernel equals −log Σ_h e^{−E(v,h)} for all 64 visible states', async () => {
    const m = RBM.create(device, { visible: V, hidden: H, params: p });
    const all = new Float32Array(2 ** V * V);
    for (let s = 0; s < 2 ** V; s++) all.set(bits(s, V), s * V);
    const F = await m.freeEnergy(all);
    m.dispose();
    for (let s = 0; s < 2 ** V; s++) {
      const v = bits(s, V);
      const terms = Array.from({ length: 2 ** H }, (_, t) => -energy(params, v, bits(t, H)));
      const brute = -logSumExp(terms);
      expect(Math.abs(F[s] - brute)).toBeLessThan(1e-5 * Math.max(1, Math.abs(brute)));
      expect(Math.abs(freeEnergy(params, v) - brute)).toBeLessThan(1e-10);
    }
  });

  it('log Z by enumerating h = by enumerating v = brute force, and matches the GPU free energies', async () => {
    const zh = logZByHidden(params);
    expect(Math.abs(zh - logZByVisible(params))).toBeLessThan(1e-10);
    expect(Math.abs(zh - logZBruteForce(params))).toBeLessThan(1e-10);
    const m = RBM.create(device, { visible: V, hidden: H, params: p });
    const all = new Float32Array(2 ** V * V);
    for (let s = 0; s < 2 ** V; s++) all.set(bits(s, V), s * V);
    const F = await m.freeEnergy(all);
    m.dispose();
    expect(Math.abs(logSumExp(Array.from(F, (f) => -f)) - zh)).toBeLessThan(1e-5);
  });

  it('free energies of 9,000 rows (three 4,096-row blocks) equal the float64 ones', async () => {
    const m = RBM.create(device, { visible: V, hidden: H, params: p });
    const n = 9000;
    const data = Float32Array.from({ length: n * V }, (_, e) => ((e * 2654435761) >>> 28) & 1);
    const F = await m.freeEnergy(data);
    m.dispose();
    for (let r = 0; r < n; r += 997) {
      expect(Math.abs(F[r] - freeEnergy(params, data.subarray(r * V, (r + 1) * V)))).toBeLessThan(1e-5);
    }
    expect(Math.abs(F[n - 1] - freeEnergy(params, data.subarray((n - 1) * V)))).toBeLessThan(1e-5);
  });
});
