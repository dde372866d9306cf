// Potts (categorical) visible units: L sites of q states, one-hot coded, unit
// e = site·q + state (V = L·q):
//   E(v, h) = −bᵀv − vᵀWh − cᵀh,  p(v_site = s | h) = softmax_s(W_{site,s}·h + b_{site,s}).
// WGSL: shaders/units/potts.wgsl (the elementwise part: the field passes through)
// and shaders/potts_group.wgsl (the group pass: softmax and one-hot draw per site).
// The peers' Potts layers (RestrictedBoltzmannMachines.jl's Potts, DsysDML/rbms)
// train on aligned protein sequences with q = 21; like them the model can be put
// in the zero-sum gauge (zeroSumGauge below), which leaves p(v) unchanged.
import pottsWGSL from '../../shaders/units/potts.wgsl?raw';
import { wgslModule } from '../gpu/wgsl-link';
import { uniform01 } from '../host/philox';
import { checkFiniteArray } from './checks';

export { codesFromOneHot, oneHotFromCodes } from '../data/potts-codes';
import type { UnitGroup, UnitType } from './types';

/** Most states per site (a u8 code; protein alignments use 21). */
export const MAX_POTTS_STATES = 256;
/** How far a site's given marginals may sum from 1 (they are float32 at best). */
const SUM_TOLERANCE = 1e-3;
/** Keeps an initial bias finite for a state whose data frequency is 0. */
const MEAN_CLAMP = 1e-3;

const POTTS_MODULE = wgslModule('units/potts.wgsl', pottsWGSL);

/** Checks a states count q: an integer in [2, MAX_POTTS_STATES]. */
export function checkStatesCount(name: string, q: unknown): asserts q is number {
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 2 || q > MAX_POTTS_STATES) {
    throw new RangeError(`${name} must be an integer in [2, ${MAX_POTTS_STATES}] (states per Potts site), got ${String(q)}`);
  }
}

/** Checks that `visible` units split into sites of q states; returns the number of sites L. */
export function pottsSites(visible: number, q: number): number {
  if (visible % q !== 0) {
    throw new RangeError(`a Potts layer of ${q} states per site needs visible units divisible by ${q} (sites × states), got ${visible}`);
  }
  return visible / q;
}

/** Softmax of one site's fields, shifted by the maximum (float64). */
export function softmax(fields: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let t = 0; t < fields.length; t++) max = Math.max(max, fields[t]);
  const p = Float64Array.from(fields, (x) => Math.exp(x - max));
  const total = p.reduce((s, x) => s + x, 0);
  return p.map((x) => x / total);
}

/** log Σ_t exp(x_t), shifted by the maximum. */
export function logSumExp(xs: ArrayLike<number>): number {
  let max = -Infinity;
  for (let t = 0; t < xs.length; t++) max = Math.max(max, xs[t]);
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let t = 0; t < xs.length; t++) s += Math.exp(xs[t] - max);
  return max + Math.log(s);
}

/** The least t with u < p_0 + … + p_t (the last state when rounding leaves u above the sum), as potts_group.wgsl draws. */
export function drawState(probabilities: ArrayLike<number>, u: number): number {
  let cum = 0;
  for (let t = 0; t < probabilities.length; t++) {
    cum += probabilities[t];
    if (u < cum) return t;
  }
  return probabilities.length - 1;
}

function group(q: number): UnitGroup {
  return {
    states: q,
    probabilities: softmax,
    draw: (p, seed, step, first, phase) => drawState(p, uniform01(seed, step, first, phase)),
  };
}

/** Rows [n, V] of one-hot sites: exactly one 1 per site, zeros elsewhere; the error names row, site and the fix. */
export function checkOneHot(name: string, states: ArrayLike<number>, width: number, q: number): void {
  const L = pottsSites(width, q);
  if (states.length % width !== 0) throw new RangeError(`${name} has ${states.length} values, not a multiple of ${width} visible units`);
  for (let e0 = 0; e0 < states.length; e0 += q) {
    let ones = 0;
    for (let t = 0; t < q; t++) {
      const x = states[e0 + t];
      if (x === 1) ones++;
      else if (x !== 0) {
        ones = -1;
        break;
      }
    }
    if (ones !== 1) {
      const row = Math.floor(e0 / width);
      const site = (e0 % width) / q;
      const values = Array.from({ length: q }, (_, t) => states[e0 + t]).join(', ');
      throw new RangeError(
        `${name} is not one-hot: row ${row}, site ${site} of ${L} holds [${values}] (${q} states per site need exactly one 1). ` +
          'Give Potts data as integer codes 0..q−1 (a 2-D .npy of codes or aligned FASTA) and expand them with oneHotFromCodes.',
      );
    }
  }
}

/** Smoothed per-state frequencies (count + α) / (n + qα) of [n, V] one-hot data: every site's sum is 1. */
export function stateFrequencies(data: ArrayLike<number>, visible: number, q: number, smoothing: number): Float64Array {
  if (!Number.isFinite(smoothing) || smoothing <= 0) {
    throw new RangeError(`smoothing α must be a positive number (it keeps the base-rate biases finite), got ${smoothing}`);
  }
  if (data.length === 0 || data.length % visible !== 0) {
    throw new RangeError(`base-rate data has ${data.length} values, not a positive multiple of visible=${visible}`);
  }
  checkOneHot('base-rate data', data, visible, q);
  const n = data.length / visible;
  const counts = new Float64Array(visible);
  for (let e = 0; e < data.length; e++) counts[e % visible] += data[e];
  return counts.map((c) => (c + smoothing) / (n + q * smoothing));
}

