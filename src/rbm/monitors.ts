// Training monitors that need no partition function: the free-energy gap
// (overfitting) and the pseudo-log-likelihood, both from the GPU free-energy kernel.
import { uniform01 } from '../host/philox';
import { softplus } from '../host/math';
import { PLL_FLIP_PHASE } from '../host/rng-streams';
import { checkHostFactors } from '../gpu/buffers';
import { unitType } from '../units';
import type { ModelParams } from './params';
import { freeEnergy } from './free-energy';
import { checkBinary } from './validate';

/** Philox phase of the PLL's choice of unit; key (seed, 0), counter = row (src/host/rng-streams.ts). */
export { PLL_FLIP_PHASE };
/** Free energies per GPU call when the exact PLL flips every unit (bounds the upload to 16 MiB). */
const MAX_VALUES_PER_CALL = 1 << 22;

/** Rows per free-energy call in `meanFreeEnergy` (8,192 MNIST rows are 25 MB, far under every binding limit). */
const FREE_ENERGY_CHUNK_ROWS = 8192;

/**
 * Mean F(v) over the rows of `data` ([n, V], n ≥ 1), summed in float64 over
 * chunks of 8,192 rows (so any number of rows stays under the device's buffer
 * limits). With log Z, −mean F − log Z is the average log-likelihood.
 */
export async function meanFreeEnergy(model: ModelParams, data: Float32Array): Promise<number> {
  const V = model.visible;
  if (data.length === 0 || data.length % V !== 0) {
    throw new RangeError(`meanFreeEnergy: data has ${data.length} values, not a positive multiple of visible=${V}`);
  }
  let sum = 0;
  for (let at = 0; at < data.length; at += FREE_ENERGY_CHUNK_ROWS * V) {
    let s = 0;
    for (const f of await freeEnergy(model, data.subarray(at, at + FREE_ENERGY_CHUNK_ROWS * V))) s += f;
    sum += s;
  }
  return sum / (data.length / V);
}

/**
 * mean F(held-out) − mean F(train) over equally many rows of each (the first
 * min(n_train, n_held-out) rows of both): Hinton's overfitting monitor ("A
 * Practical Guide to Training RBMs", §6). log Z cancels, so it is exact for any
 * model. Near 0 when the model generalises; it grows as the model overfits,
 * because the training rows' free energy drops further.
 *
 * One function for the library and the CLI (train's per-epoch gap, eval's
 * free_energy_gap). The library's earlier version averaged all rows of each set
 * (the guide's advice "a training subset of about the held-out set's size" left
 * to the caller); the CLI's truncation to equally many rows is kept, so the
 * CLI's numbers are unchanged and the library computes the same ones.
 */
export async function freeEnergyGap(model: ModelParams, trainData: Float32Array, heldOutData: Float32Array): Promise<number> {
  const V = model.visible;
  for (const [what, d] of [['trainData', trainData], ['heldOutData', heldOutData]] as const) {
    if (d.length === 0 || d.length % V !== 0) {
      throw new RangeError(`freeEnergyGap: ${what} has ${d.length} values, not a positive multiple of visible=${V}`);
    }
  }
  const n = Math.min(trainData.length, heldOutData.length) / V;
  const [heldOut, train] = [heldOutData, trainData].map((d) => d.subarray(0, n * V));
  return (await meanFreeEnergy(model, heldOut)) - (await meanFreeEnergy(model, train));
}

export interface PseudoLikelihoodOptions {
  /** Seeds the choice of flipped unit per row (default 1). */
  seed?: number;
  /** Exact PLL: flip every unit of every row (V + 1 free energies per row instead of 2). */
  allUnits?: boolean;
}

export interface PseudoLikelihood {
  /** Mean over the rows of perRow. */
  mean: number;
  perRow: Float64Array;
  /** The unit flipped in each row (stochastic variant); null for allUnits. */
  flipped: Uint32Array | null;
}

