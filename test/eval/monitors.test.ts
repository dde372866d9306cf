// Free-energy gap and pseudo-log-likelihood against float64 computations of the same formulas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { freeEnergyGap, pllFlipUnit, pseudoLogLikelihood, PLL_FLIP_PHASE } from '../../src/rbm/monitors';
import { freeEnergyBatch, softplus, type RBMParams } from '../reference/exact';
import { uniform01 } from '../../src/host/philox';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

async function cpuParams(m: RBM): Promise<RBMParams> {
  return { visible: m.visible, hidden: m.hidden, ...(await m.readParams()) };
}

function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

describe('freeEnergyGap', () => {
  it('is near 0 for a fresh model and clearly positive once it overfits a tiny training set', async () => {
    const V = 40;
    const H = 30;
    const n = 6;
    const rand = mulberry32(12);
    const train = randomBinary(n * V, 0.5, rand);
    const heldOut = randomBinary(n * V, 0.5, rand);
    const m = RBM.create(device, { visible: V, hidden: H, seed: 5 });
    models.push(m);
    const before = await freeEnergyGap(m, train, heldOut);
    const trainer = await m.createTrainer({ batchSize: n, k: 1, metrics: false });
    for (let u = 0; u < 400; u++) trainer.update(train, { learningRate: 0.1, momentum: 0.5 });
    trainer.dispose();
    const after = await freeEnergyGap(m, train, heldOut);
    expect(Math.abs(before)).toBeLessThan(2);
    expect(after).toBeGreaterThan(10);
    // The same number from the float64 free energies.
    const p = await cpuParams(m);
    const cpu = meanOf(freeEnergyBatch(p, heldOut, n)) - meanOf(freeEnergyBatch(p, train, n));
    expect(Math.abs(after - cpu)).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu)));
  });
});

describe('pseudoLogLikelihood', () => {
  const V = 20;
  const H = 9;
  const rows = 30;
  let m: RBM;
  let data: Float32Array;
  let F: Float64Array;
  let p: RBMParams;

  beforeAll(async () => {
    const rand = mulberry32(99);
    const params = { W: randomNormal(V * H, 0.8, rand), b: randomNormal(V, 0.5, rand), c: randomNormal(H, 0.5, rand) };
    m = RBM.create(device, { visible: V, hidden: H, params });
    models.push(m);
    data = randomBinary(rows * V, 0.4, rand);
    p = await cpuParams(m);
    F = freeEnergyBatch(p, data, rows);
  });

  /** log p(v_i | v_−i) = log σ(F(ṽ) − F(v)) in float64. */
  function logConditional(r: number, i: number): number {
    const flipped = data.slice(r * V, (r + 1) * V);
    flipped[i] = 1 - flipped[i];
    return -softplus(-(freeEnergyBatch(p, flipped, 1)[0] - F[r]));
  }

  it("matches scikit-learn's formula V · log σ(F(ṽ) − F(v)) in float64, with the same flipped units", async () => {
    const res = await pseudoLogLikelihood(m, data, { seed: 7 });
    expect(res.flipped).not.toBeNull();
    const flipped = res.flipped as Uint32Array;
    const units = new Set<number>();
    for (let r = 0; r < rows; r++) {
      // The unit comes from Philox, independently recomputed here.
      expect(flipped[r]).toBe(Math.floor(uniform01(7, 0, r, PLL_FLIP_PHASE) * V));
      expect(pllFlipUnit(7, r, V)).toBe(flipped[r]);
      units.add(flipped[r]);
      const cpu = V * logConditional(r, flipped[r]);
      expect(Math.abs(res.perRow[r] - cpu)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu)));
      expect(res.perRow[r]).toBeLessThan(0);
    }
    expect(units.size).toBeGreaterThan(10);
    expect(res.mean).toBeCloseTo(meanOf(res.perRow), 12);
    const other = await pseudoLogLikelihood(m, data, { seed: 8 });
    expect(Array.from(other.flipped as Uint32Array)).not.toEqual(Array.from(flipped));
  });

  it('allUnits gives the exact PLL Σ_i log p(v_i | v_−i), and the stochastic one estimates it', async () => {
    const res = await pseudoLogLikelihood(m, data, { allUnits: true });
    expect(res.flipped).toBeNull();
    for (let r = 0; r < rows; r++) {
      let cpu = 0;
      for (let i = 0; i < V; i++) cpu += logConditional(r, i);
      expect(Math.abs(res.perRow[r] - cpu)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu)));
    }
    // Averaged over many seeds the one-unit estimate approaches the exact sum.
    let sum = 0;
    const seeds = 40;
    for (let s = 0; s < seeds; s++) sum += (await pseudoLogLikelihood(m, data, { seed: s })).mean;
    expect(Math.abs(sum / seeds - res.mean)).toBeLessThan(0.1 * Math.abs(res.mean));
  });

  it('rejects non-binary or ragged data and bad seeds', async () => {
    await expect(pseudoLogLikelihood(m, new Float32Array(V).fill(0.5))).rejects.toThrow(/not binary/);
    await expect(pseudoLogLikelihood(m, new Float32Array(V + 1))).rejects.toThrow(/visible=20/);
    await expect(pseudoLogLikelihood(m, new Float32Array(V), { seed: -1 })).rejects.toThrow(/seed/);
  });
});
