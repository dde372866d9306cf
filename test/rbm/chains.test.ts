// Persistent chains independent of the batch: N chains in the negative phase,
// B data rows in the positive. The update weighs the negative statistics
// 1/N and the positive 1/B; a float64 replay (the reference's passes, this
// layout) checks whole PCD-k updates on odd sizes with N > B and N < B.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { fitPT } from '../../src/rbm/pt-train';
import { hiddenPass, visiblePass, type CpuHyper } from '../reference/reference';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary } from '../helpers/random';
import { maxRelError } from '../helpers/compare';
import { disposedAfterAll, replayHyper, replaySetup, replayUpdates, type ReplayCase } from '../helpers/update-replay';
import { LEGACY_FIT_OPTIONS, LEGACY_PT_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

/**
 * A float64 PCD-k learner with N chains in rows [B, B + N): the stacked
 * layout and RNG phases of the contract (DESIGN.md, test/reference), written
 * out here for N ≠ B. Its update is the textbook one: positive statistics
 * averaged over the B data rows, negative over the N chains.
 */
class CpuChains {
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  private readonly wVel: Float64Array;
  private readonly bVel: Float64Array;
  private readonly cVel: Float64Array;
  private readonly q: Float64Array;
  private readonly vis: Float64Array;
  private readonly visProb: Float64Array;
  private readonly hidProb: Float64Array;
  private readonly hidSample: Float64Array;
  step = 0;

  constructor(
    readonly V: number,
    readonly H: number,
    readonly B: number,
    readonly N: number,
    init: { W: ArrayLike<number>; b: ArrayLike<number>; c: ArrayLike<number> },
    chains: ArrayLike<number>,
    readonly seed: number,
  ) {
    this.W = Float64Array.from(init.W);
    this.b = Float64Array.from(init.b);
    this.c = Float64Array.from(init.c);
    this.wVel = new Float64Array(V * H);
    this.bVel = new Float64Array(V);
    this.cVel = new Float64Array(H);
    this.q = new Float64Array(H).fill(0.5);
    this.vis = new Float64Array((B + N) * V);
    this.visProb = new Float64Array((B + Math.max(B, N)) * V);
    this.hidProb = new Float64Array((B + N) * H);
    this.hidSample = new Float64Array((B + N) * H);
    this.vis.set(Array.from(chains), B * V);
  }

  update(batch: ArrayLike<number>, k: number, h: CpuHyper): number {
    const { V, H, B, N, seed, step, vis, visProb, hidProb, hidSample } = this;
    for (let e = 0; e < B * V; e++) vis[e] = batch[e];
    hiddenPass(V, H, this, vis, B + N, 0, seed, step, 0, hidProb, hidSample);
    visiblePass(V, H, this, hidSample, B, 0, B, seed, step, 0, visProb, vis, true, false);
    for (let t = 1; t <= k; t++) {
      visiblePass(V, H, this, hidSample, N, B, B, seed, step, 2 * t - 1, visProb, vis, false, true);
      hiddenPass(V, H, this, vis, N, B, seed, step, 2 * t, hidProb, hidSample);
    }
    let recon = 0;
    for (let e = 0; e < B * V; e++) recon += (vis[e] - visProb[B * V + e]) ** 2;
    const lr = h.learningRate;
    const mom = h.momentum ?? 0;
    const wd = h.weightDecay ?? 0;
    const cost = h.sparsityCost ?? 0;
    const target = h.sparsityTarget ?? 0.1;
    const decay = h.sparsityDecay ?? 0.9;
    // E_data over the batch (1/B) minus E_model over the chains (1/N).
    const expectation = (value: (r: number) => number): number => {
      let pos = 0;
      let neg = 0;
      for (let r = 0; r < B; r++) pos += value(r);
      for (let r = B; r < B + N; r++) neg += value(r);
      return pos / B - neg / N;
    };
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < H; j++) {
        const e = i * H + j;
        const grad = expectation((r) => vis[r * V + i] * hidProb[r * H + j]) - wd * this.W[e];
        this.wVel[e] = mom * this.wVel[e] + lr * grad;
        this.W[e] += this.wVel[e];
      }
    }
    for (let i = 0; i < V; i++) {
      this.bVel[i] = mom * this.bVel[i] + lr * expectation((r) => vis[r * V + i]);
      this.b[i] += this.bVel[i];
    }
    for (let j = 0; j < H; j++) {
      let g = expectation((r) => hidProb[r * H + j]);
      if (cost > 0) {
        let pos = 0;
        for (let r = 0; r < B; r++) pos += hidProb[r * H + j];
        this.q[j] = decay * this.q[j] + (1 - decay) * (pos / B);
        g += cost * (target - this.q[j]);
      }
      this.cVel[j] = mom * this.cVel[j] + lr * g;
      this.c[j] += this.cVel[j];
    }
    this.step++;
    return recon / (B * V);
  }
}

