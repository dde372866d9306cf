import { describe, expect, it } from 'vitest';
import { philox4x32_10, uniform01 } from '../../src/host/philox';

// Known-answer vectors published with Random123 (kat_vectors), counter then key.
const KAT: Array<[[number, number, number, number], [number, number], [number, number, number, number]]> = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

describe('Philox4x32-10 (CPU)', () => {
  it.each(KAT)('matches the Random123 known answer for counter %j key %j', (ctr, key, want) => {
    expect(philox4x32_10(ctr, key)).toEqual(want);
  });

  it('gives uniforms in [0,1) with mean 1/2 and variance 1/12', () => {
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = uniform01(7, 3, i, 1);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      s += u;
      s2 += u * u;
    }
    const mean = s / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - mean * mean - 1 / 12)).toBeLessThan(0.005);
  });
});
