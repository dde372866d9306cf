// Exact samples of a small RBM on the host, in float64: enumerate the 2^n
// states x of the smaller layer (the hidden layer for Gaussian visible units),
// each with its unnormalised log-marginal, draw x from that table, and for a
// hidden x draw v ~ p(v | h).
//
// Enumerating h (n = H), with a = W h:
//   Bernoulli visible:  log p*(h) = cᵀh + Σ_i softplus(b_i + a_i)
//   Gaussian visible:   log p*(h) = cᵀh + Σ_i a_i (b_i + a_i / 2) + (V/2) log 2π,  v | h ~ N(b + a, I)
// Enumerating v (n = V < H, Bernoulli only): log p*(v) = bᵀv + Σ_j softplus(c_j + vᵀw_j).
// The log-sum of the table is log Z itself (float64), which the result returns too.
//
// The states are visited in Gray-code order, so moving to the next one adds or
// subtracts a single column of W: about L operations and L softplus terms per
// state (L = the other layer's size), 2^n · L in all. The engine uses these
// samples to start reverse AIS (src/rbm/loglik-bounds.ts), where exact model
// samples make it a stochastic upper bound on log Z.
//
// Above HOST_EXACT_SAMPLE_UNITS units (21 … 26) exactSamples enumerates on the
// GPU instead: the exact log Z kernels keep each group of 256 consecutive
// states' mass (exactLogZGroups, float32), the host draws a group by its mass,
// then recomputes that group's 256 log-marginals in float64 and draws a state
// within it. The enumeration costs what one exactLogZ does; the host work is
// 256·n·L per distinct group drawn. The only approximation is the float32
// rounding of the group masses (relative error about 1e-6).
//
// Random numbers: a small host-only generator (sfc32, seeded through splitmix32),
// not the GPU's Philox streams, so these draws can never meet a kernel's.
import { readFloat32 } from '../gpu/buffers';
import { LOGZ_STATES_PER_GROUP } from '../gpu/eval-kernels';
import { exactLogZGroups, MAX_EXACT_LOGZ_UNITS, type LogZGroups } from './logz';
import type { ModelParams } from './params';
import type { VisibleType } from './model-file';
import { checkEnum, checkSeed, checkSize } from './validate';

/** Most units exactSamples enumerates by default: 2^26 states, the exact log Z enumeration's limit (GPU above 20 units). */
export const MAX_EXACT_SAMPLE_UNITS = MAX_EXACT_LOGZ_UNITS;
/** Most units the host enumerates (exactSamplesFromParams' default; exactSamples hands larger layers to the GPU). */
export const HOST_EXACT_SAMPLE_UNITS = 20;
/** A hard ceiling for the host: the table of 2^n float64 log-marginals is 8·2^n bytes (2^24: 128 MiB). */
const HOST_HARD_MAX_UNITS = 24;

export interface ExactSampleOptions {
  /** How many samples to draw. */
  count: number;
  /** Seeds the host generator (default 1). */
  seed?: number;
  /**
   * Refuse to enumerate more units than this: exactSamples defaults to 26 (its
   * limit), exactSamplesFromParams (host only) to 20, at most 24.
   */
  maxUnits?: number;
}

export interface ExactSamples {
  /** [count, V]: binary rows (Gaussian visible units: real-valued rows). */
  samples: Float32Array;
  count: number;
  /** log Z from the same enumeration, in float64 (a by-product: the table's log-sum). */
  logZ: number;
  /** Which layer was enumerated, and how many units it has. */
  enumerated: 'hidden' | 'visible';
  units: number;
  seconds: number;
}

/** The parameters and shape exactSamplesFromParams needs (a host copy of a model). */
export interface HostModel {
  visible: number;
  hidden: number;
  visibleType?: VisibleType;
  /** W [V, H] row-major, b [V], c [H]. */
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  c: ArrayLike<number>;
}

/** A model's sizes and visible unit type (default 'bernoulli'). */
type Shape = { visible: number; hidden: number; visibleType?: VisibleType };

/** Which layer exact sampling enumerates (the smaller; hidden on a tie and always for Gaussian visible units). */
export function exactSampleLayer(model: Shape): { layer: 'hidden' | 'visible'; units: number } {
  const hiddenSide = model.visibleType === 'gaussian' || model.hidden <= model.visible;
  return hiddenSide ? { layer: 'hidden', units: model.hidden } : { layer: 'visible', units: model.visible };
}

