// log Z from both sides: exact model samples (host enumeration), forward and
// reverse AIS combined into a band, and the schedule refined until the band is
// within tolerance — checked against exact log Z on random models and on
// peaked models trained by PCD on the bundled digits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { RECOMMENDED_FIT_OPTIONS } from '../../src/rbm/fit';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';
import { exactLogZ } from '../../src/rbm/logz';
import { canSampleExactly, exactSampler, exactSamples, exactSamplesFromParams } from '../../src/rbm/exact-sample';
import {
  batchSeed, boundsConverged, combine, convergedLogZ, DEFAULT_LOGZ_TOLERANCE, drawReverseStart, logMeanSigma, logZBounds, nextRefinement,
  noiseDominates, planNextRound, poolBounds, stopReason, type ReverseStart,
} from '../../src/rbm/loglik-bounds';
import type { AISResult } from '../../src/rbm/ais';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { binarizeThreshold } from '../../src/data/binarize';
import { freeEnergy as refFreeEnergy, logZExact, type RBMParams } from '../reference/exact';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

type Params = RBMParams & { W: Float32Array; b: Float32Array; c: Float32Array };

function randomParams(V: number, H: number, scale: number, seed: number): Params {
  const rand = mulberry32(seed);
  return { visible: V, hidden: H, W: randomNormal(V * H, scale, rand), b: randomNormal(V, scale, rand), c: randomNormal(H, scale, rand) };
}

function gpuModel(p: Params, visibleType: 'bernoulli' | 'gaussian' = 'bernoulli'): RBM {
  const m = RBM.create(device, { visible: p.visible, hidden: p.hidden, visibleType, params: { W: p.W, b: p.b, c: p.c } });
  models.push(m);
  return m;
}

/** Empirical frequencies of the binary rows against exact p(v); each within 5 standard errors. */
function expectFrequencies(p: RBMParams, samples: Float32Array, count: number): void {
  const V = p.visible;
  const logZ = logZExact(p);
  const freq = new Float64Array(2 ** V);
  for (let r = 0; r < count; r++) {
    let s = 0;
    for (let i = 0; i < V; i++) s |= samples[r * V + i] << i;
    freq[s] += 1 / count;
  }
  let total = 0;
  for (let s = 0; s < 2 ** V; s++) {
    const v = Array.from({ length: V }, (_, i) => (s >> i) & 1);
    const prob = Math.exp(-refFreeEnergy(p, v) - logZ);
    total += prob;
    expect(Math.abs(freq[s] - prob), `state ${s}`).toBeLessThan(5 * Math.sqrt((prob * (1 - prob)) / count) + 1e-3);
  }
  expect(total).toBeCloseTo(1, 10);
}