/**
 * Pseudo-log-likelihood of binary rows, with p(v_i | v_−i) = σ(F(ṽ) − F(v))
 * where ṽ is v with unit i flipped.
 *
 * Default (stochastic) variant: exactly the formula of scikit-learn's
 * BernoulliRBM.score_samples — one unit i per row, chosen uniformly, and
 *   PLL(v) ≈ V · log σ(F(ṽ) − F(v)),
 * an unbiased one-sample estimate of the sum below. scikit-learn draws i with
 * numpy's RandomState; here i = ⌊V · uniform01(seed, 0, row, PLL_FLIP_PHASE)⌋
 * (Philox, see `pllFlipUnit`), so the values match scikit-learn's given the same
 * units, not its random stream. scikit-learn returns the per-row array; its
 * usual report is the mean, our `mean`.
 *
 * allUnits: the exact (Besag) PLL Σ_i log σ(F(ṽ^(i)) − F(v)), costing V free
 * energies per row (O(V²H) per row).
 */
export async function pseudoLogLikelihood(
  model: ModelParams,
  data: Float32Array,
  options: PseudoLikelihoodOptions = {},
): Promise<PseudoLikelihood> {
  model.assertLive();
  const unit = unitType(model.visibleType);
  if (!unit.binary) {
    throw new RangeError(`pseudoLogLikelihood flips binary units; this model has ${unit.label} visible units (use freeEnergyGap or exactLogZ/ais)`);
  }
  const V = model.visible;
  if (!(data instanceof Float32Array) || data.length === 0 || data.length % V !== 0) {
    throw new RangeError(`pseudoLogLikelihood: data must be a Float32Array of rows × visible=${V} values, got ${data?.length}`);
  }
  checkBinary('pseudoLogLikelihood data', data, V);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`pseudoLogLikelihood: seed must be an integer in [0, 2^32), got ${seed}`);
  }
  const rows = data.length / V;
  // Before any work: the flipped copies a call builds on the host (one row's V copies at least).
  if (options.allUnits) checkHostFactors('pseudo-likelihood flipped rows', [{ value: V, what: 'flipped copies' }, { value: V, what: 'visible units' }]);
  else checkHostFactors('pseudo-likelihood flipped rows', [{ value: rows, what: 'rows' }, { value: V, what: 'visible units' }]);
  const F = await freeEnergy(model, data);
  const perRow = new Float64Array(rows);

  if (!options.allUnits) {
    const flipped = new Uint32Array(rows);
    const corrupted = data.slice();
    for (let r = 0; r < rows; r++) {
      flipped[r] = pllFlipUnit(seed, r, V);
      corrupted[r * V + flipped[r]] = 1 - corrupted[r * V + flipped[r]];
    }
    const Ft = await freeEnergy(model, corrupted);
    for (let r = 0; r < rows; r++) perRow[r] = V * logSigmoid(Ft[r] - F[r]);
    return { mean: mean(perRow), perRow, flipped };
  }

  const rowsPerCall = Math.max(1, Math.floor(MAX_VALUES_PER_CALL / (V * V)));
  for (let r0 = 0; r0 < rows; r0 += rowsPerCall) {
    const count = Math.min(rowsPerCall, rows - r0);
    const flips = new Float32Array(count * V * V);
    for (let r = 0; r < count; r++) {
      const row = data.subarray((r0 + r) * V, (r0 + r + 1) * V);
      for (let i = 0; i < V; i++) {
        const at = (r * V + i) * V;
        flips.set(row, at);
        flips[at + i] = 1 - row[i];
      }
    }
    const Ft = await freeEnergy(model, flips);
    for (let r = 0; r < count; r++) {
      let s = 0;
      for (let i = 0; i < V; i++) s += logSigmoid(Ft[r * V + i] - F[r0 + r]);
      perRow[r0 + r] = s;
    }
  }
  return { mean: mean(perRow), perRow, flipped: null };
}

/** The visible unit the stochastic PLL flips in `row`. */
export function pllFlipUnit(seed: number, row: number, visible: number): number {
  return Math.min(visible - 1, Math.floor(uniform01(seed, 0, row, PLL_FLIP_PHASE) * visible));
}

/** log σ(x) = −softplus(−x), in float64. */
function logSigmoid(x: number): number {
  return -softplus(-x);
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
