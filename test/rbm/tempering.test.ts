// Parallel tempering: kernels replayed against the float64 reference, swap
// acceptance against its formula, sampling a bimodal RBM where plain Gibbs is
// stuck, and PT as the negative phase of training.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { averageLogLikelihood, exactMarginals } from '../reference/exact';
import { swapLogRatio, temperedParams, temperedSweep } from '../reference/tempering';
import { PT_PHASE } from '../../src/gpu/pt-kernels';
import { linearBetas, parallelTempering, resolveBetas, TemperedChains } from '../../src/rbm/tempering';
import { fitPT, ptChainSeed } from '../../src/rbm/pt-train';
import { shuffledPermutation } from '../../src/data/split';
import type { TileShape } from '../../src/gpu/kernels';
import { readFloat32 } from '../../src/gpu/buffers';
import { testDevice, takeGPUErrors } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';
import { LEGACY_FIT_OPTIONS, LEGACY_PT_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

function histogram(samples: Float32Array, n: number, V: number, offset = 0): Float64Array {
  const h = new Float64Array(2 ** V);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < V; i++) if (samples[offset + r * V + i] === 1) s |= 1 << i;
    h[s] += 1 / n;
  }
  return h;
}

function tv(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / 2;
}

/** Distribution of the number of units on, |v| ∈ {0, …, V}, from a distribution over states. */
function onCounts(p: ArrayLike<number>, V: number): Float64Array {
  const out = new Float64Array(V + 1);
  for (let s = 0; s < p.length; s++) {
    let k = 0;
    for (let i = 0; i < V; i++) k += (s >> i) & 1;
    out[k] += p[s];
  }
  return out;
}

/** Mass of the states with more than V/2 units on (the "all ones" mode). */
function upperMass(p: ArrayLike<number>, V: number): number {
  let m = 0;
  for (let s = 0; s < p.length; s++) {
    let k = 0;
    for (let i = 0; i < V; i++) k += (s >> i) & 1;
    if (k > V / 2) m += p[s];
  }
  return m;
}

// A bimodal RBM: hidden unit 0 couples every visible unit with weight A, so
// p(v) has two modes, all-zeros and all-ones, separated by a barrier of
// about A·V/4 nats; the hidden bias tilts the masses to about 27 % / 73 %.
// Block Gibbs from all-zeros needs h_0 = 1, which has probability σ(−A·V/2)
// ≈ 1e-13 there, or about V/2 visible units on at once (≈ 1e-4 per sweep).
// Hidden unit 1 adds a weak, irregular pattern so the modes are not flat.
const V = 10;
const H = 2;
const A = 6;
const TILT = 1;
function bimodal(): { W: Float32Array; b: Float32Array; c: Float32Array } {
  const W = new Float32Array(V * H);
  const b = new Float32Array(V);
  const c = new Float32Array(H);
  for (let i = 0; i < V; i++) {
    W[i * H] = A;
    W[i * H + 1] = (((i * 7 + 3) % 5) - 2) * 0.3;
    b[i] = -A / 2;
  }
  c[0] = (-A * V) / 2 + TILT;
  c[1] = -0.5;
  return { W, b, c };
}