describe('exact samples (host enumeration)', () => {
  it('draws v with the exact marginal, enumerating the hidden layer, and returns log Z', () => {
    const p = randomParams(4, 3, 1, 1);
    const n = 40_000;
    const s = exactSamplesFromParams(p, { count: n, seed: 7 });
    expect(s).toMatchObject({ enumerated: 'hidden', units: 3, count: n });
    expect(s.logZ).toBeCloseTo(logZExact(p), 10);
    expectFrequencies(p, s.samples, n);
  });

  it('enumerates the visible layer when it is the smaller one', () => {
    const p = randomParams(3, 6, 1, 2);
    const n = 40_000;
    const s = exactSamplesFromParams(p, { count: n, seed: 8 });
    expect(s).toMatchObject({ enumerated: 'visible', units: 3 });
    expect(s.logZ).toBeCloseTo(logZExact(p), 10);
    expectFrequencies(p, s.samples, n);
  });

  it('handles Gaussian visible units: log Z as exactLogZ, E[v] = b + W E[h]', async () => {
    const p = randomParams(5, 4, 0.5, 3);
    const m = gpuModel(p, 'gaussian');
    const n = 40_000;
    const s = exactSamplesFromParams({ ...p, visibleType: 'gaussian' }, { count: n, seed: 9 });
    expect(s.enumerated).toBe('hidden');
    expect(Math.abs(s.logZ - (await exactLogZ(m)))).toBeLessThan(1e-4);
    // E[v] by enumeration: p(h) ∝ exp(cᵀh + Σ a_i (b_i + a_i/2)), a = W h.
    const { visible: V, hidden: H, W, b, c } = p;
    const mean = new Float64Array(V);
    let total = 0;
    for (let st = 0; st < 2 ** H; st++) {
      const a = Array.from({ length: V }, (_, i) => {
        let x = 0;
        for (let j = 0; j < H; j++) if ((st >> j) & 1) x += W[i * H + j];
        return x;
      });
      let logp = 0;
      for (let j = 0; j < H; j++) if ((st >> j) & 1) logp += c[j];
      for (let i = 0; i < V; i++) logp += a[i] * (b[i] + a[i] / 2);
      const w = Math.exp(logp);
      total += w;
      for (let i = 0; i < V; i++) mean[i] += w * (b[i] + a[i]);
    }
    for (let i = 0; i < V; i++) {
      let got = 0;
      for (let r = 0; r < n; r++) got += s.samples[r * V + i] / n;
      expect(Math.abs(got - mean[i] / total)).toBeLessThan(0.03); // sd ≲ 1.5, s.e. < 0.008
    }
  });

  it('is reproducible by seed and refuses layers too large to enumerate', () => {
    const p = randomParams(6, 5, 1, 4);
    const a = exactSamplesFromParams(p, { count: 20, seed: 3 });
    expect(exactSamplesFromParams(p, { count: 20, seed: 3 }).samples).toEqual(a.samples);
    expect(exactSamplesFromParams(p, { count: 20, seed: 4 }).samples).not.toEqual(a.samples);
    expect(canSampleExactly({ visible: 784, hidden: 26 })).toBe(true);
    expect(canSampleExactly({ visible: 784, hidden: 27 })).toBe(false);
    expect(canSampleExactly({ visible: 784, hidden: 21, visibleType: 'bernoulli' }, 20)).toBe(false);
    expect(canSampleExactly({ visible: 784, hidden: 27 }, 40)).toBe(false);
    expect(() => exactSamplesFromParams(p, { count: 5, maxUnits: 4 })).toThrow(/hidden layer, which has 5 units.*parallel tempering/);
    expect(() => exactSamplesFromParams(p, { count: 0 })).toThrow(/count/);
  });
});

