import { describe, expect, it } from 'vitest';
import { uniform01 } from '../../src/host/philox';
import { binarizeStochastic, binarizeThreshold, firstNonBinary, isBinary } from '../../src/data/binarize';

describe('binarization', () => {
  it('thresholds strictly above the threshold', () => {
    const px = new Float32Array([0, 0.2, 0.5, 0.51, 1]);
    expect(Array.from(binarizeThreshold(px))).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(binarizeThreshold(px, 0.1))).toEqual([0, 1, 1, 1, 1]);
  });

  it('samples pixel i of epoch e as uniform01(seed, e, i, 0x5EED) < pixel', () => {
    const px = Float32Array.from({ length: 64 }, (_, i) => i / 63);
    const out = binarizeStochastic(px, 9, 4);
    for (let i = 0; i < px.length; i++) expect(out[i]).toBe(uniform01(9, 4, i, 0x5eed) < px[i] ? 1 : 0);
    expect(Array.from(binarizeStochastic(px, 9, 4))).toEqual(Array.from(out));
    expect(Array.from(binarizeStochastic(px, 9, 5))).not.toEqual(Array.from(out));
  });

  it('keeps 0 and 1 fixed and matches the pixel mean', () => {
    const n = 100_000;
    const out = binarizeStochastic(new Float32Array(n).fill(0.3), 1, 0);
    const mean = out.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 0.3)).toBeLessThan(0.006); // ~4 sigma
    expect(binarizeStochastic(new Float32Array(1000), 1, 0).every((x) => x === 0)).toBe(true);
    expect(binarizeStochastic(new Float32Array(1000).fill(1), 1, 0).every((x) => x === 1)).toBe(true);
  });

  it('detects non-binary data', () => {
    expect(isBinary(new Float32Array([0, 1, 1, 0]))).toBe(true);
    expect(isBinary([])).toBe(true);
    expect(firstNonBinary(new Float32Array([0, 1, 0.5, 2]))).toBe(2);
    expect(firstNonBinary([1, NaN])).toBe(1);
    expect(isBinary(new Float32Array([0, 1, 0.999]))).toBe(false);
  });
});
