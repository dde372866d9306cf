import { expect } from 'vitest';
import { uniform01 } from '../../src/host/philox';

/** Largest |a − b| / (|b| + floor) over two arrays. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-7): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = e; // NaN wins
  }
  return worst;
}

/** Samples must agree except where p is within `tie` of the element's uniform. */
export function expectSamplesMatch(
  gpu: ArrayLike<number>,
  cpu: ArrayLike<number>,
  cpuProb: ArrayLike<number>,
  uniformOf: (e: number) => number,
  from = 0,
  tie = 1e-5,
): { compared: number; ties: number } {
  let ties = 0;
  let compared = 0;
  for (let e = from; e < cpu.length; e++) {
    if (Math.abs(cpuProb[e] - uniformOf(e)) < tie) {
      ties++;
      continue;
    }
    compared++;
    if (gpu[e] !== cpu[e]) {
      throw new Error(`sample ${e}: gpu ${gpu[e]} cpu ${cpu[e]} (p=${cpuProb[e]}, u=${uniformOf(e)})`);
    }
  }
  return { compared, ties };
}

export function uniformFor(seed: number, step: number, phase: number): (e: number) => number {
  return (e) => uniform01(seed, step, e, phase);
}