describe('parallel tempering kernels against the float64 reference', () => {
  const V7 = 7;
  const H5 = 5;
  const rand = mulberry32(2024);
  const params = { W: randomNormal(V7 * H5, 1, rand), b: randomNormal(V7, 0.5, rand), c: randomNormal(H5, 0.5, rand) };
  const p = { visible: V7, hidden: H5, ...params };

  const TILES: Array<[string, TileShape]> = [
    ['shared-memory', { wgCols: 16, wgRows: 16, threadRows: 4, tileK: 16, shared: true }],
    ['direct-load', { wgCols: 8, wgRows: 8, threadRows: 8, tileK: 16, shared: false }],
  ];
  it.each(TILES)('one sweep per parity replays exactly (%s GEMM tiles): tempered conditionals, swap decisions, redrawn h', async (_, tile) => {
    const model = RBM.create(device, { visible: V7, hidden: H5, params, seed: 3 });
    const n = 64;
    const betas = [1, 0.8, 0.55, 0.3, 0];
    const M = betas.length;
    const init = randomBinary(M * n * V7, 0.5, rand);
    const chains = await TemperedChains.create(model, { chains: n, betas, init, seed: 77, tile });
    let state = Float64Array.from(init);
    let cpuAccepted = new Array<number>(M - 1).fill(0);
    let tried = 0;
    let nearTies = 0;
    for (let sweep = 0; sweep < 2; sweep++) {
      const ref = temperedSweep(p, state, {
        chains: n, betas: chains.betas, seed: 77, step: sweep, parity: sweep % 2, phases: PT_PHASE,
      });
      const enc = device.createCommandEncoder();
      chains.encode(enc, 1);
      device.queue.submit([enc.finish()]);
      const gpu = await chains.readAll();
      const gpuProb = await readFloat32(device, chains.visProb, gpu.length);
      // σ(β_r (h Wᵀ + b)) of each replica's row, with the h the swap round left.
      expect(Math.max(...Array.from(gpuProb, (q, e) => Math.abs(q - ref.visProb[e])))).toBeLessThan(1e-6);
      for (const d of ref.decisions) {
        // A decision within float32 rounding of the threshold could go either way.
        if (Math.abs(d.u - Math.exp(Math.min(0, d.logRatio))) < 1e-4) nearTies++;
      }
      tried += ref.decisions.length;
      let mismatches = 0;
      for (let e = 0; e < gpu.length; e++) if (gpu[e] !== ref.vis[e]) mismatches++;
      expect(nearTies).toBe(0);
      expect(mismatches).toBe(0);
      cpuAccepted = cpuAccepted.map((a, m) => a + ref.accepted[m]);
      state = Float64Array.from(gpu);
    }
    const stats = await chains.swapStats();
    chains.dispose();
    model.dispose();
    expect(stats.accepted).toEqual(cpuAccepted);
    // Sweep 0 tries pairs (0,1), (2,3); sweep 1 tries (1,2), (3,4): n chains each.
    expect(stats.attempted).toEqual([n, n, n, n]);
    expect(tried).toBe(4 * n);
    // The moves are non-trivial: some accepted, some rejected.
    const total = stats.accepted.reduce((s, a) => s + a, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(4 * n);
    expect(await takeGPUErrors()).toEqual([]);
  });

  it('the swap log-ratio matches its definition through free energies and is 0 for equal β', () => {
    const v1 = randomBinary(V7, 0.5, rand);
    const v2 = randomBinary(V7, 0.5, rand);
    // Free energies of the scaled models (βW, βb, βc) give the same ratio.
    const F = (beta: number, v: Float32Array): number => {
      const s = temperedParams(p, beta);
      let f = 0;
      for (let i = 0; i < V7; i++) f -= s.b[i] * v[i];
      for (let j = 0; j < H5; j++) {
        let x = s.c[j];
        for (let i = 0; i < V7; i++) x += v[i] * s.W[i * H5 + j];
        f -= Math.log1p(Math.exp(x));
      }
      return f;
    };
    const r = swapLogRatio(p, 0.9, 0.4, v1, v2);
    expect(r).toBeCloseTo(F(0.9, v1) + F(0.4, v2) - F(0.9, v2) - F(0.4, v1), 10);
    expect(swapLogRatio(p, 0.6, 0.6, v1, v2)).toBeCloseTo(0, 12);
  });

  it('replicas at equal β accept every swap', async () => {
    const model = RBM.create(device, { visible: V7, hidden: H5, params, seed: 4 });
    const n = 100;
    const chains = await TemperedChains.create(model, { chains: n, betas: [1, 1, 1, 1], seed: 5 });
    const r = await chains.run(6);
    chains.dispose();
    model.dispose();
    // 6 rounds: 3 even (pairs 0, 2) and 3 odd (pair 1).
    expect(r.swaps.attempted).toEqual([3 * n, 3 * n, 3 * n]);
    expect(r.swaps.accepted).toEqual(r.swaps.attempted);
    expect(r.swapAcceptance).toEqual([1, 1, 1]);
  });

  it('swapEvery spaces the rounds, which still alternate even and odd pairs', async () => {
    const model = RBM.create(device, { visible: V7, hidden: H5, params, seed: 4 });
    const n = 100;
    const chains = await TemperedChains.create(model, { chains: n, betas: [1, 1, 1, 1], swapEvery: 2, seed: 6 });
    const r = await chains.run(6, 3);
    chains.dispose();
    model.dispose();
    expect(r.kept).toBe(2);
    // Rounds after sweeps 2, 4, 6: even, odd, even.
    expect(r.swaps.attempted).toEqual([2 * n, n, 2 * n]);
    expect(r.swaps.accepted).toEqual(r.swaps.attempted);
  });

  it('rejects bad ladders, Gaussian models and bad states', async () => {
    expect(linearBetas(5, 0.2).map((b) => +b.toFixed(6))).toEqual([1, 0.8, 0.6, 0.4, 0.2]);
    expect(resolveBetas({})).toHaveLength(10);
    expect(() => resolveBetas({ betas: [0.9, 0.5] })).toThrow(/betas\[0\] must be 1/);
    expect(() => resolveBetas({ betas: [1, 0.5, 0.7] })).toThrow(/must not increase/);
    expect(() => resolveBetas({ betas: [1, -0.1] })).toThrow(/in \[0, 1\]/);
    expect(() => resolveBetas({ betas: [1, 0.5], replicas: 3 })).toThrow(/disagree/);
    expect(() => resolveBetas({ replicas: 1 })).toThrow(/replicas must be an integer ≥ 2/);
    const model = RBM.create(device, { visible: V7, hidden: H5, params });
    await expect(parallelTempering(model, { chains: 2, steps: 1, init: new Float32Array(5) })).rejects.toThrow(
      /2 × 7 = 14 values/,
    );
    await expect(parallelTempering(model, { chains: 2, steps: 0 })).rejects.toThrow(/steps/);
    model.dispose();
    const gauss = RBM.create(device, { visible: 3, hidden: 2, visibleType: 'gaussian' });
    await expect(parallelTempering(gauss, { chains: 2, steps: 1 })).rejects.toThrow(/Bernoulli visible units only/);
    gauss.dispose();
  });
});

describe(`a bimodal RBM (V=${V}, H=${H}): parallel tempering mixes where Gibbs is stuck`, () => {
  const params = bimodal();
  const exact = exactMarginals({ visible: V, hidden: H, ...params });
  const CHAINS = 2000;
  const STEPS = 100;
  const REPLICAS = 8;
  // Sampling noise of a 2000-sample histogram of this p(v) is about 0.06 in TV.
  const PT_TV_BOUND = 0.1;
  const GIBBS_TV_FLOOR = 0.5;
  // Noise of a 2000-sample histogram of |v| is about 0.03 in TV.
  const REPLICA_COUNT_TV_BOUND = 0.07;

  it(`from all-zeros, ${STEPS} sweeps: PT's β = 1 replica has TV < ${PT_TV_BOUND}, Gibbs TV > ${GIBBS_TV_FLOOR}`, async () => {
    const exactUpper = upperMass(exact, V);
    expect(exactUpper).toBeGreaterThan(0.6);
    expect(exactUpper).toBeLessThan(0.85);
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 9 });
    const zeros = new Float32Array(CHAINS * V);

    let t0 = performance.now();
    const gibbs = await model.sample({ chains: CHAINS, steps: STEPS, init: zeros });
    const gibbsMs = performance.now() - t0;
    const hGibbs = histogram(gibbs.samples, CHAINS, V);

    t0 = performance.now();
    const chains = await TemperedChains.create(model, { chains: CHAINS, replicas: REPLICAS, betaMin: 0, init: zeros, seed: 10 });
    const pt = await chains.run(STEPS);
    const ptMs = performance.now() - t0;
    const all = await chains.readAll();
    chains.dispose();
    model.dispose();
    const hPT = histogram(pt.samples, CHAINS, V);

    const tvGibbs = tv(hGibbs, exact);
    const tvPT = tv(hPT, exact);
    // Every replica samples its own tempered distribution p_β ∝ e^{−β E}. The hot
    // ones spread over all 1024 states, too many for a 2000-sample histogram:
    // compare the distribution of |v| (11 values) instead.
    const tvReplicas = pt.betas.map((beta, m) =>
      tv(
        onCounts(histogram(all, CHAINS, V, m * CHAINS * V), V),
        onCounts(exactMarginals(temperedParams({ visible: V, hidden: H, ...params }, beta)), V),
      ),
    );
    console.log(
      `bimodal V=${V}: exact upper-mode mass ${exactUpper.toFixed(3)}; ` +
        `Gibbs ${STEPS} sweeps: TV ${tvGibbs.toFixed(3)}, upper mass ${upperMass(hGibbs, V).toFixed(3)} (${gibbsMs.toFixed(0)} ms); ` +
        `PT M=${REPLICAS} ${STEPS} sweeps: TV ${tvPT.toFixed(3)}, upper mass ${upperMass(hPT, V).toFixed(3)} (${ptMs.toFixed(0)} ms)\n` +
        `  betas ${pt.betas.map((b) => b.toFixed(3)).join(' ')}\n` +
        `  swap acceptance ${pt.swapAcceptance.map((a) => a.toFixed(3)).join(' ')}\n` +
        `  replica TV of |v| vs exact p_β ${tvReplicas.map((t) => t.toFixed(3)).join(' ')}`,
    );
    expect(tvGibbs).toBeGreaterThan(GIBBS_TV_FLOOR);
    expect(upperMass(hGibbs, V)).toBeLessThan(0.05);
    expect(tvPT).toBeLessThan(PT_TV_BOUND);
    expect(Math.abs(upperMass(hPT, V) - exactUpper)).toBeLessThan(0.05);
    for (const t of tvReplicas) expect(t).toBeLessThan(REPLICA_COUNT_TV_BOUND);
    expect(pt.swapAcceptance).toHaveLength(REPLICAS - 1);
    for (const a of pt.swapAcceptance) {
      expect(a).toBeGreaterThan(0);
      expect(a).toBeLessThanOrEqual(1);
    }
    expect(pt.swaps.attempted.every((a) => a === (STEPS / 2) * CHAINS)).toBe(true);
  });
});

