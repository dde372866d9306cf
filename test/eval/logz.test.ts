// Exact log Z on the GPU against the float64 enumeration of test/reference/exact.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { averageLogLikelihood, enumeratedLayer, exactLogZ, MAX_EXACT_LOGZ_UNITS } from '../../src/rbm/logz';
import * as exact from '../reference/exact';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

function randomModel(V: number, H: number, scale: number, seed: number): RBM {
  const rand = mulberry32(seed);
  const params = {
    W: randomNormal(V * H, scale, rand),
    b: randomNormal(V, scale, rand),
    c: randomNormal(H, scale, rand),
  };
  const m = RBM.create(device, { visible: V, hidden: H, params });
  models.push(m);
  return m;
}

async function cpuLogZ(m: RBM): Promise<number> {
  return exact.logZExact({ visible: m.visible, hidden: m.hidden, ...(await m.readParams()) });
}

function relError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

const CASES = [
  { V: 20, H: 12, scale: 0.5, layer: 'hidden' },
  { V: 9, H: 22, scale: 0.5, layer: 'visible' },
  { V: 7, H: 5, scale: 1, layer: 'hidden' },
  { V: 3, H: 301, scale: 0.3, layer: 'visible' },
  { V: 131, H: 11, scale: 0.2, layer: 'hidden' },
  { V: 13, H: 13, scale: 0.7, layer: 'hidden' },
  { V: 1, H: 1, scale: 1, layer: 'hidden' },
] as const;

describe('exactLogZ', () => {
  it.each(CASES)('equals the float64 enumeration for $V x $H (enumerating $layer)', async ({ V, H, scale, layer }) => {
    const m = randomModel(V, H, scale, V * 100 + H);
    expect(enumeratedLayer(m)).toBe(layer);
    const gpu = await exactLogZ(m);
    const cpu = await cpuLogZ(m);
    expect(relError(gpu, cpu)).toBeLessThan(1e-6);
  });

  it('splits the enumeration into chunks without changing the result', async () => {
    // 2^17 states in 512 chunks of 256 (one workgroup each) vs the default single chunk.
    const m = randomModel(40, 17, 0.3, 4);
    const cpu = await cpuLogZ(m);
    const one = await exactLogZ(m);
    const many = await exactLogZ(m, { chunkStates: 256 });
    expect(relError(one, cpu)).toBeLessThan(1e-6);
    expect(relError(many, cpu)).toBeLessThan(1e-6);
  });

  it.each([10, 30])('stays finite and exact with large weights (scale %i)', async (scale) => {
    for (const [V, H] of [
      [20, 12],
      [9, 22],
    ]) {
      const m = randomModel(V, H, scale, scale + V);
      const gpu = await exactLogZ(m);
      const cpu = await cpuLogZ(m);
      expect(Number.isFinite(gpu)).toBe(true);
      expect(cpu).toBeGreaterThan(100); // the terms would overflow exp() in f32 without the max shift
      expect(relError(gpu, cpu)).toBeLessThan(1e-6);
    }
  });

  it('enumerates 2^25 hidden states (512 chunks) right: a 26-25 model whose log Z has a closed form', async () => {
    // Only visible units 0 and 1 are connected, so Σ_h over 2^25 states collapses to
    // log Σ_{v0,v1} e^{b0·v0 + b1·v1} Π_j (1 + e^{c_j + W0j·v0 + W1j·v1}) + Σ_{i≥2} softplus(b_i):
    // a lost or doubled chunk at this size (where trained 784-25 models are judged) changes it.
    const V = 26;
    const H = 25;
    const rand = mulberry32(25);
    const W = new Float32Array(V * H);
    for (let j = 0; j < H; j++) {
      W[j] = rand() * 3 - 1.5;
      W[H + j] = rand() * 3 - 1.5;
    }
    const b = Float32Array.from({ length: V }, () => rand() * 2 - 1);
    const c = Float32Array.from({ length: H }, () => rand() * 2 - 1.5);
    const m = RBM.create(device, { visible: V, hidden: H, params: { W, b, c } });
    models.push(m);
    const terms: number[] = [];
    for (const v0 of [0, 1]) {
      for (const v1 of [0, 1]) {
        let t = b[0] * v0 + b[1] * v1;
        for (let j = 0; j < H; j++) t += exact.softplus(c[j] + W[j] * v0 + W[H + j] * v1);
        terms.push(t);
      }
    }
    let closed = exact.logSumExp(terms);
    for (let i = 2; i < V; i++) closed += exact.softplus(b[i]);
    expect(enumeratedLayer(m)).toBe('hidden');
    expect(Math.abs((await exactLogZ(m)) - closed)).toBeLessThan(1e-4);
  });

  it('names the unit count and the limit when the smaller layer is too large', async () => {
    const m = randomModel(30, 27, 0.01, 1);
    await expect(exactLogZ(m)).rejects.toThrow(/27 units.*limited to 26 units/);
    expect(MAX_EXACT_LOGZ_UNITS).toBe(26);
    await expect(exactLogZ(randomModel(5, 4, 1, 2), { chunkStates: 1000 })).rejects.toThrow(/power of two/);
  });

  it('rejects a disposed model', async () => {
    const m = RBM.create(device, { visible: 4, hidden: 3 });
    m.dispose();
    await expect(exactLogZ(m)).rejects.toThrow(/disposed/);
  });
});

describe('averageLogLikelihood', () => {
  it('equals the float64 mean log p(v)', async () => {
    const V = 18;
    const H = 10;
    const m = randomModel(V, H, 0.8, 77);
    const data = randomBinary(25 * V, 0.4, mulberry32(5));
    const logZ = await exactLogZ(m);
    const gpu = await averageLogLikelihood(m, data, logZ);
    const cpu = exact.averageLogLikelihood({ visible: V, hidden: H, ...(await m.readParams()) }, data, 25);
    expect(Math.abs(gpu - cpu)).toBeLessThan(1e-4);
    expect(gpu).toBeLessThan(0);
  });

  it('rejects a non-finite log Z and ragged data', async () => {
    const m = randomModel(6, 4, 1, 9);
    await expect(averageLogLikelihood(m, new Float32Array(12), Number.NaN)).rejects.toThrow(/logZ/);
    await expect(averageLogLikelihood(m, new Float32Array(13), 1)).rejects.toThrow(/multiple of visible=6/);
  });
});