describe('exact samples (GPU enumeration, 21 … 26 units)', () => {
  /** E[v_i] = Σ_h p(h) σ(b + W h)_i and log Z by a float64 Gray-code walk over the hidden states. */
  function exactVisibleMeans(p: Params): { mean: Float64Array; logZ: number } {
    const { visible: V, hidden: H, W, b, c } = p;
    const a = Float64Array.from(b);
    let linear = 0;
    let h = 0;
    const logp = new Float64Array(2 ** H);
    for (let k = 0; k < logp.length; k++) {
      if (k > 0) {
        const j = 31 - Math.clz32(k & -k);
        const sign = (h >>> j) & 1 ? -1 : 1;
        h ^= 1 << j;
        linear += sign * c[j];
        for (let i = 0; i < V; i++) a[i] += sign * W[i * H + j];
      }
      let t = linear;
      for (let i = 0; i < V; i++) t += Math.max(a[i], 0) + Math.log1p(Math.exp(-Math.abs(a[i])));
      logp[k] = t;
    }
    const max = logp.reduce((m, x) => Math.max(m, x), -Infinity);
    // Second walk: weight each state's σ(a) by p*(h) / p*(max).
    const mean = new Float64Array(V);
    a.set(b);
    linear = 0;
    h = 0;
    let total = 0;
    for (let k = 0; k < logp.length; k++) {
      if (k > 0) {
        const j = 31 - Math.clz32(k & -k);
        const sign = (h >>> j) & 1 ? -1 : 1;
        h ^= 1 << j;
        for (let i = 0; i < V; i++) a[i] += sign * W[i * H + j];
      }
      const w = Math.exp(logp[k] - max);
      total += w;
      for (let i = 0; i < V; i++) mean[i] += w / (1 + Math.exp(-a[i]));
    }
    for (let i = 0; i < V; i++) mean[i] /= total;
    return { mean, logZ: max + Math.log(total) };
  }

  it('30-21: v has the exact marginals and log Z is the enumeration\'s, reproducibly by seed', async () => {
    const p = randomParams(30, 21, 0.6, 11);
    const m = gpuModel(p);
    const n = 20_000;
    const s = await exactSamples(m, { count: n, seed: 5 });
    expect(s).toMatchObject({ enumerated: 'hidden', units: 21, count: n });
    const exact = exactVisibleMeans(p);
    expect(Math.abs(s.logZ - exact.logZ)).toBeLessThan(1e-4 * Math.abs(exact.logZ) + 1e-3);
    for (let i = 0; i < p.visible; i++) {
      let got = 0;
      for (let r = 0; r < n; r++) got += s.samples[r * p.visible + i] / n;
      const q = exact.mean[i];
      expect(Math.abs(got - q), `unit ${i}`).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / n) + 1e-3);
    }
    const again = await exactSamples(m, { count: 50, seed: 5 });
    expect(again.samples).toEqual(s.samples.subarray(0, 50 * p.visible));
    expect((await exactSamples(m, { count: 50, seed: 6 })).samples).not.toEqual(again.samples);
  });

  it('refuses more than 26 units and honours maxUnits', async () => {
    const m = gpuModel(randomParams(30, 21, 0.1, 12));
    await expect(exactSamples(m, { count: 5, maxUnits: 20 })).rejects.toThrow(/hidden layer, which has 21 units.*at most 20/);
    const big = gpuModel(randomParams(30, 27, 0.1, 13));
    await expect(exactSamples(big, { count: 5 })).rejects.toThrow(/27 units.*at most 26.*parallel tempering/);
  });
});

