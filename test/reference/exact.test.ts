import { describe, expect, it } from 'vitest';
import type { RBMParams } from './exact';
import {
  averageLogLikelihood,
  energy,
  exactGradient,
  exactMarginals,
  freeEnergy,
  freeEnergyBatch,
  logSumExp,
  logZBruteForce,
  logZByHidden,
  logZByVisible,
  logZExact,
  sigmoid,
  softplus,
} from './exact';

// Tiny seeded PRNG (mulberry32), so every run sees the same RBMs.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRBM(V: number, H: number, scale: number, seed: number): RBMParams {
  const rand = mulberry32(seed);
  const fill = (k: number): Float64Array => Float64Array.from({ length: k }, () => scale * (2 * rand() - 1));
  return { visible: V, hidden: H, W: fill(V * H), b: fill(V), c: fill(H) };
}

function randomData(n: number, V: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  return Float64Array.from({ length: n * V }, () => (rand() < 0.5 ? 1 : 0));
}

function bits(index: number, units: number): Float64Array {
  return Float64Array.from({ length: units }, (_, k) => (index >> k) & 1);
}

function expectRelClose(a: number, b: number, rel: number): void {
  expect(Number.isFinite(a)).toBe(true);
  expect(Number.isFinite(b)).toBe(true);
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(a), Math.abs(b)));
}

const SHAPES: Array<[number, number]> = [
  [6, 4],
  [4, 6],
];

describe('scalar helpers', () => {
  it('softplus, sigmoid and logSumExp are stable at extremes', () => {
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(-40)).toBeCloseTo(Math.exp(-40), 30);
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(-745)).toBeGreaterThanOrEqual(0);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.LN2, 12);
    expect(logSumExp([])).toBe(-Infinity);
    expect(logSumExp([-Infinity, 0])).toBe(0);
  });
});

describe('log Z', () => {
  it.each(SHAPES)('by hidden = by visible = brute force (V=%i, H=%i)', (V, H) => {
    for (const seed of [1, 2, 3]) {
      const p = randomRBM(V, H, 1, seed);
      const brute = logZBruteForce(p);
      expectRelClose(logZByHidden(p), brute, 1e-10);
      expectRelClose(logZByVisible(p), brute, 1e-10);
      expectRelClose(logZExact(p), brute, 1e-10);
    }
  });

  it('stays finite and consistent with large weights (scale 20)', () => {
    for (const [V, H] of SHAPES) {
      const p = randomRBM(V, H, 20, 99);
      const brute = logZBruteForce(p);
      expect(brute).toBeGreaterThan(10); // really a large-weight model
      expectRelClose(logZByHidden(p), brute, 1e-9);
      expectRelClose(logZByVisible(p), brute, 1e-9);
      const g = exactGradient(p, randomData(10, V, 5), 10);
      for (const arr of [g.dW, g.db, g.dc]) for (const x of arr) expect(Number.isFinite(x)).toBe(true);
      for (const x of exactMarginals(p)) expect(Number.isFinite(x)).toBe(true);
    }
  });

  it('of W=0 has the closed form (V+H) log 2 plus biases', () => {
    const p: RBMParams = { visible: 3, hidden: 2, W: new Float64Array(6), b: [0.5, -1, 2], c: [0, 3] };
    const want = [0.5, -1, 2, 0, 3].reduce((s, x) => s + softplus(x), 0);
    expectRelClose(logZExact(p), want, 1e-14);
  });
});

describe('free energy', () => {
  it.each(SHAPES)('equals −log Σ_h exp(−E(v,h)) by brute force (V=%i, H=%i)', (V, H) => {
    const p = randomRBM(V, H, 1, 7);
    for (let sv = 0; sv < 2 ** V; sv++) {
      const v = bits(sv, V);
      const terms = Array.from({ length: 2 ** H }, (_, sh) => -energy(p, v, bits(sh, H)));
      expectRelClose(freeEnergy(p, v), -logSumExp(terms), 1e-10);
    }
  });

  it('batch matches the one-row function and accepts Float32 parameters', () => {
    const p64 = randomRBM(6, 4, 1, 8);
    const p: RBMParams = { ...p64, W: Float32Array.from(p64.W), b: Float32Array.from(p64.b) };
    const data = randomData(5, 6, 9);
    const f = freeEnergyBatch(p, data, 5);
    expect(f).toBeInstanceOf(Float64Array);
    for (let r = 0; r < 5; r++) expect(f[r]).toBe(freeEnergy(p, data.subarray(r * 6, r * 6 + 6)));
  });
});

