// Exact log Z on the GPU: enumerate the 2^n states of the smaller layer in
// chunks (logz_chunk.wgsl), reduce each chunk to one (max, Σ exp(t − max))
// pair on the GPU (logz_combine.wgsl), and merge the chunk pairs in float64.
import { BufferOwner, checkStorageFactors, readFloat32 } from '../gpu/buffers';
import { getKernel } from '../gpu/kernels';
import { DispatchPlan } from '../gpu/plan';
import { SubmitRunner } from '../gpu/runner';
import { EVAL_KERNELS, LOGZ_STATES_PER_GROUP } from '../gpu/eval-kernels';
import { unitType, visibleUnit } from '../units';
import type { VisibleType } from './model-file';
import type { ModelParams } from './params';
import { freeEnergy } from './free-energy';
import { checkFiniteNumber } from './validate';

/** Most units exactLogZ enumerates: 2^26 states × the other layer is already minutes on a fast GPU. */
export const MAX_EXACT_LOGZ_UNITS = 26;
const DEFAULT_CHUNK_STATES = 1 << 16;
/** Work (states × units of the other layer) per submitted command buffer, so no submit runs for long. */
const WORK_PER_SUBMIT = 2 ** 28;

export interface ExactLogZOptions {
  /** States per dispatch: a power of two ≥ 256 (default 2^16). */
  chunkStates?: number;
}

/**
 * Which layer exactLogZ enumerates: the smaller one (hidden on a tie, like
 * logZExact); always the hidden one when the visible units cannot be enumerated
 * (Gaussian ones). `visibleType` defaults to Bernoulli.
 */
export function enumeratedLayer(model: Pick<ModelParams, 'visible' | 'hidden'> & { visibleType?: VisibleType }): 'hidden' | 'visible' {
  return !unitType(model.visibleType ?? 'bernoulli').exactLogZ.enumerable || model.hidden <= model.visible ? 'hidden' : 'visible';
}

/**
 * log Z of the model, exact up to float32 rounding. Enumerates the smaller
 * layer, which must have ≤ 26 units; for Gaussian visible units (unit
 * variance) the hidden layer, v integrated out analytically:
 * log Z = (V/2)·log 2π + logsumexp_h [cᵀh + Σ_i a_i (b_i + a_i/2)], a = W h;
 * for Potts visible units (q states per site) the hidden layer too, the sites
 * summed out: log Z = logsumexp_h [cᵀh + Σ_site logsumexp_s (b + W h)_{site·q+s}].
 */
export async function exactLogZ(model: ModelParams, options: ExactLogZOptions = {}): Promise<number> {
  return (await enumerate(model, options, false)).logZ;
}

/**
 * The enumeration behind exactLogZ, kept per group of LOGZ_STATES_PER_GROUP
 * (256) consecutive states: groups[2g] = m = max t(s), groups[2g + 1] =
 * Σ exp(t(s) − m) over states g·256 … g·256 + 255 (bit k of s = unit k of the
 * enumerated layer), in float32; logZ merges them in float64 (the unit type's
 * constant included, which the groups leave out). 2^26 states make 2^18 groups
 * (2 MiB): exact samplers pick a group by its mass, then a state within it.
 */
export interface LogZGroups {
  logZ: number;
  layer: 'hidden' | 'visible';
  units: number;
  groups: Float32Array;
}

/** exactLogZ, and the per-group masses of its enumeration (see LogZGroups). */
export async function exactLogZGroups(model: ModelParams, options: ExactLogZOptions = {}): Promise<LogZGroups> {
  const r = await enumerate(model, options, true);
  if (r.groups === undefined) throw new Error('exactLogZGroups: the enumeration kept no groups');
  return { logZ: r.logZ, layer: r.layer, units: r.units, groups: r.groups };
}