describe(`a bimodal RBM (V=${V}, H=${H}): adapted ladders and the visible-bias base`, () => {
  const params = bimodal();
  const rbm = { visible: V, hidden: H, ...params };
  const exact = exactMarginals(rbm);
  const CHAINS = 2000;
  // 2000-sample histograms: TV noise about 0.06 over states, 0.03 over |v|.
  const TV_BOUND = 0.1;

  it('adaptive ladder from a bad start (4 replicas, geometric to 0.9): pairs end equal and ≥ near the target, β = 1 samples exact p(v); same seed, same run', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 9 });
    const zeros = new Float32Array(CHAINS * V);
    const o = {
      chains: CHAINS, steps: 100, replicas: 4, ladder: 'geometric' as const, betaMin: 0.9, init: zeros, seed: 21,
      adapt: { sweeps: 160, windows: 8, targetAcceptance: 0.3 },
    };
    const r = await parallelTempering(model, o);
    const again = await parallelTempering(model, o);
    model.dispose();
    const a = r.adaptation!;
    console.log(
      `adapted ladder: before ${a.initialBetas.map((b) => b.toFixed(3)).join(' ')} acceptance ${a.windows[0].acceptance.map((x) => x.toFixed(3)).join(' ')}\n` +
        `  after ${r.betas.map((b) => b.toFixed(3)).join(' ')} acceptance ${r.swapAcceptance.map((x) => x.toFixed(3)).join(' ')}`,
    );
    expect(a.windows).toHaveLength(8);
    expect(a.initialBetas[3]).toBeCloseTo(0.9, 6);
    // The start swaps almost always (β ≥ 0.9): far above the target, and too cold to cross the barrier.
    for (const x of a.windows[0].acceptance) expect(x).toBeGreaterThan(0.6);
    expect(r.betas[0]).toBe(1);
    for (let m = 1; m < 4; m++) expect(r.betas[m]).toBeLessThan(r.betas[m - 1]);
    expect(r.betas[3]).toBeLessThan(0.5);
    // Every pair at least near the target and the pairs about equal (a ladder that reaches β = 0 with
    // acceptance to spare stops there, above the target).
    for (const x of r.swapAcceptance) expect(x).toBeGreaterThan(0.2);
    expect(Math.max(...r.swapAcceptance) - Math.min(...r.swapAcceptance)).toBeLessThan(0.12);
    expect(tv(histogram(r.samples, CHAINS, V), exact)).toBeLessThan(TV_BOUND);
    expect(Math.abs(upperMass(histogram(r.samples, CHAINS, V), V) - upperMass(exact, V))).toBeLessThan(0.05);
    // Deterministic: the retunes read GPU-counted swaps, a function of the seed.
    expect(again.betas).toEqual(r.betas);
    expect(again.swaps).toEqual(r.swaps);
    expect(again.samples).toEqual(r.samples);
    expect(await takeGPUErrors()).toEqual([]);
  });

  it("base 'visible-bias' (V=7, H=5, odd sizes): every replica samples p_β ∝ e^{β (vᵀWh + cᵀh) + bᵀv} exactly, β = 0 included", async () => {
    const V7 = 7;
    const H5 = 5;
    const rand = mulberry32(77);
    const p = { W: randomNormal(V7 * H5, 1.2, rand), b: randomNormal(V7, 1, rand), c: randomNormal(H5, 0.5, rand) };
    const model = RBM.create(device, { visible: V7, hidden: H5, params: p, seed: 9 });
    const betas = [1, 0.6, 0.3, 0];
    const n = 8000;
    const chains = await TemperedChains.create(model, { chains: n, betas, base: 'visible-bias', seed: 33 });
    const r = await chains.run(150);
    const all = await chains.readAll();
    chains.dispose();
    model.dispose();
    // Only W and c scaled: the RBM (βW, b, βc).
    const tempered = (beta: number): Float64Array =>
      exactMarginals({ visible: V7, hidden: H5, W: Float64Array.from(p.W, (w) => beta * w), b: p.b, c: Float64Array.from(p.c, (c) => beta * c) });
    const tvs = betas.map((beta, m) => tv(histogram(all, n, V7, m * n * V7), tempered(beta)));
    // What a swap with the uniform base's ratio would target instead: the RBM (βW, βb, βc).
    const wrong = betas.map((beta, m) => tv(histogram(all, n, V7, m * n * V7), exactMarginals(temperedParams({ visible: V7, hidden: H5, ...p }, beta))));
    console.log(
      `visible-bias base V=7 H=5: TV per replica ${tvs.map((t) => t.toFixed(3)).join(' ')} ` +
        `(vs the uniform-base p_β ${wrong.map((t) => t.toFixed(3)).join(' ')}); acceptance ${r.swapAcceptance.map((x) => x.toFixed(3)).join(' ')}`,
    );
    // 8000 samples over 128 states: TV noise ≈ 0.04.
    for (const t of tvs) expect(t).toBeLessThan(0.07);
    for (const t of wrong.slice(1)) expect(t).toBeGreaterThan(0.1);
    for (const x of r.swapAcceptance) {
      expect(x).toBeGreaterThan(0.05);
      expect(x).toBeLessThan(0.98);
    }
    expect(await takeGPUErrors()).toEqual([]);
  });

  it('rejects bad adaptation and base options, naming the fix', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 9 });
    await expect(parallelTempering(model, { chains: 2, steps: 1, adapt: { sweeps: 8, windows: 8 } })).rejects.toThrow(
      /fewer than 2 swap rounds.*raise adapt sweeps to at least 16/,
    );
    await expect(parallelTempering(model, { chains: 2, steps: 1, adapt: { targetAcceptance: 1 } })).rejects.toThrow(/targetAcceptance must be a number in \(0, 1\)/);
    await expect(parallelTempering(model, { chains: 2, steps: 1, betas: [1, 0.5, 0.5], adapt: true })).rejects.toThrow(/strictly decreasing/);
    await expect(parallelTempering(model, { chains: 2, steps: 1, base: 'data' as 'uniform' })).rejects.toThrow(/base must be 'uniform' or 'visible-bias'/);
    await expect(parallelTempering(model, { chains: 2, steps: 1, betaMin: 0.1, adapt: { betaFloor: 0.2 } })).rejects.toThrow(/below adapt.betaFloor/);
    model.dispose();
  });

  it('the default: a geometric ladder to 0.2, adapted; an explicit ladder is not adapted unless asked', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params, seed: 9 });
    const d = await parallelTempering(model, { chains: 8, steps: 2 });
    expect(d.adaptation?.sweeps).toBe(400);
    expect(d.adaptation?.windows).toHaveLength(8);
    expect(d.adaptation?.initialBetas.map((b) => +b.toFixed(6))).toEqual(resolveBetas({}).map((b) => +Math.fround(b).toFixed(6)));
    const fixed = await parallelTempering(model, { chains: 8, steps: 2, replicas: 3, betaMin: 0 });
    expect(fixed.adaptation).toBeUndefined();
    expect(fixed.betas).toEqual([1, 0.5, 0]);
    model.dispose();
  });
});