describe('the band from both sides', () => {
  const result = (logZ: number, ess: number, runs = 100): AISResult => ({
    logZ, logZLow: NaN, logZHigh: NaN, logZBase: 0, effectiveSampleSize: ess, logWeights: new Float64Array(runs), runs, betas: 10, seconds: 1,
  });
  const start: ReverseStart = { states: new Float32Array(1), kind: 'exact', seconds: 0 };

  it('σ is the delta-method standard error of log-mean-exp, at most 1', () => {
    expect(logMeanSigma(100, 100)).toBe(0);
    expect(logMeanSigma(1, 100)).toBeCloseTo(1, 12);
    expect(logMeanSigma(50, 100)).toBeCloseTo(Math.sqrt(1 / 99), 12);
    expect(logMeanSigma(1, 1)).toBe(Infinity);
  });

  it('is [forward − 3σ_f, reverse + 3σ_r], the hull of both when noise inverts them, never wider than 3 nats a side', () => {
    const b = combine(result(10, 50), result(10.4, 100 / (1 + 99 * 0.04)), start, 2);
    expect(b.logZ).toBeCloseTo(10.2, 12);
    expect(b.gap).toBeCloseTo(0.4, 12);
    expect(b.sigmaReverse).toBeCloseTo(0.2, 12);
    expect(b.logZLow).toBeCloseTo(10 - 3 / Math.sqrt(99), 12);
    expect(b.logZHigh).toBeCloseTo(11, 12);
    const inverted = combine(result(10.3, 100), result(10, 100), start, 2);
    expect([inverted.logZLow, inverted.logZHigh]).toEqual([10, 10.3]);
    const one = combine(result(10, 1, 1), result(12, 1, 1), start, 2);
    expect([one.logZLow, one.logZHigh]).toEqual([7, 15]);
    expect(boundsConverged(b, 0.81)).toBe(true);
    expect(boundsConverged(b, 0.79)).toBe(false);
  });

  const round = (betas: number, gap: number, seconds = 1, essForward = 90, sigma = 0, runs = 100) => ({
    betas, gap, logZ: 0, logZLow: -gap / 2 - 0.1, logZHigh: gap / 2 + 0.1, seconds: { forward: seconds, reverse: seconds, start: 0, total: 2 * seconds },
    essForward, essReverse: essForward, runs, sigmaForward: sigma, sigmaReverse: sigma / 2,
  });

  it('stops doubling when converged, at maxBetas, when the gap stalls, or before the budget runs out', () => {
    const o = { tolerance: 0.3, maxBetas: 64_000 };
    expect(stopReason([round(1000, 0.3)], o)).toBe('converged');
    expect(stopReason([round(1000, 0.3)], { ...o, fixed: true })).toBe('fixed');
    expect(stopReason([round(1000, 2)], o)).toBeUndefined();
    expect(stopReason([round(32_000, 2)], o)).toBeUndefined();
    expect(stopReason([round(64_000, 2)], o)).toBe('max-betas');
    // The gap halving with each doubling goes on; one that stays put over two doublings stalls.
    expect(stopReason([round(1000, 2), round(2000, 1), round(4000, 0.5)], o)).toBeUndefined();
    expect(stopReason([round(1000, 0.5), round(2000, 0.55), round(4000, 0.45)], o)).toBe('stalled');
    expect(stopReason([round(1000, 0.5), round(2000, 0.55), round(4000, 0.45)], { ...o, stopOnStall: false })).toBeUndefined();
    expect(stopReason([round(1000, 0.5), round(2000, 0.5)], o)).toBeUndefined();
    // A gap that moves by chance (few effective forward runs) is no stall: doubling goes on.
    expect(stopReason([round(1000, 0.5, 1, 21), round(2000, 0.55, 1, 21), round(4000, 0.45, 1, 21)], o)).toBeUndefined();
    expect(stopReason([round(1000, 0.5, 1, 50), round(2000, 0.55, 1, 50), round(4000, 0.45, 1, 50)], o)).toBe('stalled');
    // A next round at twice the last one's 2 s would end at 10 + 8 s.
    expect(stopReason([round(1000, 2, 2)], { ...o, elapsedSeconds: 10, budgetSeconds: 17 })).toBe('budget');
    expect(stopReason([round(1000, 2, 2)], { ...o, elapsedSeconds: 10, budgetSeconds: 19 })).toBeUndefined();
  });

  it('refines the runs when the band is their noise and the schedule stopped evening the runs out, else the schedule', () => {
    // 3σ = 0.9 > gap/2 = 0.5: noise; 3σ = 0.3 < 0.5: bias.
    expect(noiseDominates({ gap: 1, sigmaForward: 0.3, sigmaReverse: 0 })).toBe(true);
    expect(noiseDominates({ gap: -1, sigmaForward: 0, sigmaReverse: 0.3 })).toBe(true);
    expect(noiseDominates({ gap: 1, sigmaForward: 0.1, sigmaReverse: 0.1 })).toBe(false);
    const noisy = (betas: number, ess: number, runs = 100) => round(betas, 1, 1, ess, 0.4, runs);
    // The first schedule doubles: nothing yet says more βs will not help.
    expect(nextRefinement([noisy(1000, 10)])).toBe('betas');
    // Doubling βs left the ESS fraction where it was (10 %): add runs; it went from 10 % to 20 %: βs again.
    expect(nextRefinement([noisy(1000, 10), noisy(2000, 10)])).toBe('runs');
    expect(nextRefinement([noisy(1000, 10), noisy(2000, 20)])).toBe('betas');
    expect(nextRefinement([round(1000, 1, 1, 10), round(2000, 1, 1, 10)])).toBe('betas'); // not noise: the gap
    // Added runs that did not raise the pooled ESS by half: the weights are heavy-tailed, back to βs.
    expect(nextRefinement([noisy(1000, 10), noisy(2000, 10), noisy(2000, 14, 200)])).toBe('betas');
    expect(nextRefinement([noisy(1000, 10), noisy(2000, 10), noisy(2000, 16, 200)])).toBe('runs');
    const o = { tolerance: 0.3, maxBetas: 64_000, maxRuns: 400 };
    expect(planNextRound([noisy(1000, 10)], o)).toEqual({ betas: 2000, runs: 100, addRuns: false });
    // Noise the schedule no longer evens out: as many runs again at the same schedule, pooled.
    expect(planNextRound([noisy(1000, 10), noisy(2000, 10)], o)).toEqual({ betas: 2000, runs: 200, addRuns: true });
    // Runs at their ceiling: the schedule doubles instead, with every run so far.
    expect(planNextRound([noisy(1000, 10, 400), noisy(2000, 40, 400)], o)).toEqual({ betas: 4000, runs: 400, addRuns: false });
    // No maxRuns: runs are never added (the old doubling of the schedule alone).
    expect(planNextRound([noisy(1000, 10), noisy(2000, 10)], { tolerance: 0.3, maxBetas: 64_000 })).toEqual({ betas: 4000, runs: 100, addRuns: false });
    // Bias at the schedule's ceiling stops even with room for runs: more runs do not close a gap.
    expect(planNextRound([round(64_000, 2)], o)).toEqual({ stop: 'max-betas' });
    // Noise at the schedule's ceiling adds runs, while they raise the ESS.
    expect(planNextRound([noisy(64_000, 10)], o)).toEqual({ betas: 64_000, runs: 200, addRuns: true });
    expect(planNextRound([noisy(64_000, 10), noisy(64_000, 12, 200)], o)).toEqual({ stop: 'max-betas' });
    // The budget prices the next round at the last one's cost per run and β: that round added
    // 100 runs × 1000 βs in 4 s to make 200, so 200 more cost 8 s (ends at 18) and 200 runs at 2000 βs 16 s.
    const pooled = [round(500, 1, 1, 20, 0.4, 200), { ...round(1000, 1, 2, 20, 0.4, 200), addedRuns: 100 }];
    expect(planNextRound(pooled, { ...o, elapsedSeconds: 10, budgetSeconds: 18.5 })).toEqual({ betas: 1000, runs: 400, addRuns: true });
    expect(planNextRound(pooled, { ...o, elapsedSeconds: 10, budgetSeconds: 17.5 })).toEqual({ stop: 'budget' });
    const biased = { ...round(1000, 2, 2, 90, 0, 200), addedRuns: 100 };
    expect(planNextRound([biased], { ...o, elapsedSeconds: 10, budgetSeconds: 26.5 })).toEqual({ betas: 2000, runs: 200, addRuns: false });
    expect(planNextRound([biased], { ...o, elapsedSeconds: 10, budgetSeconds: 25.5 })).toEqual({ stop: 'budget' });
    // The stall rule compares with the last round at a quarter of the schedule, pooled or not.
    const r4 = { ...round(1000, 0.5, 1, 50), runs: 200 };
    expect(stopReason([round(1000, 0.5, 1, 50), r4, round(2000, 0.55, 1, 50), round(4000, 0.45, 1, 50)], o)).toBe('stalled');
    expect(stopReason([round(1000, 0.5, 1, 50), { ...r4, gap: 2 }, round(2000, 0.55, 1, 50), round(4000, 0.45, 1, 50)], o)).toBeUndefined();
  });

  it('pools rounds by putting their weights side by side', () => {
    const w = (logWeights: number[], logZBase: number): AISResult => ({
      logZ: NaN, logZLow: NaN, logZHigh: NaN, logZBase, effectiveSampleSize: NaN, logWeights: Float64Array.from(logWeights), runs: logWeights.length, betas: 10, seconds: 1,
    });
    const part = (f: number[], r: number[]) => combine(w(f, 2), w(r, 3), start, 2);
    const pooled = poolBounds([part([0, 1], [0.5, 0]), part([2, 3], [1, 1])], start, 2);
    const whole = part([0, 1, 2, 3], [0.5, 0, 1, 1]);
    // combine takes the AIS estimates as they are; recompute the whole's from its weights.
    expect(pooled.runs).toBe(4);
    expect(pooled.forward.seconds).toBe(2);
    expect(Array.from(pooled.forward.logWeights)).toEqual([0, 1, 2, 3]);
    expect(pooled.logZForward).toBeCloseTo(2 + Math.log((1 + Math.E + Math.E ** 2 + Math.E ** 3) / 4), 12);
    expect(pooled.logZReverse).toBeCloseTo(3 - Math.log((Math.exp(0.5) + 1 + 2 * Math.E) / 4), 12);
    expect(Array.from(pooled.reverse.logWeights)).toEqual(Array.from(whole.reverse.logWeights));
  });
});

