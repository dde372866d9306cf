// AIS on the GPU: the chains replayed in float64 with the same random numbers,
// and the estimate's ±3σ band against exact log Z for models small enough to enumerate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { ais, reverseAis } from '../../src/rbm/ais';
import { DEFAULT_TILE, type TileShape } from '../../src/gpu/kernels';
import { exactLogZ } from '../../src/rbm/logz';
import { cpuAIS } from '../reference/ais';
import { aisEstimate, aisSchedule, baseRateBiases, logZBase } from '../../src/host/ais-math';
import { logSumExp, logZExact } from '../reference/exact';
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
  const params = { W: randomNormal(V * H, scale, rand), b: randomNormal(V, scale, rand), c: randomNormal(H, scale, rand) };
  const m = RBM.create(device, { visible: V, hidden: H, params });
  models.push(m);
  return m;
}

/** Noisy copies of a few random prototypes: data an RBM can learn, with a sharp distribution. */
function patternData(V: number, rows: number, prototypes: number, noise: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const protos = randomBinary(prototypes * V, 0.5, rand);
  const out = new Float32Array(rows * V);
  for (let r = 0; r < rows; r++) {
    const p = Math.floor(rand() * prototypes);
    for (let i = 0; i < V; i++) out[r * V + i] = rand() < noise ? 1 - protos[p * V + i] : protos[p * V + i];
  }
  return out;
}

describe('AIS schedule and estimate', () => {
  it("spaces the default 14,500 βs like Salakhutdinov & Murray's", () => {
    const b = aisSchedule();
    expect(b.length).toBe(14_501);
    expect([b[0], b[500], b[4500], b[14_500]]).toEqual([0, 0.5, 0.9, 1]);
    expect(b[1]).toBeCloseTo(0.001, 12);
    expect(b[501] - b[500]).toBeCloseTo(1e-4, 12);
    expect(b[14_500] - b[14_499]).toBeCloseTo(1e-5, 12);
    for (const K of [1, 2, 3, 200, 3000]) {
      const s = aisSchedule(K);
      expect(s.length).toBe(K + 1);
      expect(s[0]).toBe(0);
      expect(s[K]).toBe(1);
      for (let k = 1; k <= K; k++) expect(s[k]).toBeGreaterThan(s[k - 1]);
    }
  });

  it('computes logmeanexp and the 3-standard-error band in log space', () => {
    const w = [1000, 1001, 999.5, 1000.2];
    const e = aisEstimate(w, 5);
    expect(e.logZ).toBeCloseTo(logSumExp(w) - Math.log(4) + 5, 10);
    const x = w.map((v) => Math.exp(v - 1001));
    const mean = x.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    expect(e.logZHigh).toBeCloseTo(Math.log(mean + (3 * sd) / 2) + 1001 + 5, 10);
    expect(mean).toBeGreaterThan((3 * sd) / 2);
    expect(e.logZLow).toBeCloseTo(Math.log(mean - (3 * sd) / 2) + 1001 + 5, 10);
    expect(aisEstimate([3, 3, 3], 0)).toMatchObject({ logZ: 3, logZLow: 3, logZHigh: 3, effectiveSampleSize: 3 });
    expect(aisEstimate([0, -50], 0).logZLow).toBe(-Infinity);
  });

  it('smooths the base-rate marginals as (count + α) / (n + 2α)', () => {
    const data = Float32Array.from([1, 0, 1, 0, 1, 0]); // 3 rows, V = 2
    const b = baseRateBiases(data, 2, 1);
    expect(b[0]).toBeCloseTo(Math.log(4 / 5 / (1 / 5)), 12);
    expect(b[1]).toBeCloseTo(Math.log(1 / 5 / (4 / 5)), 12);
    expect(logZBase(b, 3)).toBeCloseTo(Math.log(1 + 4) + Math.log(1 + 1 / 4) + 3 * Math.LN2, 12);
  });
});