async function enumerate(
  model: ModelParams,
  options: ExactLogZOptions,
  keepGroups: boolean,
): Promise<{ logZ: number; layer: 'hidden' | 'visible'; units: number; groups?: Float32Array }> {
  model.assertLive();
  const { visible: V, hidden: H, device } = model;
  const unit = visibleUnit(model);
  const hiddenSide = enumeratedLayer(model) === 'hidden';
  const n = hiddenSide ? H : V;
  if (n > MAX_EXACT_LOGZ_UNITS) {
    const which = unit.exactLogZ.enumerable ? 'smaller layer' : `hidden layer (${unit.label} visible units are integrated, not enumerated)`;
    throw new RangeError(
      `exactLogZ: the ${which} has ${n} units (visible=${V}, hidden=${H}), but exact enumeration ` +
        `is limited to ${MAX_EXACT_LOGZ_UNITS} units (2^${MAX_EXACT_LOGZ_UNITS} states); use ais() for larger models.`,
    );
  }
  const total = 2 ** n;
  const chunkStates = Math.min(total, chunkSize(options.chunkStates));
  const groups = Math.ceil(chunkStates / LOGZ_STATES_PER_GROUP);
  const chunks = total / chunkStates;

  const L = hiddenSide ? V : H;
  // M[l, k] = W[l·stride_l + k·stride_k]: rows of W when enumerating h, columns when enumerating v.
  const strides = hiddenSide ? [H, 1] : [1, H];
  const [chunk, combine] = await Promise.all([
    getKernel(device, EVAL_KERNELS.logzChunk()),
    getKernel(device, EVAL_KERNELS.logzCombine()),
  ]);
  const scratch = new BufferOwner(device, 'exactLogZ');
  try {
    const dims = scratch.uniform(
      'dims',
      chunk.pack('dims', {
        n_enum: n, n_other: L, stride_l: strides[0], stride_k: strides[1], chunk_states: chunkStates, mode: unit.exactLogZ.chunkMode,
        states: unit.group?.states ?? 0,
      }),
    );
    const combineDims = scratch.uniform('combine dims', combine.pack('dims', { groups }));
    const counter = scratch.storage('chunk counter', new Uint32Array(4));
    const partials = scratch.storage('partials', groups * 2 * 4);
    const results = scratch.storage('chunk results', chunks * 2 * 4);
    const groupBytes = groups * 2 * 4;
    const table = keepGroups ? scratch.storage('group table', chunks * groupBytes) : undefined;
    const a = hiddenSide ? model.c : model.b;
    const d = hiddenSide ? model.b : model.c;
    // One chunk of states: enumerate and reduce (the combine kernel advances the chunk counter).
    const plan = new DispatchPlan(device, { hint: `chunkStates=${chunkStates} is too many: use a smaller chunkStates` });
    plan.add(chunk, { dims, counter, W: model.W, a, d, partials }, { groups: [groups] });
    plan.add(combine, { dims: combineDims, counter, partials, results }, { groups: [1] });
    await new SubmitRunner(device).run({
      total: chunks,
      chunk: Math.max(1, Math.floor(WORK_PER_SUBMIT / (chunkStates * L))),
      label: 'exactLogZ',
      encode: (encoder, first, count) => {
        model.assertLive();
        if (table === undefined) {
          const pass = encoder.beginComputePass({ label: 'exactLogZ chunks' });
          plan.encode(pass, count);
          pass.end();
          return;
        }
        // Keeping groups: each chunk's partials are copied out before the next chunk overwrites them.
        for (let i = 0; i < count; i++) {
          const pass = encoder.beginComputePass({ label: 'exactLogZ chunk' });
          plan.encode(pass, 1);
          pass.end();
          encoder.copyBufferToBuffer(partials, 0, table, (first + i) * groupBytes, groupBytes);
        }
      },
    });
    const logZ = mergeLogSumExp(await readFloat32(device, results, chunks * 2)) + unit.exactLogZ.logConstant(V);
    const layer = hiddenSide ? 'hidden' : 'visible';
    if (table === undefined) return { logZ, layer, units: n };
    return { logZ, layer, units: n, groups: await readFloat32(device, table, chunks * groups * 2) };
  } finally {
    scratch.dispose();
  }
}

/** Mean over the rows of `data` ([rows, V]) of log p(v) = −F(v) − log Z, F from the GPU kernel. */
export async function averageLogLikelihood(model: ModelParams, data: Float32Array, logZ: number): Promise<number> {
  checkFiniteNumber('logZ', logZ);
  if (data.length % model.visible === 0 && data.length > 0) {
    // One GPU buffer holds every row: say which count to lower before it is made.
    const rows = data.length / model.visible;
    checkStorageFactors(model.device, 'log-likelihood data', [{ value: rows, what: 'rows of data' }, { value: model.visible, what: 'visible units' }]);
  }
  const F = await freeEnergy(model, data);
  let sum = 0;
  for (let r = 0; r < F.length; r++) sum -= F[r];
  return sum / F.length - logZ;
}

/** log Σ_c s_c·e^{m_c} of (m, s) pairs, in float64. */
function mergeLogSumExp(pairs: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < pairs.length; i += 2) {
    if (!Number.isFinite(pairs[i]) || !Number.isFinite(pairs[i + 1])) {
      throw new Error(`exactLogZ: chunk ${i / 2} reduced to a non-finite value (${pairs[i]}, ${pairs[i + 1]})`);
    }
    if (pairs[i + 1] > 0) max = Math.max(max, pairs[i]);
  }
  if (max === -Infinity) throw new Error('exactLogZ: the GPU reduction produced no terms');
  let sum = 0;
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i + 1] > 0) sum += pairs[i + 1] * Math.exp(pairs[i] - max);
  return max + Math.log(sum);
}

function chunkSize(requested: number | undefined): number {
  const c = requested ?? DEFAULT_CHUNK_STATES;
  if (!Number.isInteger(c) || c < LOGZ_STATES_PER_GROUP || (c & (c - 1)) !== 0) {
    throw new RangeError(`chunkStates must be a power of two ≥ ${LOGZ_STATES_PER_GROUP}, got ${c}`);
  }
  return c;
}
