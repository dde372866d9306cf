import { describe, expect, it } from 'vitest';
import { gatherRows, shuffledPermutation, splitDataset } from '../../src/data/split';

const sorted = (a: Uint32Array) => Array.from(a).sort((x, y) => x - y);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('deterministic split and shuffle', () => {
  it('splits into disjoint train/test sets that cover every index', () => {
    const { train, test } = splitDataset(1000, 150, 42);
    expect(test.length).toBe(150);
    expect(train.length).toBe(850);
    expect(sorted(new Uint32Array([...train, ...test]))).toEqual(range(1000));
  });

  it('gives the same split for the same seed and another for another seed', () => {
    const a = splitDataset(500, 100, 7);
    const b = splitDataset(500, 100, 7);
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(splitDataset(500, 100, 8).test)).not.toEqual(Array.from(a.test));
  });

  it('handles the edges: empty test set, all test, tiny counts', () => {
    expect(splitDataset(10, 0, 1).train.length).toBe(10);
    expect(sorted(splitDataset(10, 10, 1).test)).toEqual(range(10));
    expect(splitDataset(0, 0, 1)).toEqual({ train: new Uint32Array(0), test: new Uint32Array(0) });
    expect(() => splitDataset(10, 11, 1)).toThrow(RangeError);
    expect(() => splitDataset(-1, 0, 1)).toThrow(/count must be an integer/);
    expect(() => splitDataset(2.5, 0, 1)).toThrow(RangeError);
  });

  it('shuffles each epoch into a permutation fixed by (seed, epoch)', () => {
    const p0 = shuffledPermutation(300, 3, 0);
    expect(sorted(p0)).toEqual(range(300));
    expect(Array.from(shuffledPermutation(300, 3, 0))).toEqual(Array.from(p0));
    expect(Array.from(shuffledPermutation(300, 3, 1))).not.toEqual(Array.from(p0));
    expect(Array.from(shuffledPermutation(300, 4, 0))).not.toEqual(Array.from(p0));
    expect(Array.from(p0)).not.toEqual(range(300));
  });

  it('is close to uniform over the 6 permutations of 3 items', () => {
    const counts = new Map<string, number>();
    const trials = 6000;
    for (let e = 0; e < trials; e++) {
      const key = Array.from(shuffledPermutation(3, 11, e)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const n of counts.values()) expect(Math.abs(n - trials / 6)).toBeLessThan(120); // ~4 sigma
  });

  it('gathers rows in index order and checks bounds', () => {
    const m = Float32Array.from(range(12)); // 4 rows of 3
    expect(Array.from(gatherRows(m, 3, [2, 0, 2]))).toEqual([6, 7, 8, 0, 1, 2, 6, 7, 8]);
    expect(gatherRows(m, 3, new Uint32Array(0)).length).toBe(0);
    expect(() => gatherRows(m, 3, [4])).toThrow(/index 4 at position 0 is outside 0..3/);
    expect(() => gatherRows(m, 5, [0])).toThrow(/not a multiple of dim 5/);
  });
});
