// The order of kernel calls in one CD-k / PCD-k update, shared by the GPU
// trainer and the CPU reference so both draw the same random numbers.
//
// Stacked batch buffers hold R = 2B rows: rows [0, B) are the data (positive
// phase), rows [B, 2B) the negative phase (CD: the chain started from the
// data; PCD: the persistent chains). RNG phase 0 is the first hidden pass,
// phases 2t−1 and 2t the visible and hidden halves of Gibbs step t.
//
// vis_prob rows [B, 2B) end the update holding the one-step reconstruction
// σ(h₀·Wᵀ + b) of the data, for the reconstruction-error metric: CD-k's first
// visible pass writes it; PCD adds a probabilities-only pass when `metrics`.
// The phases are the CD-k stream family of src/host/rng-streams.ts.
import { cdHiddenPhase, cdVisiblePhase } from '../host/rng-streams';

export type Pass =
  | { kind: 'hidden'; rows: number; rowOffset: number; phase: number }
  | {
      kind: 'visible';
      rows: number;
      inOffset: number;
      outOffset: number;
      phase: number;
      writeProb: boolean;
      writeSample: boolean;
    };

export function updateSchedule(batch: number, k: number, persistent: boolean, metrics = true): Pass[] {
  // k = 0 (PCD only): the negative-phase states are written into vis rows
  // [B, 2B) by another sampler (parallel tempering); the update only needs p_k.
  if (!Number.isInteger(k) || k < (persistent ? 0 : 1)) {
    throw new RangeError(`k must be a positive integer${persistent ? ' (or 0 with external chains)' : ''}, got ${k}`);
  }
  const B = batch;
  // PCD: one hidden pass covers the data rows and the persistent chains at once.
  const passes: Pass[] = [{ kind: 'hidden', rows: persistent ? 2 * B : B, rowOffset: 0, phase: cdHiddenPhase(0) }];
  if (persistent && metrics) {
    passes.push({ kind: 'visible', rows: B, inOffset: 0, outOffset: B, phase: 0, writeProb: true, writeSample: false });
  }
  for (let t = 1; t <= k; t++) {
    const first = !persistent && t === 1;
    passes.push({
      kind: 'visible',
      rows: B,
      inOffset: first ? 0 : B,
      outOffset: B,
      phase: cdVisiblePhase(t),
      writeProb: first,
      writeSample: true,
    });
    passes.push({ kind: 'hidden', rows: B, rowOffset: B, phase: cdHiddenPhase(t) });
  }
  return passes;
}
