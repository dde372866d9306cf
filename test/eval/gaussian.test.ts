// Gaussian–Bernoulli models (unit-variance visible units): exact log Z with v
// integrated out, and AIS with a Gaussian base model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { averageLogLikelihood, enumeratedLayer, exactLogZ } from '../../src/rbm/logz';
import { ais, reverseAis } from '../../src/rbm/ais';
import { pseudoLogLikelihood } from '../../src/rbm/monitors';
import { cpuAIS } from '../reference/ais';
import { aisSchedule, gaussianBaseMeans, logZBase } from '../../src/host/ais-math';
import { logSumExp, softplus } from '../reference/exact';
import { testDevice } from '../helpers/device';
import { mulberry32, randomNormal } from '../helpers/random';

interface Params {
  V: number;
  H: number;
  W: Float32Array;
  b: Float32Array;
  c: Float32Array;
}

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

function gaussianModel(V: number, H: number, scale: number, seed: number): { m: RBM; p: Params } {
  const rand = mulberry32(seed);
  const p = { V, H, W: randomNormal(V * H, scale, rand), b: randomNormal(V, 1, rand), c: randomNormal(H, 1, rand) };
  const m = RBM.create(device, { visible: V, hidden: H, visibleType: 'gaussian', params: { W: p.W, b: p.b, c: p.c } });
  models.push(m);
  return { m, p };
}

/** F(v) = |v − b|²/2 − Σ_j softplus(vᵀw_j + c_j), float64. */
function freeEnergy(p: Params, v: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < p.V; i++) f += (v[i] - p.b[i]) ** 2 / 2;
  for (let j = 0; j < p.H; j++) {
    let x = p.c[j];
    for (let i = 0; i < p.V; i++) x += v[i] * p.W[i * p.H + j];
    f -= softplus(x);
  }
  return f;
}

/** (V/2) log 2π + logsumexp_h [cᵀh + Σ_i a_i (b_i + a_i/2)], a = W h, float64. */
function logZByHidden(p: Params): number {
  const terms: number[] = [];
  for (let s = 0; s < 2 ** p.H; s++) {
    let t = 0;
    for (let j = 0; j < p.H; j++) if ((s >> j) & 1) t += p.c[j];
    for (let i = 0; i < p.V; i++) {
      let a = 0;
      for (let j = 0; j < p.H; j++) if ((s >> j) & 1) a += p.W[i * p.H + j];
      t += a * (p.b[i] + a / 2);
    }
    terms.push(t);
  }
  return (p.V / 2) * Math.log(2 * Math.PI) + logSumExp(terms);
}

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

describe('exactLogZ for Gaussian visible units', () => {
  it('is (V/2) log 2π + Σ softplus(c) when W = 0', async () => {
    const V = 9;
    const H = 6;
    const c = randomNormal(H, 1, mulberry32(1));
    const m = RBM.create(device, {
      visible: V,
      hidden: H,
      visibleType: 'gaussian',
      params: { W: new Float32Array(V * H), b: randomNormal(V, 2, mulberry32(2)), c },
    });
    models.push(m);
    const expected = (V / 2) * Math.log(2 * Math.PI) + Array.from(c).reduce((s, x) => s + softplus(x), 0);
    expect(rel(await exactLogZ(m), expected)).toBeLessThan(1e-6);
  });

  it.each([
    [30, 10],
    [5, 12],
  ])('matches the float64 hidden enumeration at %i x %i (always enumerating h)', async (V, H) => {
    const { m, p } = gaussianModel(V, H, 0.3, V + H);
    expect(enumeratedLayer(m)).toBe('hidden');
    expect(rel(await exactLogZ(m), logZByHidden(p))).toBeLessThan(1e-6);
  });

  it('equals log ∫ e^{−F(v)} dv by quadrature at V = 2', async () => {
    const { m, p } = gaussianModel(2, 3, 0.8, 7);
    const step = 0.05;
    const terms: number[] = [];
    for (let x = -14; x <= 14; x += step) for (let y = -14; y <= 14; y += step) terms.push(-freeEnergy(p, [x, y]));
    const quadrature = logSumExp(terms) + 2 * Math.log(step);
    expect(Math.abs((await exactLogZ(m)) - quadrature)).toBeLessThan(1e-5);
  });

  it('gives averageLogLikelihood as mean(−F) − log Z, and names the hidden limit', async () => {
    const { m, p } = gaussianModel(6, 5, 0.5, 9);
    const data = randomNormal(10 * 6, 1, mulberry32(10));
    const logZ = await exactLogZ(m);
    let expected = 0;
    for (let r = 0; r < 10; r++) expected -= freeEnergy(p, data.subarray(r * 6, r * 6 + 6)) / 10;
    expect(Math.abs((await averageLogLikelihood(m, data, logZ)) - (expected - logZ))).toBeLessThan(1e-4);
    const wide = gaussianModel(3, 27, 0.1, 11).m;
    await expect(exactLogZ(wide)).rejects.toThrow(/hidden layer .* has 27 units/);
  });

  it('pseudoLogLikelihood refuses Gaussian units', async () => {
    const { m } = gaussianModel(4, 3, 0.5, 12);
    await expect(pseudoLogLikelihood(m, new Float32Array(4))).rejects.toThrow(/Gaussian/);
  });
});

describe('AIS for Gaussian visible units', () => {
  it('replays the float64 chains with the same normal draws', async () => {
    const { m, p } = gaussianModel(13, 8, 0.3, 21);
    const data = randomNormal(40 * 13, 1, mulberry32(22));
    const runs = 10;
    const res = await ais(m, { data, betas: 60, runs, seed: 4 });
    const cpu = cpuAIS(
      { visible: p.V, hidden: p.H, W: p.W, b: p.b, c: p.c },
      {
        baseBiases: Float32Array.from(gaussianBaseMeans(data, 13)),
        betas: Float32Array.from(aisSchedule(60)),
        runs,
        seed: 4,
        gaussian: true,
      },
    );
    let spread = 0;
    for (let r = 0; r < runs; r++) {
      expect(Math.abs(res.logWeights[r] - cpu[r])).toBeLessThan(1e-4);
      spread = Math.max(spread, Math.abs(cpu[r] - cpu[0]));
    }
    expect(spread).toBeGreaterThan(1);
    expect(res.logZBase).toBeCloseTo(logZBase(new Float32Array(13), 8, true), 12);
  });

  it('forward and reverse AIS bracket the exact log Z of a 20x14 model', async () => {
    const { m } = gaussianModel(20, 14, 0.25, 31);
    const data = randomNormal(100 * 20, 1, mulberry32(32));
    const exactZ = await exactLogZ(m);
    const fwd = await ais(m, { data, betas: 1000, runs: 100, seed: 1 });
    expect(fwd.logZLow).toBeLessThanOrEqual(exactZ);
    expect(fwd.logZHigh).toBeGreaterThanOrEqual(exactZ);
    expect(Math.abs(fwd.logZ - exactZ)).toBeLessThan(0.2);
    const rev = await reverseAis(m, { data, betas: 1000, runs: 100, burnIn: 100, seed: 2 });
    expect(rev.logZLow).toBeLessThanOrEqual(exactZ);
    expect(rev.logZHigh).toBeGreaterThanOrEqual(exactZ);
    expect(Math.abs(rev.logZ - exactZ)).toBeLessThan(0.2);
  });
});
