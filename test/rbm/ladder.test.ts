// Ladder math of parallel tempering (src/rbm/ladder.ts): the geometric
// ladder, erfc and its inverse, and the retuning rule, driven here by the
// exact expected swap acceptance of a small RBM (enumerated in float64), so
// convergence to the target is checked without sampling noise.
import { describe, expect, it } from 'vitest';
import { erfc, erfcInv, geometricBetas, replicasForTarget, retuneBetas } from '../../src/rbm/ladder';
import { resolveBetas } from '../../src/rbm/tempering';
import { softplus } from '../reference/exact';

describe('geometric ladder', () => {
  it('runs from exactly 1 to exactly betaMin with equal ratios', () => {
    const b = geometricBetas(6, 0.03);
    expect(b[0]).toBe(1);
    expect(b[5]).toBe(0.03);
    for (let m = 1; m < 6; m++) expect(b[m] / b[m - 1]).toBeCloseTo(Math.pow(0.03, 1 / 5), 12);
    expect(geometricBetas(2, 1)).toEqual([1, 1]);
  });

  it('rejects betaMin 0 (naming the linear ladder) and bad replica counts', () => {
    expect(() => geometricBetas(5, 0)).toThrow(/betaMin in \(0, 1\].*ladder 'linear'/);
    expect(() => geometricBetas(1, 0.5)).toThrow(/replicas must be an integer ≥ 2/);
    expect(() => geometricBetas(4, 1.5)).toThrow(/betaMin/);
  });

  it('resolveBetas: geometric by default, linear with betaMin alone or for training fallback, errors named', () => {
    expect(resolveBetas({ replicas: 4 })).toEqual(geometricBetas(4, 0.2));
    expect(resolveBetas({ replicas: 3, betaMin: 0 })).toEqual([1, 0.5, 0]);
    expect(resolveBetas({ replicas: 3 }, 'linear')).toEqual([1, 0.5, 0]);
    expect(resolveBetas({ replicas: 3, ladder: 'geometric', betaMin: 0.25 })).toEqual([1, 0.5, 0.25]);
    expect(() => resolveBetas({ replicas: 3, ladder: 'geometric', betaMin: 0 })).toThrow(/ladder 'linear'/);
    expect(() => resolveBetas({ betas: [1, 0.5], ladder: 'linear' })).toThrow(/either betas or ladder/);
    expect(() => resolveBetas({ replicas: 3, ladder: 'cubic' as 'linear' })).toThrow(/ladder must be 'geometric' or 'linear'/);
  });
});

describe('erfc and its inverse', () => {
  it('match known values and invert each other', () => {
    expect(erfc(0)).toBeCloseTo(1, 14);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 12);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 14);
    expect(erfc(-0.5)).toBeCloseTo(1.520499877813047, 12);
    for (const p of [1e-6, 0.01, 0.3, 1, 1.7]) expect(erfc(erfcInv(p))).toBeCloseTo(p, 10);
    expect(() => erfcInv(0)).toThrow(/\(0, 2\)/);
  });
});

// A bimodal RBM (as in tempering.test.ts, smaller): every visible unit coupled
// to hidden unit 0, so p(v) has modes at all-zeros and all-ones; the swap
// acceptance between two temperatures is enumerable over 2^V × 2^V pairs.
const V = 8;
const H = 2;
function bimodal(a: number): { W: Float64Array; b: Float64Array; c: Float64Array } {
  const W = new Float64Array(V * H);
  const b = new Float64Array(V);
  const c = new Float64Array(H);
  for (let i = 0; i < V; i++) {
    W[i * H] = a;
    W[i * H + 1] = (((i * 7 + 3) % 5) - 2) * 0.3;
    b[i] = -a / 2;
  }
  c[0] = (-a * V) / 2 + 1;
  c[1] = -0.5;
  return { W, b, c };
}

type Base = 'uniform' | 'visible-bias';

/** F_β(v) of every state: −β bᵀv (or −bᵀv for the visible-bias base) − Σ_j softplus(β x_j(v)). */
function freeEnergies(p: ReturnType<typeof bimodal>, beta: number, base: Base): Float64Array {
  const F = new Float64Array(2 ** V);
  for (let s = 0; s < F.length; s++) {
    let f = 0;
    for (let i = 0; i < V; i++) if ((s >> i) & 1) f -= (base === 'uniform' ? beta : 1) * p.b[i];
    for (let j = 0; j < H; j++) {
      let x = p.c[j];
      for (let i = 0; i < V; i++) if ((s >> i) & 1) x += p.W[i * H + j];
      f -= softplus(beta * x);
    }
    F[s] = f;
  }
  return F;
}

function probabilities(F: Float64Array): Float64Array {
  const min = Math.min(...F);
  const w = F.map((f) => Math.exp(min - f));
  const z = w.reduce((a, x) => a + x, 0);
  return w.map((x) => x / z);
}

/** E[min(1, r)] with A ~ p_a, B ~ p_b: the exact swap acceptance of the pair. */
function exactAcceptance(p: ReturnType<typeof bimodal>, betaA: number, betaB: number, base: Base): number {
  const Fa = freeEnergies(p, betaA, base);
  const Fb = freeEnergies(p, betaB, base);
  const pa = probabilities(Fa);
  const pb = probabilities(Fb);
  let acc = 0;
  for (let A = 0; A < Fa.length; A++) {
    for (let B = 0; B < Fa.length; B++) {
      const logR = Fa[A] + Fb[B] - Fa[B] - Fb[A];
      acc += pa[A] * pb[B] * Math.min(1, Math.exp(logR));
    }
  }
  return acc;
}