/** Whether exactSamples can enumerate this model within `maxUnits`. */
export function canSampleExactly(model: Shape, maxUnits = MAX_EXACT_SAMPLE_UNITS): boolean {
  return exactSampleLayer(model).units <= Math.min(maxUnits, MAX_EXACT_SAMPLE_UNITS);
}

/** An enumeration kept for drawing: draw(count, seed) gives [count, V] exact samples, any number of times. */
export interface ExactSampler {
  /** log Z from the enumeration (float64: the table's log-sum). */
  logZ: number;
  enumerated: 'hidden' | 'visible';
  units: number;
  visible: number;
  /** Seconds the enumeration took. */
  seconds: number;
  /** [count, V] exact samples; the same seed gives the same rows. */
  draw(count: number, seed?: number): Float32Array;
}

/**
 * Exact samples of a model: its parameters are read back once; up to 20
 * enumerated units the host enumerates them in float64, above that (≤ 26) the
 * GPU enumerates and the host refines (see the file comment).
 */
export async function exactSamples(model: ModelParams, options: ExactSampleOptions): Promise<ExactSamples> {
  model.assertLive();
  checkOptions(model, options, MAX_EXACT_SAMPLE_UNITS, MAX_EXACT_SAMPLE_UNITS);
  const start = performance.now();
  const sampler = await exactSampler(model, options);
  return fromSampler(sampler, options, start);
}

/**
 * The enumeration behind exactSamples, kept: drawing more samples later costs
 * no second enumeration (reverse AIS adds runs this way).
 */
export async function exactSampler(model: ModelParams, options: { maxUnits?: number } = {}): Promise<ExactSampler> {
  model.assertLive();
  checkOptions(model, { count: 1, maxUnits: options.maxUnits }, MAX_EXACT_SAMPLE_UNITS, MAX_EXACT_SAMPLE_UNITS);
  const start = performance.now();
  const { device, visible: V, hidden: H } = model;
  const [W, b, c] = await Promise.all([readFloat32(device, model.W, V * H), readFloat32(device, model.b, V), readFloat32(device, model.c, H)]);
  const host: HostModel = { visible: V, hidden: H, visibleType: model.visibleType, W, b, c };
  if (exactSampleLayer(model).units <= HOST_EXACT_SAMPLE_UNITS) return hostSampler(host, start);
  return groupSampler(host, await exactLogZGroups(model), start);
}

function fromSampler(s: ExactSampler, options: ExactSampleOptions, start: number): ExactSamples {
  return {
    samples: s.draw(options.count, options.seed ?? 1), count: options.count, logZ: s.logZ,
    enumerated: s.enumerated, units: s.units, seconds: (performance.now() - start) / 1000,
  };
}

/** The enumerated layer's weights as columns, and both layers' biases, in float64. */
interface Enumeration {
  n: number;
  L: number;
  hiddenSide: boolean;
  gaussian: boolean;
  /** cols[k·L + l] = the weight between enumerated unit k and other unit l. */
  cols: Float64Array;
  /** The enumerated layer's biases. */
  lin: Float64Array;
  /** The other layer's biases. */
  other: Float64Array;
}

function enumeration(model: HostModel): Enumeration {
  const { visible: V, hidden: H, W, b, c } = model;
  const { layer, units: n } = exactSampleLayer(model);
  const hiddenSide = layer === 'hidden';
  const L = hiddenSide ? V : H;
  const cols = new Float64Array(n * L);
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < H; j++) {
      if (hiddenSide) cols[j * L + i] = W[i * H + j];
      else cols[i * L + j] = W[i * H + j];
    }
  }
  return {
    n, L, hiddenSide, gaussian: model.visibleType === 'gaussian', cols,
    lin: Float64Array.from(hiddenSide ? c : b), other: Float64Array.from(hiddenSide ? b : c),
  };
}