describe('exact gradient', () => {
  // Central finite differences of the mean log-likelihood, one parameter at a time.
  function numericalGradient(p: RBMParams, data: Float64Array, n: number, key: 'W' | 'b' | 'c'): Float64Array {
    const step = 1e-5;
    const base = Float64Array.from(p[key]);
    const out = new Float64Array(base.length);
    for (let k = 0; k < base.length; k++) {
      const at = (delta: number): number => {
        const arr = Float64Array.from(base);
        arr[k] += delta;
        return averageLogLikelihood({ ...p, [key]: arr }, data, n);
      };
      out[k] = (at(step) - at(-step)) / (2 * step);
    }
    return out;
  }

  it.each(SHAPES)('matches central finite differences for every W, b, c (V=%i, H=%i)', (V, H) => {
    const p = randomRBM(V, H, 1, 11);
    const n = 10;
    const data = randomData(n, V, 12);
    const g = exactGradient(p, data, n);
    const pairs: Array<[Float64Array, Float64Array]> = [
      [g.dW, numericalGradient(p, data, n, 'W')],
      [g.db, numericalGradient(p, data, n, 'b')],
      [g.dc, numericalGradient(p, data, n, 'c')],
    ];
    for (const [exact, numeric] of pairs) {
      expect(exact.length).toBe(numeric.length);
      for (let k = 0; k < exact.length; k++) expect(Math.abs(exact[k] - numeric[k])).toBeLessThanOrEqual(1e-6);
    }
  });

  // Model expectations from a gradient at one all-zero data row, whose positive phase is
  // known: 0 for W and b, σ(c) for c.
  function modelTerms(p: RBMParams): { vh: Float64Array; v: Float64Array; h: Float64Array } {
    const g = exactGradient(p, new Float64Array(p.visible), 1);
    return {
      vh: g.dW.map((x) => -x),
      v: g.db.map((x) => -x),
      h: g.dc.map((x, j) => sigmoid(Number(p.c[j])) - x),
    };
  }

  it.each(SHAPES)('model term equals brute force over all (v,h) (V=%i, H=%i)', (V, H) => {
    const p = randomRBM(V, H, 1, 13);
    const logZ = logZBruteForce(p);
    const vh = new Float64Array(V * H);
    const ev = new Float64Array(V);
    const eh = new Float64Array(H);
    for (let sv = 0; sv < 2 ** V; sv++) {
      const v = bits(sv, V);
      for (let sh = 0; sh < 2 ** H; sh++) {
        const h = bits(sh, H);
        const w = Math.exp(-energy(p, v, h) - logZ);
        for (let i = 0; i < V; i++) for (let j = 0; j < H; j++) vh[i * H + j] += w * v[i] * h[j];
        for (let i = 0; i < V; i++) ev[i] += w * v[i];
        for (let j = 0; j < H; j++) eh[j] += w * h[j];
      }
    }
    const m = modelTerms(p);
    const pairs: Array<[Float64Array, Float64Array]> = [
      [m.vh, vh],
      [m.v, ev],
      [m.h, eh],
    ];
    for (const [got, want] of pairs) {
      for (let k = 0; k < got.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-12);
    }
  });

  it('enumerating v and enumerating h agree on a transposed RBM', () => {
    const p = randomRBM(6, 4, 1, 14); // V > H: enumerates h
    const Wt = new Float64Array(24);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) Wt[j * 6 + i] = p.W[i * 4 + j];
    const pt: RBMParams = { visible: 4, hidden: 6, W: Wt, b: p.c, c: p.b }; // enumerates v
    const m = modelTerms(p);
    const mt = modelTerms(pt);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 4; j++) expect(Math.abs(m.vh[i * 4 + j] - mt.vh[j * 6 + i])).toBeLessThan(1e-12);
      expect(Math.abs(m.v[i] - mt.h[i])).toBeLessThan(1e-12);
    }
    for (let j = 0; j < 4; j++) expect(Math.abs(m.h[j] - mt.v[j])).toBeLessThan(1e-12);
  });
});

describe('exact marginals', () => {
  it.each(SHAPES)('sum to 1 and equal exp(−F(v) − log Z) (V=%i, H=%i)', (V, H) => {
    const p = randomRBM(V, H, 1, 21);
    const m = exactMarginals(p);
    expect(m.length).toBe(2 ** V);
    expect(Math.abs(m.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(1e-12);
    const logZ = logZBruteForce(p);
    for (let s = 0; s < m.length; s++) {
      const want = Math.exp(-freeEnergy(p, bits(s, V)) - logZ);
      expect(Math.abs(m[s] - want)).toBeLessThanOrEqual(1e-12 * Math.max(1e-3, want));
    }
  });
});

describe('errors', () => {
  const wide = (V: number, H: number): RBMParams => ({
    visible: V,
    hidden: H,
    W: new Float64Array(V * H),
    b: new Float64Array(V),
    c: new Float64Array(H),
  });

  it('refuses to enumerate layers beyond the limit, naming the count and the limit', () => {
    expect(() => logZByHidden(wide(2, 31))).toThrow(/31 units.*limit of 30/);
    expect(() => logZByVisible(wide(31, 2))).toThrow(/31 units.*limit of 30/);
    expect(() => logZBruteForce(wide(20, 11))).toThrow(/31 units.*limit of 30/);
    expect(() => logZExact(wide(31, 32))).toThrow(/31 units.*limit of 30/);
    expect(() => exactGradient(wide(40, 31), new Float64Array(40), 1)).toThrow(/31 units.*limit of 30/);
    expect(() => exactMarginals(wide(21, 2))).toThrow(/21 units.*limit of 20/);
  });

  it('picks the smaller layer, so a wide layer is fine when the other is small', () => {
    expect(logZExact(wide(40, 3))).toBeCloseTo(43 * Math.LN2, 10);
    expect(logZExact(wide(3, 40))).toBeCloseTo(43 * Math.LN2, 10);
  });

  it('rejects mismatched parameter and data sizes', () => {
    expect(() => logZExact({ ...wide(3, 2), W: new Float64Array(5) })).toThrow(/W has 5 entries/);
    expect(() => freeEnergyBatch(wide(3, 2), new Float64Array(5), 2)).toThrow(/data has 5 entries/);
  });
});