/** CPU twin of one external-chain PCD update (update.wgsl, bias_update.wgsl) with given negative states. */
function cpuUpdate(
  p: { W: Float64Array; b: Float64Array; c: Float64Array; wVel: Float64Array; bVel: Float64Array; cVel: Float64Array },
  Vn: number, Hn: number, pos: ArrayLike<number>, neg: ArrayLike<number>, B: number,
  lr: number, mom: number, wd: number,
): void {
  const prob = (v: ArrayLike<number>, r: number, j: number): number => {
    let x = p.c[j];
    for (let i = 0; i < Vn; i++) x += v[r * Vn + i] * p.W[i * Hn + j];
    return 1 / (1 + Math.exp(-x));
  };
  const pp = Float64Array.from({ length: B * Hn }, (_, e) => prob(pos, Math.floor(e / Hn), e % Hn));
  const pn = Float64Array.from({ length: B * Hn }, (_, e) => prob(neg, Math.floor(e / Hn), e % Hn));
  for (let i = 0; i < Vn; i++) {
    for (let j = 0; j < Hn; j++) {
      let g = 0;
      for (let r = 0; r < B; r++) g += pos[r * Vn + i] * pp[r * Hn + j] - neg[r * Vn + i] * pn[r * Hn + j];
      const e = i * Hn + j;
      p.wVel[e] = mom * p.wVel[e] + lr * (g / B - wd * p.W[e]);
      p.W[e] += p.wVel[e];
    }
  }
  for (let i = 0; i < Vn; i++) {
    let g = 0;
    for (let r = 0; r < B; r++) g += pos[r * Vn + i] - neg[r * Vn + i];
    p.bVel[i] = mom * p.bVel[i] + (lr * g) / B;
    p.b[i] += p.bVel[i];
  }
  for (let j = 0; j < Hn; j++) {
    let g = 0;
    for (let r = 0; r < B; r++) g += pp[r * Hn + j] - pn[r * Hn + j];
    p.cVel[j] = mom * p.cVel[j] + (lr * g) / B;
    p.c[j] += p.cVel[j];
  }
}