/** Draws states: a group by its GPU-summed mass, then a state within it from float64 log-marginals. */
function groupSampler(model: HostModel, table: LogZGroups, start: number): ExactSampler {
  const e = enumeration(model);
  const G = LOGZ_STATES_PER_GROUP;
  const pairs = table.groups;
  let max = -Infinity;
  for (let g = 0; g < pairs.length; g += 2) if (pairs[g + 1] > 0) max = Math.max(max, pairs[g]);
  if (!Number.isFinite(max)) throw new RangeError(`exactSamples: the enumeration reached ${max}; are the parameters finite?`);
  const cumulative = new Float64Array(pairs.length / 2);
  let total = 0;
  for (let g = 0; g < cumulative.length; g++) {
    if (pairs[2 * g + 1] > 0) total += pairs[2 * g + 1] * Math.exp(pairs[2 * g] - max);
    cumulative[g] = total;
  }
  // Each drawn group's cumulative in-group masses, computed once (for every later draw too).
  const within = new Map<number, { cumulative: Float64Array; total: number }>();
  const draw = (count: number, seed = 1): Float32Array => {
    const rand = sfc32(seed);
    const pick = (): number => {
      const g = search(cumulative, rand() * total);
      let w = within.get(g);
      if (w === undefined) {
        w = cumulate(groupLogMarginals(e, g * G, G));
        within.set(g, w);
      }
      return g * G + search(w.cumulative, rand() * w.total);
    };
    return drawRows(e, model.visible, count, pick, rand);
  };
  return { logZ: table.logZ, enumerated: table.layer, units: table.units, visible: model.visible, seconds: (performance.now() - start) / 1000, draw };
}

/** log p*(x) of the states first … first + count − 1 (first a multiple of count, a power of two). */
function groupLogMarginals(e: Enumeration, first: number, count: number): Float64Array {
  const base = Float64Array.from(e.other);
  let linear = 0;
  for (let k = 0; k < e.n; k++) {
    if (((first >>> k) & 1) === 0) continue;
    linear += e.lin[k];
    for (let l = 0; l < e.L; l++) base[l] += e.cols[k * e.L + l];
  }
  const low = Math.log2(count);
  const part = logMarginals(e.cols, e.lin, base, Math.min(low, e.n), e.L, e.gaussian, e.other);
  for (let s = 0; s < part.length; s++) part[s] += linear;
  return part;
}

/** The running sum of exp(logp − max), and its total. */
function cumulate(logp: Float64Array): { cumulative: Float64Array; total: number } {
  let max = -Infinity;
  for (let s = 0; s < logp.length; s++) if (logp[s] > max) max = logp[s];
  const cumulative = new Float64Array(logp.length);
  let total = 0;
  for (let s = 0; s < logp.length; s++) {
    total += Math.exp(logp[s] - max);
    cumulative[s] = total;
  }
  return { cumulative, total };
}

/**
 * Rows [count, V], each from a state `pick` draws: the state itself (visible
 * enumerated) or v ~ p(v | h), the state's draws and the row's interleaved.
 */
function drawRows(e: Enumeration, V: number, count: number, pick: () => number, rand: () => number): Float32Array {
  const samples = new Float32Array(count * V);
  const a = new Float64Array(e.L);
  for (let r = 0; r < count; r++) {
    const state = pick();
    if (!e.hiddenSide) {
      for (let i = 0; i < V; i++) samples[r * V + i] = (state >>> i) & 1;
      continue;
    }
    // v | h: a = b + W h, then Bernoulli(σ(a)) or N(a, 1).
    a.set(e.other);
    for (let j = 0; j < e.n; j++) {
      if (((state >>> j) & 1) === 0) continue;
      const off = j * e.L;
      for (let i = 0; i < e.L; i++) a[i] += e.cols[off + i];
    }
    for (let i = 0; i < V; i++) {
      samples[r * V + i] = e.gaussian ? a[i] + normal(rand) : rand() < sigmoid(a[i]) ? 1 : 0;
    }
  }
  return samples;
}

/** exactSamples for parameters already on the host (float64 enumeration of all 2^n states). */
export function exactSamplesFromParams(model: HostModel, options: ExactSampleOptions): ExactSamples {
  checkOptions(model, options, HOST_EXACT_SAMPLE_UNITS, HOST_HARD_MAX_UNITS);
  const start = performance.now();
  return fromSampler(hostSampler(model, start), options, start);
}