describe('forward and reverse AIS against exact log Z', () => {
  it('a random 24x16 model: the default converged estimate and its band', async () => {
    const p = randomParams(24, 16, 0.5, 21);
    const m = gpuModel(p);
    const data = randomBinary(100 * 24, 0.4, mulberry32(22));
    const exact = await exactLogZ(m);
    const r = await convergedLogZ(m, { data, betas: 200 });
    expect(r.reverseStart).toBe('exact');
    expect(Math.abs(r.enumeratedLogZ! - exact)).toBeLessThan(1e-3);
    expect(r.converged).toBe(true);
    expect(r.reason).toBe('converged');
    expect(r.tolerance).toBe(DEFAULT_LOGZ_TOLERANCE);
    expect(r.logZLow).toBeLessThanOrEqual(exact);
    expect(r.logZHigh).toBeGreaterThanOrEqual(exact);
    expect(Math.abs(r.logZ - exact)).toBeLessThan(0.3);
    expect(r.essForward).toBeGreaterThan(1);
    expect(r.essReverse).toBeGreaterThan(1);
    expect(r.gap).toBeCloseTo(r.logZReverse - r.logZForward, 12);
  });

  it('doubles the schedule until maxBetas, a time budget, or not at all (fixed)', async () => {
    const p = randomParams(20, 10, 1, 31);
    const m = gpuModel(p);
    const marginals = new Float64Array(20).fill(0.5);
    const seen: number[] = [];
    // A tolerance no 100-run estimate meets: the doubling runs to the ceiling.
    const r = await convergedLogZ(m, { marginals, betas: 25, maxBetas: 200, maxRuns: 100, tolerance: 1e-4, onRound: (b) => seen.push(b.betas) });
    expect(r.rounds.map((b) => b.betas)).toEqual([25, 50, 100, 200]);
    expect(seen).toEqual([25, 50, 100, 200]);
    expect(r).toMatchObject({ converged: false, reason: 'max-betas', betas: 200 });
    const fixed = await convergedLogZ(m, { marginals, betas: 40, fixed: true, tolerance: 1e-4 });
    expect(fixed).toMatchObject({ converged: false, reason: 'fixed', betas: 40 });
    expect(fixed.rounds).toHaveLength(1);
    // Any round takes longer than a microsecond, so a 1 µs budget stops after the first.
    const budget = await convergedLogZ(m, { marginals, betas: 25, tolerance: 1e-4, budgetSeconds: 1e-6 });
    expect(budget).toMatchObject({ reason: 'budget', betas: 25 });
    // The same seed gives the same numbers.
    expect((await logZBounds(m, { marginals, betas: 25 })).logZForward).toBe(r.rounds[0].logZForward);
    await expect(convergedLogZ(m, { marginals, tolerance: -1 })).rejects.toThrow(/tolerance/);
    await expect(convergedLogZ(m, { marginals, budgetSeconds: 0 })).rejects.toThrow(/budgetSeconds/);
    await expect(drawReverseStart(m, { marginals, start: 'data' })).rejects.toThrow(/options.data/);
    await expect(convergedLogZ(m, { marginals, runs: 50, maxRuns: 40 })).rejects.toThrow(/maxRuns \(40\) must be at least runs \(50\)/);
  });

  it('adds runs while the band is their noise: new exact starts and new seeds, pooled with the old runs', async () => {
    const p = randomParams(20, 10, 1, 31);
    const m = gpuModel(p);
    const marginals = new Float64Array(20).fill(0.5);
    // Few runs and a schedule that cannot double: only added runs can narrow the noisy band.
    const r = await convergedLogZ(m, { marginals, betas: 25, maxBetas: 25, runs: 8, maxRuns: 64, tolerance: 1e-4 });
    expect(r.rounds.map((b) => b.betas)).toEqual(r.rounds.map(() => 25));
    expect(r.rounds.map((b) => b.runs)).toEqual([8, 16, 32, 64].slice(0, r.rounds.length));
    expect(r.rounds.length).toBeGreaterThan(1);
    for (const b of r.rounds.slice(0, -1)) expect(noiseDominates(b)).toBe(true);
    // Round 2 = round 1's runs and 8 new ones: seed batchSeed(1, 1), exact starts drawn with it.
    const sampler = await exactSampler(m);
    const added = await logZBounds(m, {
      marginals, betas: 25, runs: 8, seed: batchSeed(1, 1),
      reverseStart: { states: sampler.draw(8, batchSeed(1, 1)), kind: 'exact', seconds: 0 },
    });
    expect(Array.from(r.rounds[1].forward.logWeights)).toEqual([...r.rounds[0].forward.logWeights, ...added.forward.logWeights]);
    expect(Array.from(r.rounds[1].reverse.logWeights)).toEqual([...r.rounds[0].reverse.logWeights, ...added.reverse.logWeights]);
    // Given start rows cannot be extended: the runs stay as they are.
    const given = await convergedLogZ(m, {
      marginals, betas: 25, maxBetas: 50, runs: 8, maxRuns: 64, tolerance: 1e-4, start: sampler.draw(8, 7), startKind: 'exact',
    });
    expect(given.rounds.map((b) => b.runs)).toEqual(given.rounds.map(() => 8));
  });

  describe('peaked models trained by PCD on the bundled digits', () => {
    let digits: Float32Array;
    const V = 784;

    /** PCD-1 at a high learning rate without weight decay: sharp, multi-modal models. */
    async function trained(H: number, epochs: number): Promise<RBM> {
      const m = RBM.create(device, { visible: V, hidden: H, seed: 3 });
      models.push(m);
      await m.fit(digits, { ...LEGACY_FIT_OPTIONS, epochs, batchSize: 50, persistent: true, learningRate: 0.5, weightDecay: 0, binarize: 'none' });
      return m;
    }

    beforeAll(async () => {
      // Every 10th of the 10,000 digits (they are stored digit by digit: all ten classes), thresholded.
      const { images } = await loadBundledMnistNode();
      const n = 1000;
      const pixels = new Float32Array(n * V);
      for (let r = 0; r < n; r++) pixels.set(images.pixels.subarray(r * 10 * V, (r * 10 + 1) * V), r * V);
      digits = binarizeThreshold(pixels);
    });

    // Forward AIS on this model sits ~0.4 nats below the exact log Z at 1,000 … 8,000 βs and 100 or
    // 1,000 runs (ESS > 80%): its runs agree on a Z without a mode they cannot reach near β = 1.
    // Reverse AIS from exact samples is not fooled, so the band holds and its midpoint is close;
    // refinement would stall (see stopReason), so one round at the default start schedule.
    it('784-12: the default estimate is within 0.3 nats and its band holds the exact log Z', async () => {
      const m = await trained(12, 10);
      const { W } = await m.readParams();
      expect(Math.max(...W.map(Math.abs))).toBeGreaterThan(5); // peaked
      const exact = await exactLogZ(m);
      const r = await convergedLogZ(m, { data: digits, maxBetas: 1000 });
      expect(r).toMatchObject({ reverseStart: 'exact', betas: 1000 });
      expect(r.rounds[0].runs).toBe(100);
      // At the schedule's ceiling a noisy band takes more runs, pooled: every round's band holds the truth.
      for (const b of r.rounds) {
        expect(b.logZLow, `${b.runs} runs`).toBeLessThanOrEqual(exact);
        expect(b.logZHigh, `${b.runs} runs`).toBeGreaterThanOrEqual(exact);
      }
      expect(Math.abs(r.enumeratedLogZ! - exact)).toBeLessThan(1e-3);
      expect(Math.abs(r.logZ - exact)).toBeLessThan(0.3);
      expect(r.logZLow).toBeLessThanOrEqual(exact);
      expect(r.logZHigh).toBeGreaterThanOrEqual(exact);
      expect(r.logZForward).toBeLessThan(exact); // the stochastic lower bound, here far below
    });

    // Issue 15 item 4 at the sizes where forward AIS and PT-started reverse AIS both missed mass: a
    // 784-21 model trained with the recommended settings (PCD-1, centered, lr 0.1 decaying linearly,
    // batch 20). Its reverse AIS starts from exact samples (the GPU enumeration above 20 units), so
    // every round's band holds the exact log Z, and doubling the schedule narrows it. (Kept small
    // for CI: 50 runs, two rounds; the 784-25 measurement is in docs/results.md.)
    it('784-21 trained with the recommended settings: each round\'s band holds the exact log Z, doubling narrows it', async () => {
      const m = RBM.create(device, { visible: V, hidden: 21, seed: 5 });
      models.push(m);
      await m.fit(digits, { ...RECOMMENDED_FIT_OPTIONS, chains: RECOMMENDED_FIT_OPTIONS.batchSize, epochs: 8, binarize: 'none' });
      const r = await convergedLogZ(m, { data: digits, runs: 50, maxBetas: 2000 });
      expect(r).toMatchObject({ reverseStart: 'exact' });
      const exact = r.enumeratedLogZ!;
      for (const b of r.rounds) {
        expect(b.logZLow, `${b.betas} βs`).toBeLessThanOrEqual(exact);
        expect(b.logZHigh, `${b.betas} βs`).toBeGreaterThanOrEqual(exact);
      }
      // Measured: 1,000 βs × 50 runs gap −0.19, estimate +0.08 nats from the exact log Z; 2,000 × 50 gap
      // −0.01, +0.03 but a band ±0.3 wide from noise (ESS 34 / 37 of 50); 2,000 × 100 (50 added) ESS 70 / 76,
      // band 192.58 … 192.98 within ±0.3 of the estimate, −0.04 nats from the exact 192.836: converged.
      expect(r.rounds.slice(0, 2).map((b) => [b.betas, b.runs])).toEqual([[1000, 50], [2000, 50]]);
      // Past the schedule's ceiling (2,000 βs) only runs are added, while the band is their noise.
      r.rounds.slice(2).forEach((b, i) => expect([b.betas, b.runs]).toEqual([2000, 100 * 2 ** i]));
      expect(Math.abs(r.rounds[1].gap)).toBeLessThan(Math.abs(r.rounds[0].gap));
      expect(Math.abs(r.logZ - exact)).toBeLessThan(0.3);
      expect(r).toMatchObject({ converged: true, reason: 'converged' });
    }, 900_000);

    // PCD at this learning rate leaves a spurious, very deep mode (hidden biases down to −14 against
    // weights up to 12): forward AIS's runs never reach it and agree (ESS > 80%) on a log Z ~12 nats
    // low at 1,000 and 4,000 βs alike, while reverse AIS from exact samples lands tens of nats high.
    // The band is wide and says so (not converged), but it holds the truth; forward AIS alone
    // would have over-stated the log-likelihood by 12 nats.
    it('784-16 with a spurious deep mode: the band from both sides still holds the exact log Z', async () => {
      const m = await trained(16, 10);
      const exact = await exactLogZ(m);
      const r = await convergedLogZ(m, { data: digits, betas: 500, fixed: true });
      expect(r).toMatchObject({ reason: 'fixed', reverseStart: 'exact', betas: 500 });
      expect(r.logZLow).toBeLessThanOrEqual(exact);
      expect(r.logZHigh).toBeGreaterThanOrEqual(exact);
      if (r.converged) expect(Math.abs(r.logZ - exact)).toBeLessThan(0.3);
    });
  });
});