describe('ais on the GPU', () => {
  // The default (workgroup-memory) GEMM and the direct one lavapipe prefers, with an odd row block.
  const TILES: TileShape[] = [DEFAULT_TILE, { wgCols: 8, wgRows: 4, threadRows: 3, tileK: 16, shared: false }];

  it.each(TILES)('replays the float64 reference chains run by run (tile %o)', async (tile) => {
    const V = 21;
    const H = 13;
    const m = randomModel(V, H, 0.6, 3);
    const data = randomBinary(50 * V, 0.3, mulberry32(8));
    const steps = 70; // crosses the 64-step block of ais_weight's accumulation
    const res = await ais(m, { data, betas: steps, runs: 9, seed: 5, stepsPerSubmit: 16, tile });
    const cpu = cpuAIS(
      { visible: V, hidden: H, ...(await m.readParams()) },
      {
        baseBiases: Float32Array.from(baseRateBiases(data, V)),
        betas: Float32Array.from(aisSchedule(steps)),
        runs: 9,
        seed: 5,
      },
    );
    let spread = 0;
    for (let r = 0; r < 9; r++) {
      expect(Math.abs(res.logWeights[r] - cpu[r])).toBeLessThan(2e-5);
      spread = Math.max(spread, Math.abs(cpu[r] - cpu[0]));
    }
    expect(spread).toBeGreaterThan(0.5); // the runs really differ, so matching them means something
    expect(res.runs).toBe(9);
    expect(res.betas).toBe(steps);
  });

  it('replays reverse AIS too: given start states, burn-in at β=1, then the schedule reversed', async () => {
    const V = 17;
    const H = 11;
    const m = randomModel(V, H, 0.6, 13);
    const data = randomBinary(5 * V, 0.4, mulberry32(14)); // 5 start rows cycled over 7 runs
    const res = await reverseAis(m, { data, betas: 40, burnIn: 6, runs: 7, seed: 3 });
    const forward = Float32Array.from(aisSchedule(40));
    const betas = Float32Array.from([1, 1, 1, 1, 1, 1, ...Array.from(forward).reverse()]);
    const start = new Float32Array(7 * V);
    for (let r = 0; r < 7; r++) start.set(data.subarray((r % 5) * V, (r % 5 + 1) * V), r * V);
    const cpu = cpuAIS(
      { visible: V, hidden: H, ...(await m.readParams()) },
      { baseBiases: Float32Array.from(baseRateBiases(data, V)), betas, runs: 7, seed: 3, start },
    );
    for (let r = 0; r < 7; r++) expect(Math.abs(res.logWeights[r] - cpu[r])).toBeLessThan(2e-5);
    expect(res.betas).toBe(40);
  });

  it('is reproducible, and an explicit schedule equals the same count', async () => {
    const m = randomModel(12, 7, 0.5, 11);
    const marginals = new Float64Array(12).fill(0.3);
    const a = await ais(m, { marginals, betas: 50, runs: 6, seed: 9 });
    const b = await ais(m, { marginals, betas: Array.from(aisSchedule(50)), runs: 6, seed: 9 });
    const c = await ais(m, { marginals, betas: 50, runs: 6, seed: 10 });
    expect(Array.from(b.logWeights)).toEqual(Array.from(a.logWeights));
    expect(Array.from(c.logWeights)).not.toEqual(Array.from(a.logWeights));
  });

  it('brackets the exact log Z of a random 24x16 model', async () => {
    const m = randomModel(24, 16, 0.5, 21);
    const data = randomBinary(100 * 24, 0.4, mulberry32(22));
    const exactZ = await exactLogZ(m);
    const res = await ais(m, { data, betas: 1000, runs: 100, seed: 1 });
    expect(res.logZLow).toBeLessThanOrEqual(exactZ);
    expect(res.logZHigh).toBeGreaterThanOrEqual(exactZ);
    expect(Math.abs(res.logZ - exactZ)).toBeLessThan(0.1);
  });

  describe('a 30x18 model trained by CD-1 on noisy patterns', () => {
    const V = 30;
    const H = 18;
    let model: RBM;
    let data: Float32Array;
    let exactZ: number;

    beforeAll(async () => {
      data = patternData(V, 200, 5, 0.05, 31);
      model = RBM.create(device, { visible: V, hidden: H, seed: 3, weightScale: 0.01 });
      models.push(model);
      const B = 20;
      const trainer = await model.createTrainer({ batchSize: B, k: 1, metrics: false });
      for (let u = 0; u < 300; u++) {
        const at = (u % 10) * B * V;
        trainer.update(data.subarray(at, at + B * V), { learningRate: 0.1, momentum: 0.5 });
      }
      await trainer.flush();
      trainer.dispose();
      exactZ = await exactLogZ(model);
      // The GPU enumeration itself checked once more against float64 here.
      const cpu = logZExact({ visible: V, hidden: H, ...(await model.readParams()) });
      expect(Math.abs(exactZ - cpu) / Math.abs(cpu)).toBeLessThan(1e-5);
    });

    it('has learned something (sharp weights), and AIS brackets its exact log Z', async () => {
      const { W } = await model.readParams();
      expect(Math.max(...W.map(Math.abs))).toBeGreaterThan(1);
      const res = await ais(model, { data, betas: 3000, runs: 100, seed: 2 });
      expect(res.logZLow).toBeLessThanOrEqual(exactZ);
      expect(res.logZHigh).toBeGreaterThanOrEqual(exactZ);
      expect(Math.abs(res.logZ - exactZ)).toBeLessThan(0.5);
    });

    it('reverse AIS from the training rows brackets its exact log Z too', async () => {
      const res = await reverseAis(model, { data, betas: 3000, runs: 100, burnIn: 100, seed: 5 });
      expect(res.logZLow).toBeLessThanOrEqual(exactZ);
      expect(res.logZHigh).toBeGreaterThanOrEqual(exactZ);
      expect(Math.abs(res.logZ - exactZ)).toBeLessThan(0.5);
    });

    it('narrows its band with more βs (200 vs 3000)', async () => {
      const coarse = await ais(model, { data, betas: 200, runs: 100, seed: 4 });
      const fine = await ais(model, { data, betas: 3000, runs: 100, seed: 4 });
      const width = (r: { logZLow: number; logZHigh: number }): number => r.logZHigh - r.logZLow;
      expect(width(fine)).toBeLessThan(width(coarse));
      expect(fine.effectiveSampleSize).toBeGreaterThan(coarse.effectiveSampleSize);
      expect(Math.abs(fine.logZ - exactZ)).toBeLessThan(Math.abs(coarse.logZ - exactZ) + 0.05);
    });
  });

  it('reverse AIS with data-started chains lands near the exact log Z of a random model', async () => {
    const m = randomModel(24, 16, 0.5, 21);
    const data = randomBinary(100 * 24, 0.4, mulberry32(22));
    const exactZ = await exactLogZ(m);
    const res = await reverseAis(m, { data, betas: 1000, runs: 100, burnIn: 200, seed: 6 });
    expect(res.logZLow).toBeLessThanOrEqual(exactZ);
    expect(res.logZHigh).toBeGreaterThanOrEqual(exactZ);
    expect(Math.abs(res.logZ - exactZ)).toBeLessThan(0.1);
  });

  it('reports progress up to the last β', async () => {
    const m = randomModel(8, 5, 0.5, 41);
    const seen: number[] = [];
    const res = await ais(m, {
      marginals: new Float64Array(8).fill(0.5),
      betas: 25,
      runs: 3,
      stepsPerSubmit: 10,
      onProgress: (done, total) => {
        expect(total).toBe(25);
        seen.push(done);
      },
    });
    expect(seen).toEqual([9, 19, 25]);
    expect(Number.isFinite(res.logZ)).toBe(true);
    expect(res.seconds).toBeGreaterThan(0);
  });

  it('rejects bad options with clear errors', async () => {
    const m = randomModel(6, 4, 0.5, 51);
    const marginals = new Float64Array(6).fill(0.5);
    await expect(ais(m, {})).rejects.toThrow(/training data .* or its visible marginals/);
    await expect(ais(m, { marginals, data: new Float32Array(6) })).rejects.toThrow(/not both/);
    await expect(ais(m, { marginals: [0.5, 0.5, 0.5, 0.5, 0.5, 1] })).rejects.toThrow(/strictly inside/);
    await expect(ais(m, { marginals: [0.5] })).rejects.toThrow(/6 visible units/);
    await expect(ais(m, { data: new Float32Array(7) })).rejects.toThrow(/multiple of visible=6/);
    await expect(ais(m, { data: new Float32Array(6).fill(2) })).rejects.toThrow(/\[0, 1\]/);
    await expect(ais(m, { marginals, betas: [0, 0.5, 0.4, 1] })).rejects.toThrow(/non-decreasing/);
    await expect(ais(m, { marginals, betas: [0.1, 1] })).rejects.toThrow(/start at β=0/);
    await expect(ais(m, { marginals, betas: [1, 0] })).rejects.toThrow(/start at β=0 and end at β=1/);
    await expect(ais(m, { marginals, betas: 0 })).rejects.toThrow(/positive integer/);
    await expect(ais(m, { marginals, runs: 0 })).rejects.toThrow(/runs/);
    await expect(ais(m, { marginals, seed: -1 })).rejects.toThrow(/seed/);
    await expect(reverseAis(m, { marginals })).rejects.toThrow(/starting states/);
    await expect(reverseAis(m, { marginals, start: new Float32Array(6).fill(0.5) })).rejects.toThrow(/not binary/);
    await expect(reverseAis(m, { marginals, start: new Float32Array(6), burnIn: -1 })).rejects.toThrow(/burnIn/);
  });
});