/** Checks per-state means: each in [0, 1], each site's summing to 1 (within 10^-3). */
function checkSiteMeans(name: string, means: ArrayLike<number>, q: number, strict: boolean): void {
  pottsSites(means.length, q);
  for (let i = 0; i < means.length; i++) {
    const m = means[i];
    if (strict ? !(m > 0 && m < 1) : !(m >= 0 && m <= 1)) {
      throw new RangeError(`${name}[${i}] is ${m}: Potts state frequencies lie ${strict ? 'strictly inside (0, 1) (smooth them)' : 'in [0, 1]'}`);
    }
  }
  for (let s0 = 0; s0 < means.length; s0 += q) {
    let sum = 0;
    for (let t = 0; t < q; t++) sum += means[s0 + t];
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      throw new RangeError(`${name}: site ${s0 / q}'s ${q} state frequencies sum to ${sum}, not 1`);
    }
  }
}

/** log Z of independent sites with fields bA plus `hidden` free hidden units: Σ_sites logsumexp(bA_site) + H log 2. */
export function pottsBaseLogZ(bA: ArrayLike<number>, hidden: number, q: number): number {
  pottsSites(bA.length, q);
  let s = hidden * Math.LN2;
  for (let s0 = 0; s0 < bA.length; s0 += q) s += logSumExp(Array.prototype.slice.call(bA, s0, s0 + q) as number[]);
  return s;
}

function needsStates(what: string): never {
  throw new RangeError(
    `${what} needs the Potts layer's states per site q: use unitType('potts', q) or visibleUnit(model) (src/units), not unitType('potts')`,
  );
}

/** The Potts layer with q states per site (cached per q by unitType). */
export function pottsUnit(q?: number): UnitType<'potts'> {
  if (q !== undefined) checkStatesCount('states', q);
  const known = (what: string): number => (q === undefined ? needsStates(what) : q);
  return {
    name: 'potts',
    label: 'Potts',
    wgsl: POTTS_MODULE,
    ...(q !== undefined ? { group: group(q) } : {}),
    grouped: true,

    mean: (x) => x,
    sample: (mean) => mean,
    freeEnergyTerm: (v, b) => -(b * v),
    biasDifference: (v, b, bBase) => (b - bBase) * v,

    // One-hot states are 0/1, but flipping one unit leaves a site without a state: not `binary`.
    binary: false,
    binarizes: false,
    checkStates(name, states, width) {
      checkOneHot(name, states, width, known('checking Potts states'));
    },
    checkMeans(name, means) {
      checkSiteMeans(name, means, known('checking Potts means'), false);
    },
    // Each state's log frequency: softmax(log m) = m when a site's means sum to 1.
    biasFromMean: (mean) => Math.log(Math.max(MEAN_CLAMP, mean)),
    noise(seed, element, phase) {
      const states = known('Potts noise');
      const first = element - (element % states);
      const state = Math.min(states - 1, Math.floor(uniform01(seed, 0, first, phase) * states));
      return element % states === state ? 1 : 0;
    },

    baseBiases(data, visible, smoothing) {
      return stateFrequencies(data, visible, known('the Potts base model'), smoothing).map(Math.log);
    },
    baseBiasesFromMeans(means, visible) {
      if (means.length !== visible) throw new RangeError(`means has ${means.length} values, the model ${visible} visible units`);
      checkFiniteArray('base-model means', means);
      checkSiteMeans('base-model means', means, known('the Potts base model'), true);
      return Float64Array.from(means, Math.log);
    },
    baseLogZ: (bA, hidden) => pottsBaseLogZ(bA, hidden, known('the Potts base model')),

    tempering: {
      supported: false,
      reason: "pt_swap.wgsl computes the Bernoulli energy and tempering.ts draws fair-coin noise; Potts units run CD/PCD, exact log Z and AIS",
    },
    exactLogZ: { enumerable: false, chunkMode: 2, logConstant: () => 0 },
  };
}

/**
 * The zero-sum gauge of a Potts RBM (as the peers fix it): each site's biases
 * and each site's weights to every hidden unit sum to zero over the q states.
 *   b'_{s,t} = b_{s,t} − mean_t b_{s,t}
 *   W'_{s,t,j} = W_{s,t,j} − m_{s,j},  m_{s,j} = mean_t W_{s,t,j}
 *   c'_j = c_j + Σ_s m_{s,j}
 * With one-hot v, vᵀW'h + c'ᵀh = vᵀWh + cᵀh, and b'ᵀv = bᵀv − Σ_s mean_t b_{s,t}:
 * p(v, h) is unchanged, log Z drops by `logZShift` = Σ_s mean_t b_{s,t}.
 */
export function zeroSumGauge(
  p: { W: ArrayLike<number>; b: ArrayLike<number>; c: ArrayLike<number> },
  visible: number,
  hidden: number,
  q: number,
): { W: Float32Array; b: Float32Array; c: Float32Array; logZShift: number } {
  const L = pottsSites(visible, q);
  const W = new Float64Array(p.W as ArrayLike<number>);
  const b = new Float64Array(p.b as ArrayLike<number>);
  const c = new Float64Array(p.c as ArrayLike<number>);
  let shift = 0;
  for (let s = 0; s < L; s++) {
    let mb = 0;
    for (let t = 0; t < q; t++) mb += b[s * q + t];
    mb /= q;
    shift += mb;
    for (let t = 0; t < q; t++) b[s * q + t] -= mb;
    for (let j = 0; j < hidden; j++) {
      let m = 0;
      for (let t = 0; t < q; t++) m += W[(s * q + t) * hidden + j];
      m /= q;
      for (let t = 0; t < q; t++) W[(s * q + t) * hidden + j] -= m;
      c[j] += m;
    }
  }
  return { W: Float32Array.from(W), b: Float32Array.from(b), c: Float32Array.from(c), logZShift: shift };
}