describe('training with a parallel-tempering negative phase', () => {
  it('equals the CPU replay: PT sweeps on the current parameters feed the negative rows of every update', async () => {
    const Vn = 9;
    const Hn = 4;
    const N = 12;
    const B = 6;
    const EPOCHS = 2;
    const betas = [1, 0.6, 0.25, 0];
    const data = randomBinary(N * Vn, 0.4, mulberry32(8));
    const model = RBM.create(device, { visible: Vn, hidden: Hn, seed: 41, weightScale: 0.5 });
    const start = await model.readParams();
    const opts = {
      ...LEGACY_PT_FIT_OPTIONS, epochs: EPOCHS, batchSize: B, betas, learningRate: 0.1, momentum: 0.5, weightDecay: 1e-3,
      binarize: 'none' as const, updatesPerSubmit: 3,
    };
    const result = await fitPT(model, data, opts);
    const got = await model.readParams();

    const cpu = {
      W: Float64Array.from(start.W), b: Float64Array.from(start.b), c: Float64Array.from(start.c),
      wVel: new Float64Array(Vn * Hn), bVel: new Float64Array(Vn), cVel: new Float64Array(Hn),
    };
    const batchOf = (perm: Uint32Array, k: number): Float32Array => {
      const out = new Float32Array(B * Vn);
      for (let r = 0; r < B; r++) out.set(data.subarray(perm[k * B + r] * Vn, (perm[k * B + r] + 1) * Vn), r * Vn);
      return out;
    };
    // Every replica starts at the first batch of epoch 0.
    const first = batchOf(shuffledPermutation(N, 41, 0), 0);
    let chains: Float64Array = new Float64Array(betas.length * B * Vn);
    for (let m = 0; m < betas.length; m++) chains.set(first, m * B * Vn);
    const seed = ptChainSeed(model, {});
    let step = 0;
    let accepted = [0, 0, 0];
    for (let e = 0; e < EPOCHS; e++) {
      const perm = shuffledPermutation(N, 41, e);
      for (let k = 0; k < N / B; k++) {
        const sweep = temperedSweep({ visible: Vn, hidden: Hn, ...cpu }, chains, {
          chains: B, betas: betas.map(Math.fround), seed, step, parity: step % 2, phases: PT_PHASE,
        });
        step++;
        chains = sweep.vis;
        accepted = accepted.map((a, m) => a + sweep.accepted[m]);
        cpuUpdate(cpu, Vn, Hn, batchOf(perm, k), chains.subarray(0, B * Vn), B, 0.1, 0.5, 1e-3);
      }
    }
    model.dispose();
    const err = (a: Float32Array, b: Float64Array): number => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
    expect(err(got.W, cpu.W)).toBeLessThan(1e-5);
    expect(err(got.b, cpu.b)).toBeLessThan(1e-5);
    expect(err(got.c, cpu.c)).toBeLessThan(1e-5);
    expect(result.updates).toBe(EPOCHS * (N / B));
    expect(result.swapsAccepted).toEqual(accepted);
    // 4 sweeps alternate even/odd rounds: pairs (0,1), (2,3) twice and (1,2) twice, B chains each.
    expect(result.swapsAttempted).toEqual([2 * B, 2 * B, 2 * B]);
  });

  it('learns a small binary data set: recon error falls, parameters finite, swap rates reported', async () => {
    // Four 4×4 bar images (rows 0–1, rows 2–3, columns 0–1, columns 2–3) with 5 % flipped pixels.
    const Vn = 16;
    const N = 400;
    const rand = mulberry32(12);
    const data = new Float32Array(N * Vn);
    for (let r = 0; r < N; r++) {
      const kind = r % 4;
      for (let i = 0; i < Vn; i++) {
        const row = Math.floor(i / 4);
        const col = i % 4;
        const on = kind < 2 ? Math.floor(row / 2) === kind : Math.floor(col / 2) === kind - 2;
        data[r * Vn + i] = (rand() < 0.05) !== on ? 1 : 0;
      }
    }
    const model = RBM.create(device, { visible: Vn, hidden: 8, seed: 5 });
    const REPLICAS = 6;
    const EPOCHS = 40;
    const B = 20;
    const epochAcceptance: number[][] = [];
    const t0 = performance.now();
    const ll0 = averageLogLikelihood({ visible: Vn, hidden: 8, ...(await model.readParams()) }, data, N);
    // Momentum 0.5 throughout: with 'hinton' (0.9 from epoch 5) and this rate, PCD and PT chains both oscillate.
    const r = await fitPT(model, data, {
      ...LEGACY_PT_FIT_OPTIONS, epochs: EPOCHS, batchSize: B, replicas: REPLICAS, learningRate: 0.05, momentum: 0.5, binarize: 'none',
      onEpoch: (e) => {
        epochAcceptance.push(e.swapAcceptance);
      },
    });
    const ms = performance.now() - t0;
    const p = await model.readParams();
    model.dispose();
    const ll = averageLogLikelihood({ visible: Vn, hidden: 8, ...p }, data, N);
    // For reference only: PCD-1 with the same settings.
    const pcdModel = RBM.create(device, { visible: Vn, hidden: 8, seed: 5 });
    await pcdModel.fit(data, { ...LEGACY_FIT_OPTIONS, epochs: EPOCHS, batchSize: B, persistent: true, chains: B, learningRate: 0.05, momentum: 0.5, binarize: 'none' });
    const llPCD = averageLogLikelihood({ visible: Vn, hidden: 8, ...(await pcdModel.readParams()) }, data, N);
    pcdModel.dispose();
    console.log(
      `PT training V=${Vn} H=8 M=${REPLICAS} B=${B}: ${r.updates} updates in ${ms.toFixed(0)} ms; ` +
        `recon ${r.reconError.filter((_, e) => e % 5 === 0 || e === EPOCHS - 1).map((x) => x.toFixed(4)).join(' → ')} (every 5th epoch)\n` +
        `  exact mean log-likelihood ${ll0.toFixed(3)} → ${ll.toFixed(3)} (PCD-1, same settings: ${llPCD.toFixed(3)})\n` +
        `  betas ${r.betas.map((b) => b.toFixed(2)).join(' ')}; swap acceptance ${r.swapAcceptance.map((a) => a.toFixed(3)).join(' ')}`,
    );
    expect(r.updates).toBe(EPOCHS * (N / B));
    expect(r.reconError[EPOCHS - 1]).toBeLessThan(0.5 * r.reconError[0]);
    for (const a of [...p.W, ...p.b, ...p.c]) expect(Number.isFinite(a)).toBe(true);
    expect(ll).toBeGreaterThan(ll0 + 4);
    expect(r.swapAcceptance).toHaveLength(REPLICAS - 1);
    expect(epochAcceptance).toHaveLength(EPOCHS);
    for (const rates of [r.swapAcceptance, ...epochAcceptance]) {
      expect(rates).toHaveLength(REPLICAS - 1);
      for (const a of rates) {
        expect(a).toBeGreaterThan(0);
        expect(a).toBeLessThanOrEqual(1);
      }
    }
    // One sweep per update, rounds alternating: each pair is tried in every other sweep.
    expect(r.swapsAttempted).toEqual(new Array(REPLICAS - 1).fill((r.updates / 2) * B));
    expect(await takeGPUErrors()).toEqual([]);
  });

  it('adapt: the ladder is retuned after every epoch toward the target; deterministic; refused with checkpoints', async () => {
    const Vn = 16;
    const N = 200;
    const rand = mulberry32(13);
    const data = new Float32Array(N * Vn);
    for (let r = 0; r < N; r++) {
      const kind = r % 4;
      for (let i = 0; i < Vn; i++) {
        const on = kind < 2 ? Math.floor(Math.floor(i / 4) / 2) === kind : Math.floor((i % 4) / 2) === kind - 2;
        data[r * Vn + i] = (rand() < 0.05) !== on ? 1 : 0;
      }
    }
    const EPOCHS = 12;
    const run = async (): Promise<{ r: Awaited<ReturnType<typeof fitPT>>; betas: number[][]; p: Awaited<ReturnType<RBM['readParams']>> }> => {
      const model = RBM.create(device, { visible: Vn, hidden: 8, seed: 5 });
      const betas: number[][] = [];
      const r = await fitPT(model, data, {
        ...LEGACY_PT_FIT_OPTIONS, epochs: EPOCHS, batchSize: 20, replicas: 4, ladder: 'geometric', betaMin: 0.95, adapt: { targetAcceptance: 0.4 },
        learningRate: 0.05, momentum: 0.5, binarize: 'none',
        onEpoch: (e) => {
          betas.push(e.betas);
        },
      });
      const p = await model.readParams();
      model.dispose();
      return { r, betas, p };
    };
    const a = await run();
    const b = await run();
    console.log(
      `adaptive PT training: epoch 1 betas ${a.betas[0].map((x) => x.toFixed(3)).join(' ')} acceptance ${a.r.epochs[0].swapAcceptance.map((x) => x.toFixed(3)).join(' ')}\n` +
        `  epoch ${EPOCHS} betas ${a.betas[EPOCHS - 1].map((x) => x.toFixed(3)).join(' ')} acceptance ${a.r.epochs[EPOCHS - 1].swapAcceptance.map((x) => x.toFixed(3)).join(' ')}; final ${a.r.betas.map((x) => x.toFixed(3)).join(' ')}`,
    );
    expect(a.betas[0][3]).toBeCloseTo(0.95, 6);
    // Nearly equal βs swap almost always: far above the target.
    for (const x of a.r.epochs[0].swapAcceptance) expect(x).toBeGreaterThan(0.8);
    const last = a.r.epochs[EPOCHS - 1].swapAcceptance;
    // This small model is easy: the ladder reaches β = 0 with acceptance to spare.
    for (const x of last) expect(x).toBeGreaterThan(0.2);
    expect(a.r.betas[0]).toBe(1);
    for (let m = 1; m < 4; m++) expect(a.r.betas[m]).toBeLessThan(a.r.betas[m - 1]);
    expect(a.r.betas[3]).toBeLessThan(0.8);
    expect(b.r.betas).toEqual(a.r.betas);
    expect(b.betas).toEqual(a.betas);
    expect(b.p.W).toEqual(a.p.W);

    const model = RBM.create(device, { visible: Vn, hidden: 8, seed: 5 });
    await expect(fitPT(model, data, { epochs: 1, batchSize: 20, replicas: 3, adapt: true, onCheckpoint: () => undefined })).rejects.toThrow(
      /checkpoint does not hold the adapted ladder.*drop adapt/,
    );
    await expect(fitPT(model, data, { epochs: 1, batchSize: 20, replicas: 3, adapt: { targetAcceptance: 2 } })).rejects.toThrow(/targetAcceptance must be a number in \(0, 1\)/);
    model.dispose();
  });

  it('cancels between chunks and reports the swaps of the updates that ran', async () => {
    const Vn = 12;
    const B = 10;
    const data = randomBinary(200 * Vn, 0.3, mulberry32(3));
    const model = RBM.create(device, { visible: Vn, hidden: 6, seed: 2 });
    const controller = new AbortController();
    const progress: number[] = [];
    const r = await fitPT(model, data, {
      ...LEGACY_PT_FIT_OPTIONS, epochs: 3, batchSize: B, replicas: 4, updatesPerSubmit: 4, signal: controller.signal,
      onProgress: (p) => {
        progress.push(p.step);
        if (p.step >= 8) controller.abort();
      },
    });
    model.dispose();
    expect(r.cancelled).toBe(true);
    expect(r.updates).toBeGreaterThanOrEqual(8);
    expect(r.updates).toBeLessThan(60);
    expect(progress[0]).toBe(4);
    // Every update ran one sweep; the run's attempts add up to exactly those sweeps' rounds.
    const rounds = r.swapsAttempted.reduce((a, x) => a + x, 0) / B;
    expect(rounds).toBe(Math.ceil(r.updates / 2) * 2 + Math.floor(r.updates / 2));
  });
});