const N = 1e6;
function exactCounts(p: ReturnType<typeof bimodal>, betas: number[], base: Base): { accepted: number[]; attempted: number[]; acceptance: number[] } {
  const acceptance = betas.slice(1).map((b, m) => exactAcceptance(p, betas[m], b, base));
  return { acceptance, accepted: acceptance.map((a) => Math.round(a * N)), attempted: acceptance.map(() => N) };
}

describe('retuning toward a target swap acceptance (exact acceptances of a bimodal 8-2 RBM)', () => {
  const p = bimodal(5);

  it('keeps β_0 = 1, strictly decreasing βs in [floor, 1], float32 values; is a pure function of its inputs', () => {
    const betas = Array.from(Float32Array.from(geometricBetas(6, 0.1)));
    const accepted = [900, 10, 0, 500, 1000];
    const attempted = [1000, 1000, 1000, 1000, 1000];
    const r = retuneBetas(betas, accepted, attempted, { targetAcceptance: 0.3 });
    expect(r[0]).toBe(1);
    for (let m = 1; m < r.length; m++) {
      expect(r[m]).toBeLessThan(r[m - 1]);
      expect(r[m]).toBeGreaterThanOrEqual(0);
      expect(Math.fround(r[m])).toBe(r[m]);
    }
    expect(retuneBetas(betas, accepted, attempted, { targetAcceptance: 0.3 })).toEqual(r);
    const floored = retuneBetas(betas, accepted, attempted, { targetAcceptance: 0.05, betaFloor: 0.05 });
    expect(floored[5]).toBeGreaterThanOrEqual(Math.fround(0.05));
  });

  it('a ladder whose pairs all accept the target is a fixed point', () => {
    const betas = Array.from(Float32Array.from([1, 0.8, 0.6, 0.45, 0.3]));
    const r = retuneBetas(betas, [300, 300, 300, 300], [1000, 1000, 1000, 1000], { targetAcceptance: 0.3 });
    r.forEach((b, m) => expect(b).toBeCloseTo(betas[m], 6));
  });

  it('rejects what it cannot retune, naming the fix', () => {
    expect(() => retuneBetas([1, 0.5, 0.5], [1, 1], [2, 2])).toThrow(/strictly decreasing/);
    expect(() => retuneBetas([1, 0.5, 0.2], [1, 0], [2, 0])).toThrow(/pair 1 was never tried; run at least two swap rounds/);
    expect(() => retuneBetas([1, 0.5], [1], [2], { targetAcceptance: 1 })).toThrow(/targetAcceptance must be a number in \(0, 1\)/);
    expect(() => retuneBetas([1, 0.5], [1], [2], { damping: 0 })).toThrow(/damping/);
    expect(() => retuneBetas([0.9, 0.5], [1], [2])).toThrow(/betas\[0\] must be 1/);
  });

  const stiff = bimodal(12);
  const retuned = (base: Base, M: number, target: number, start: number[]): number[] => {
    let betas = Array.from(Float32Array.from(start));
    for (let it = 0; it < 25; it++) {
      const c = exactCounts(stiff, betas, base);
      betas = retuneBetas(betas, c.accepted, c.attempted, { targetAcceptance: target });
    }
    return betas;
  };

  it('uniform base, 3 replicas of a stiffer model: too few to reach β = 0 at 0.4, so every pair converges to 0.4', () => {
    const start = geometricBetas(3, 0.2);
    const before = exactCounts(stiff, start, 'uniform').acceptance;
    // The starting ladder is off the target.
    expect(Math.max(...before.map((a) => Math.abs(a - 0.4)))).toBeGreaterThan(0.1);
    const betas = retuned('uniform', 3, 0.4, start);
    const c = exactCounts(stiff, betas, 'uniform');
    for (const a of c.acceptance) expect(Math.abs(a - 0.4)).toBeLessThan(0.01);
    expect(betas[2]).toBeGreaterThan(0.1);
    // More replicas than this ladder has are needed to reach β = 0 at 0.4.
    expect(replicasForTarget(betas, c.accepted, c.attempted, { targetAcceptance: 0.4 })).toBeGreaterThan(3);
  });

  it('visible-bias base, same model and replicas: only W and c are tempered, so the ladder reaches β = 0 above 0.4, pairs equal', () => {
    const betas = retuned('visible-bias', 3, 0.4, geometricBetas(3, 0.2));
    const after = exactCounts(stiff, betas, 'visible-bias').acceptance;
    expect(betas[2]).toBe(0);
    for (const a of after) expect(a).toBeGreaterThan(0.4);
    expect(Math.abs(after[0] - after[1])).toBeLessThan(0.01);
  });

  it('enough replicas: the ladder reaches β = 0 with equal acceptances above the target', () => {
    const M = 12;
    let betas = Array.from(Float32Array.from(geometricBetas(M, 0.3)));
    for (let it = 0; it < 25; it++) {
      const c = exactCounts(p, betas, 'uniform');
      betas = retuneBetas(betas, c.accepted, c.attempted, { targetAcceptance: 0.2 });
    }
    const after = exactCounts(p, betas, 'uniform').acceptance;
    expect(betas[M - 1]).toBe(0);
    for (const a of after) expect(a).toBeGreaterThan(0.2);
    expect(Math.max(...after) - Math.min(...after)).toBeLessThan(0.06);
  });
});