interface Case extends ReplayCase {
  N: number;
  updates: number;
}

const CASES: Case[] = [
  { name: 'PCD-1, 7 chains for a batch of 5', V: 13, H: 7, B: 5, N: 7, k: 1, updates: 5 },
  { name: 'PCD-2, 3 chains for a batch of 5', V: 13, H: 7, B: 5, N: 3, k: 2, updates: 5 },
  { name: 'PCD-3, 11 chains for a batch of 2, sparsity', V: 9, H: 5, B: 2, N: 11, k: 3, updates: 4, sparsity: true },
  { name: 'PCD-1, 1 chain for a batch of 3', V: 7, H: 5, B: 3, N: 1, k: 1, updates: 4 },
];

describe.each(CASES)('$name', ({ V, H, B, N, k, updates, sparsity }) => {
  const models = disposedAfterAll();

  it(`matches the float64 replay after ${updates} updates`, async () => {
    const { rand, data, gpu, init } = await replaySetup(device, models, { V, H, B, updates, density: 0.35, dataSeed: V * 100 + N, modelSeed: 41 });
    const chains = randomBinary(N * V, 0.5, rand);
    const cpu = new CpuChains(V, H, B, N, init, chains, 41);
    const trainer = await gpu.createTrainer({ batchSize: B, k, persistent: true, chains: N });
    expect(trainer.chains).toBe(N);
    trainer.initChains(chains);
    const hyper = replayHyper(0.1, sparsity);
    const recon = replayUpdates(trainer, data, B * V, updates, hyper, (batch) => cpu.update(batch, k, hyper));
    expect(maxRelError(await trainer.readMetrics(updates), recon)).toBeLessThan(1e-5);
    const after = await gpu.readParams();
    expect(maxRelError(after.W, init.W, 1e-2)).toBeGreaterThan(1e-2);
    expect(maxRelError(after.W, cpu.W, 1e-2)).toBeLessThan(2e-5);
    expect(maxRelError(after.b, cpu.b, 1e-2)).toBeLessThan(2e-5);
    expect(maxRelError(after.c, cpu.c, 1e-2)).toBeLessThan(2e-5);
    // The chains themselves moved on as the replay's did.
    const state = await trainer.readState();
    expect(state.step).toBe(updates);
    expect(state.chains).toHaveLength(N * V);
    trainer.dispose();
  });
});

describe('chains option', () => {
  it('refuses chains ≠ batch without persistent chains, and bad counts', async () => {
    const m = RBM.create(device, { visible: 6, hidden: 4, seed: 1 });
    await expect(m.createTrainer({ batchSize: 3, chains: 5 })).rejects.toThrow(/chains \(5\) differs from batchSize \(3\).*persistent/);
    await expect(m.createTrainer({ batchSize: 3, chains: 0, persistent: true })).rejects.toThrow(/chains/);
    const data = randomBinary(12 * 6, 0.5, mulberry32(1));
    await expect(m.fit(data, { ...LEGACY_FIT_OPTIONS, epochs: 1, batchSize: 3, chains: 5 })).rejects.toThrow(/chains \(5\) only applies to persistent training/);
    await expect(m.fit(data, { epochs: 1, batchSize: 3, chains: 2.5, persistent: true })).rejects.toThrow(/chains/);
    // chains = batchSize is CD's own layout: allowed.
    const t = await m.createTrainer({ batchSize: 3, chains: 3 });
    t.dispose();
    const p = await m.createTrainer({ batchSize: 3, chains: 5, persistent: true });
    expect(() => p.update(new Float32Array(18), { learningRate: 0.1 })).toThrow(/initChains/);
    expect(() => p.initChains(new Float32Array(18))).toThrow(/5 × 6 = 30 values, got 18/);
    p.dispose();
    m.dispose();
  });

  it('fit with PCD and parallel tempering trains with more and fewer chains than rows in a batch', async () => {
    const V = 11;
    const H = 6;
    const data = randomBinary(30 * V, 0.4, mulberry32(8));
    for (const chains of [9, 2]) {
      const m = RBM.create(device, { visible: V, hidden: H, seed: 3, weightScale: 0.1 });
      const before = await m.readParams();
      const r = await m.fit(data, { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: 5, persistent: true, k: 2, chains, learningRate: 0.1, binarize: 'none' });
      expect(r.updates).toBe(12);
      expect(r.reconError.every(Number.isFinite)).toBe(true);
      expect(maxRelError((await m.readParams()).W, before.W, 1e-2)).toBeGreaterThan(1e-3);
      const pt = await fitPT(m, data, { ...LEGACY_PT_FIT_OPTIONS, epochs: 1, batchSize: 5, chains, replicas: 3, learningRate: 0.05, binarize: 'none' });
      expect(pt.updates).toBe(6);
      expect(pt.swapAcceptance).toHaveLength(2);
      expect((await m.readParams()).W.every(Number.isFinite)).toBe(true);
      m.dispose();
    }
  });
});