/** The whole table of log-marginals, enumerated once on the host. */
function hostSampler(model: HostModel, start: number): ExactSampler {
  const V = model.visible;
  const e = enumeration(model);
  const { gaussian, n } = e;
  const logp = logMarginals(e.cols, e.lin, e.other, n, e.L, gaussian);
  let max = -Infinity;
  for (let s = 0; s < logp.length; s++) if (logp[s] > max) max = logp[s];
  if (!Number.isFinite(max)) throw new RangeError(`exactSamples: the enumeration reached ${max}; are the parameters finite?`);
  const { cumulative, total } = cumulate(logp);
  const logZ = max + Math.log(total) + (gaussian ? (V / 2) * Math.log(2 * Math.PI) : 0);
  const draw = (count: number, seed = 1): Float32Array => {
    const rand = sfc32(seed);
    return drawRows(e, V, count, () => search(cumulative, rand() * total), rand);
  };
  return { logZ, enumerated: e.hiddenSide ? 'hidden' : 'visible', units: n, visible: V, seconds: (performance.now() - start) / 1000, draw };
}

function checkOptions(model: Shape, o: ExactSampleOptions, defaultMax: number, hardMax: number): void {
  if (o === null || typeof o !== 'object') throw new RangeError('exactSamples needs options { count }');
  checkSize('count', o.count);
  if (o.seed !== undefined) checkSeed('seed', o.seed);
  const maxUnits = o.maxUnits ?? defaultMax;
  checkSize('maxUnits', maxUnits);
  if (model.visibleType !== undefined) checkEnum('visibleType', model.visibleType, ['bernoulli', 'gaussian']);
  const { layer, units } = exactSampleLayer(model);
  const limit = Math.min(maxUnits, hardMax);
  if (units > limit) {
    throw new RangeError(
      `exactSamples enumerates the ${layer} layer, which has ${units} units (visible=${model.visible}, hidden=${model.hidden}); ` +
        `at most ${limit} (maxUnits, ≤ ${hardMax}) can be enumerated: sample by parallel tempering instead`,
    );
  }
}

/**
 * log p*(x) of every state x of the enumerated layer (bit k of the index = unit k),
 * Gray-code order: one column of W added or subtracted per state.
 */
function logMarginals(
  cols: Float64Array, lin: Float64Array, other: Float64Array, n: number, L: number, gaussian: boolean,
  /** The other layer's own biases, when `other` already holds more than them (a group's high bits). */
  bias: Float64Array = other,
): Float64Array {
  const out = new Float64Array(2 ** n);
  const a = Float64Array.from(other); // other + M x, the other layer's total input
  let linear = 0; // linᵀx
  let x = 0;
  for (let k = 0; k < out.length; k++) {
    if (k > 0) {
      const j = 31 - Math.clz32(k & -k); // the bit that changes between Gray codes k−1 and k
      const on = ((x >>> j) & 1) === 0;
      x ^= 1 << j;
      const off = j * L;
      if (on) {
        linear += lin[j];
        for (let l = 0; l < L; l++) a[l] += cols[off + l];
      } else {
        linear -= lin[j];
        for (let l = 0; l < L; l++) a[l] -= cols[off + l];
      }
    }
    out[x] = linear + (gaussian ? gaussianTerm(a, bias, L) : softplusSum(a, L));
  }
  return out;
}

/**
 * Σ_l softplus(a_l) with one exp per term: positive a_l contribute a_l + log(1 + e^{−a_l}),
 * the log(1 + ·) factors multiplied in blocks of 512 (each factor is in [1, 2], so a
 * block's product stays below 2^512) and one log taken per block.
 */
function softplusSum(a: Float64Array, L: number): number {
  let sum = 0;
  for (let l0 = 0; l0 < L; l0 += 512) {
    const end = Math.min(L, l0 + 512);
    let product = 1;
    for (let l = l0; l < end; l++) {
      const y = a[l];
      if (y > 0) {
        sum += y;
        product *= 1 + Math.exp(-y);
      } else {
        product *= 1 + Math.exp(y);
      }
    }
    sum += Math.log(product);
  }
  return sum;
}

/** Σ_i a_i (b_i + a_i / 2) with a = W h, here a_total = b + W h: Σ (a_total² − b²) / 2. */
function gaussianTerm(aTotal: Float64Array, b: Float64Array, L: number): number {
  let s = 0;
  for (let i = 0; i < L; i++) s += (aTotal[i] * aTotal[i] - b[i] * b[i]) / 2;
  return s;
}

/** The first index s with cumulative[s] > u (u in [0, total)). */
function search(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Box–Muller from two uniforms. */
function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** sfc32 seeded through splitmix32: uniforms in [0, 1) with 32 random bits (host-only draws). */
function sfc32(seed: number): () => number {
  let s = seed >>> 0;
  const mix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = mix();
  let b = mix();
  let c = mix();
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
