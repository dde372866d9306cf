// Sampling from a trained model on the GPU: persistent Gibbs chains (from
// noise or from data), clamped/conditional sampling (inpainting), and the
// deterministic maps transform (P(h|v)) and reconstruct.
import { BufferOwner, checkHostFactors, checkStorageFactors, readFloat32, type SizeFactor } from '../gpu/buffers';
import { getKernel, KERNELS, VISIBLE_FLAGS, type KernelOf } from '../gpu/kernels';
import { DispatchPlan, kernelTile } from '../gpu/plan';
import { SubmitRunner } from '../gpu/runner';
import { chooseTiles } from '../gpu/tune';
import { GIBBS_PHASE, SAMPLER_NOISE_PHASE as NOISE_PHASE, SAMPLER_SEED_SALT } from '../host/rng-streams';
import { visibleUnit } from '../units';
import { addGroupPass, groupKernel, type GroupKernel } from './potts-pass';
import type { ModelParams } from './params';
import { checkFiniteArray, checkSeed, checkSize, showValue } from './validate';

export interface ChainOptions {
  chains: number;
  /** Start from Bernoulli(1/2) noise (default) or from these [chains, V] binary states. */
  init?: 'noise' | Float32Array;
  /**
   * Clamped units: mask [chains, V] (1 = clamped) and their values; after every
   * sweep the clamped units are put back, so the rest is sampled from p(v_free | v_clamped).
   */
  clamp?: { mask: Float32Array; values: Float32Array };
  seed?: number;
}

export interface SampleOptions extends ChainOptions {
  /** Gibbs sweeps (v → h → v) to run. */
  steps: number;
  /** Keep the state every this many sweeps (default: only the last). */
  keepEvery?: number;
  /** Sweeps per command buffer (default 50). */
  stepsPerSubmit?: number;
}

export interface SampleResult {
  /** Kept states, [kept, chains, V]: binary samples and the probabilities they were drawn from. */
  samples: Float32Array;
  probabilities: Float32Array;
  kept: number;
  chains: number;
}

/** n persistent Gibbs chains of one model. */
export class GibbsChains {
  readonly vis: GPUBuffer;
  readonly visProb: GPUBuffer;
  private readonly owner: BufferOwner;
  /** One sweep: hidden, visible, [clamp], advance. */
  private readonly sweep: DispatchPlan;
  /** Sweeps run so far. */
  steps = 0;

  private constructor(
    readonly model: ModelParams,
    readonly chains: number,
    init: Float32Array,
    clamp: ChainOptions['clamp'],
    seed: number,
    k: {
      hidden: KernelOf<typeof KERNELS.hidden>;
      visible: KernelOf<typeof KERNELS.visible>;
      clamp: KernelOf<typeof KERNELS.clamp>;
      advance: KernelOf<typeof KERNELS.advance>;
      /** A Potts layer's group pass (softmax and one-hot draw per site). */
      group?: GroupKernel;
    },
  ) {
    const V = model.visible;
    const H = model.hidden;
    const n = chains;
    const owner = new BufferOwner(model.device, `Gibbs chains ×${n}`);
    this.owner = owner;
    try {
      this.vis = owner.storage('vis', init);
      this.visProb = owner.storage('vis_prob', init);
      const hidProb = owner.storage('hid_prob', n * H * 4);
      const hidSample = owner.storage('hid_sample', n * H * 4);
      const counter = owner.storage('counter', new Uint32Array(4));
      const hDims = owner.uniform(
        'hidden dims',
        k.hidden.pack('dims', { rows: n, row_offset: 0, n_in: V, n_out: H, phase: GIBBS_PHASE.hidden, seed }),
      );
      const vDims = owner.uniform(
        'visible dims',
        k.visible.pack('dims', {
          rows: n, in_offset: 0, out_offset: 0, n_in: H, n_out: V, phase: GIBBS_PHASE.visible, seed,
          flags: VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE,
        }),
      );
      const sweep = new DispatchPlan(model.device, { hint: 'lower chains' });
      sweep.add(k.hidden, { dims: hDims, counter, vis: this.vis, W: model.W, c: model.c, hid_prob: hidProb, hid_sample: hidSample }, { rows: n, cols: H });
      sweep.add(
        k.visible,
        { dims: vDims, counter, hid_sample: hidSample, W: model.W, b: model.b, vis_prob: this.visProb, vis: this.vis },
        { rows: n, cols: V },
      );
      addGroupPass(sweep, k.group, visibleUnit(model), owner, 'group dims', {
        rows: n, rowOffset: 0, visible: V, phase: GIBBS_PHASE.visible, seed,
        flags: VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE, counter, visProb: this.visProb, vis: this.vis,
      });
      if (clamp) {
        const cDims = owner.uniform('clamp dims', k.clamp.pack('dims', { count: n * V }));
        const mask = owner.storage('clamp mask', clamp.mask);
        const values = owner.storage('clamp values', clamp.values);
        sweep.add(k.clamp, { dims: cDims, mask, values, vis: this.vis, vis_prob: this.visProb }, { elements: n * V });
      }
      sweep.add(k.advance, { counter }, { groups: [1] });
      this.sweep = sweep;
    } catch (e) {
      owner.dispose();
      throw e;
    }
  }

  static async create(model: ModelParams, o: ChainOptions): Promise<GibbsChains> {
    model.assertLive();
    checkChainOptions(o);
    const V = model.visible;
    const n = o.chains;
    checkChainSizes(model, [{ value: n, option: 'chains' }], 'Gibbs chains');
    const seed = (o.seed ?? (model.seed ^ SAMPLER_SEED_SALT)) >>> 0;
    const unit = visibleUnit(model);
    let init: Float32Array;
    if (o.init === undefined || o.init === 'noise') {
      init = new Float32Array(n * V);
      // Noise of the layer's own kind: fair coins for Bernoulli units, standard normals for Gaussian ones,
      // a uniformly drawn state per site for Potts ones.
      for (let e = 0; e < init.length; e++) init[e] = unit.noise(seed, e, NOISE_PHASE);
    } else {
      init = checkStates('init', o.init, n, V);
      if (unit.grouped) unit.checkStates('init', init, V);
    }
    let clamp = o.clamp;
    if (clamp) {
      const mask = checkStates('clamp.mask', clamp.mask, n, V);
      const values = checkStates('clamp.values', clamp.values, n, V);
      // Clamped units start at their values.
      init = init.map((x, e) => (mask[e] >= 0.5 ? values[e] : x));
      clamp = { mask, values };
    }
    const tiles = await chooseTiles(model.device, { visible: V, hidden: model.hidden, batch: n });
    const [hidden, visible, clampK, advance, group] = await Promise.all([
      getKernel(model.device, KERNELS.hidden(tiles.hidden)),
      getKernel(model.device, KERNELS.visible(tiles.visible, unit.wgsl)),
      getKernel(model.device, KERNELS.clamp()),
      getKernel(model.device, KERNELS.advance()),
      groupKernel(model.device, unit),
    ]);
    return new GibbsChains(model, n, init, clamp, seed, { hidden, visible, clamp: clampK, advance, ...(group ? { group } : {}) });
  }

  /** Encodes `count` sweeps in one compute pass. */
  encode(encoder: GPUCommandEncoder, count: number): void {
    this.owner.assertLive();
    this.model.assertLive();
    const pass = encoder.beginComputePass({ label: 'Gibbs sweeps' });
    this.sweep.encode(pass, count);
    pass.end();
    this.steps += count;
  }

  /** Runs `steps` sweeps, keeping the state every `keepEvery` sweeps; one readback at the end. */
  run(steps: number, keepEvery = steps, stepsPerSubmit = 50): Promise<SampleResult> {
    return runKeeping(this, steps, keepEvery, stepsPerSubmit, 'Gibbs sampling');
  }

  /** The chains' current binary states, [chains, V]. */
  read(): Promise<Float32Array> {
    return readFloat32(this.model.device, this.vis, this.chains * this.model.visible);
  }

  dispose(): void {
    this.owner.dispose();
  }
}

/** What runKeeping needs of a set of chains: rows [0, chains) of vis/visProb are the kept states. */
export interface SweepingChains {
  readonly model: ModelParams;
  readonly chains: number;
  readonly vis: GPUBuffer;
  readonly visProb: GPUBuffer;
  encode(encoder: GPUCommandEncoder, count: number): void;
}

/**
 * Runs `steps` sweeps of `c`, copying rows [0, chains) of its states aside
 * every `keepEvery` sweeps on the GPU; one readback at the end.
 */
export async function runKeeping(
  c: SweepingChains, steps: number, keepEvery: number, stepsPerSubmit: number, label: string,
): Promise<SampleResult> {
  checkSize('steps', steps);
  checkSize('keepEvery', keepEvery);
  checkSize('stepsPerSubmit', stepsPerSubmit);
  checkKeepingSizes(c.model, c.chains, steps, keepEvery);
  const device = c.model.device;
  const bytes = c.chains * c.model.visible * 4;
  const kept = Math.floor(steps / keepEvery);
  const scratch = new BufferOwner(device, label);
  try {
    const samples = scratch.storage('kept samples', Math.max(1, kept) * bytes);
    const probs = scratch.storage('kept probabilities', Math.max(1, kept) * bytes);
    let slot = 0;
    // Chunks end on keep boundaries, where the kept rows are copied aside in the same command buffer.
    await new SubmitRunner(device).run({
      total: steps,
      chunk: (done) => Math.min(stepsPerSubmit, keepEvery - (done % keepEvery)),
      label,
      encode: (encoder, first, n) => {
        c.encode(encoder, n);
        if ((first + n) % keepEvery === 0 && slot < kept) {
          encoder.copyBufferToBuffer(c.vis, 0, samples, slot * bytes, bytes);
          encoder.copyBufferToBuffer(c.visProb, 0, probs, slot * bytes, bytes);
          slot++;
        }
      },
    });
    const count = (kept * bytes) / 4;
    const [s, p] = await Promise.all([readFloat32(device, samples, count), readFloat32(device, probs, count)]);
    return { samples: s, probabilities: p, kept, chains: c.chains };
  } finally {
    scratch.dispose();
  }
}

/**
 * Checks what a set of chains allocates, before any of it is: `rows` (the
 * factors of the row count, e.g. chains × replicas) × V visible and × H hidden
 * values per GPU buffer, and the rows × V start states on the host.
 */
export function checkChainSizes(model: ModelParams, rows: SizeFactor[], label: string): void {
  const V: SizeFactor = { value: model.visible, what: 'visible units' };
  const H: SizeFactor = { value: model.hidden, what: 'hidden units' };
  checkStorageFactors(model.device, `${label}: visible states`, [...rows, V]);
  checkStorageFactors(model.device, `${label}: hidden states`, [...rows, H]);
  checkHostFactors(`${label}: start states`, [...rows, V]);
}

/**
 * Checks what runKeeping allocates before anything is: kept × chains × V values
 * in each of two GPU buffers and two host arrays (samples and probabilities).
 */
export function checkKeepingSizes(model: ModelParams, chains: number, steps: number, keepEvery: number): void {
  const kept = Math.max(1, Math.floor(steps / keepEvery));
  const factors: SizeFactor[] = [
    ...(kept > 1 ? [{ value: kept, what: 'kept steps', option: 'keepEvery', raise: true }] : []),
    { value: chains, option: 'chains' },
    { value: model.visible, what: 'visible units' },
  ];
  checkStorageFactors(model.device, 'kept samples', factors);
  checkHostFactors('kept samples and probabilities', [{ value: 2, what: 'arrays' }, ...factors]);
}

/** ChainOptions' types up front (option validation): sizes and contents are checked where they are used. */
function checkChainOptions(o: ChainOptions): void {
  if (o === null || typeof o !== 'object') throw new RangeError(`sampling options must be an object, got ${showValue(o)}`);
  checkSize('chains', o.chains);
  if (o.init !== undefined && o.init !== 'noise' && !(o.init instanceof Float32Array)) {
    throw new RangeError(`init must be 'noise' or a Float32Array of [chains, V] states, got ${showValue(o.init)}`);
  }
  if (o.clamp !== undefined && (o.clamp === null || typeof o.clamp !== 'object')) {
    throw new RangeError(`clamp must be { mask, values } (Float32Arrays of [chains, V]), got ${showValue(o.clamp)}`);
  }
  if (o.seed !== undefined) checkSeed('seed', o.seed);
}

function checkStates(name: string, a: Float32Array, n: number, V: number): Float32Array {
  if (!(a instanceof Float32Array) || a.length !== n * V) {
    throw new RangeError(`${name} must be a Float32Array of chains × visible = ${n} × ${V} = ${n * V} values, got ${a?.length}`);
  }
  checkFiniteArray(name, a);
  return a;
}

/** Runs fresh chains and disposes them: the one-call sampling API. */
export async function sample(model: ModelParams, o: SampleOptions): Promise<SampleResult> {
  model.assertLive();
  checkChainOptions(o);
  if (o.stepsPerSubmit !== undefined) checkSize('stepsPerSubmit', o.stepsPerSubmit);
  // Every size up front: no noise is drawn for chains whose kept samples cannot fit.
  checkSize('chains', o.chains);
  checkSize('steps', o.steps);
  if (o.keepEvery !== undefined) checkSize('keepEvery', o.keepEvery);
  checkKeepingSizes(model, o.chains, o.steps, o.keepEvery ?? o.steps);
  const chains = await GibbsChains.create(model, o);
  try {
    return await chains.run(o.steps, o.keepEvery ?? o.steps, o.stepsPerSubmit);
  } finally {
    chains.dispose();
  }
}

/** P(h = 1 | v) for each row of `data` ([rows, V]): the features of an RBM. */
export async function transform(model: ModelParams, data: Float32Array): Promise<Float32Array> {
  const { hidProb } = await meanField(model, data, false);
  return hidProb;
}

/** E[v | h = σ(vW + c)]: σ(σ(vW + c)Wᵀ + b) (Gaussian units: σ(vW + c)Wᵀ + b), the mean-field reconstruction of each row. */
export async function reconstruct(model: ModelParams, data: Float32Array): Promise<Float32Array> {
  const { visProb } = await meanField(model, data, true);
  return visProb!;
}

async function meanField(
  model: ModelParams,
  data: Float32Array,
  back: boolean,
): Promise<{ hidProb: Float32Array; visProb?: Float32Array }> {
  model.assertLive();
  const V = model.visible;
  const H = model.hidden;
  if (!(data instanceof Float32Array) || data.length === 0 || data.length % V !== 0) {
    throw new RangeError(`data must be a Float32Array with a multiple of visible=${V} values, got ${data?.length}`);
  }
  checkFiniteArray('data', data);
  const n = data.length / V;
  const device = model.device;
  const rows: SizeFactor = { value: n, what: 'rows of data' };
  checkStorageFactors(device, 'mean field: visible values', [rows, { value: V, what: 'visible units' }]);
  checkStorageFactors(device, 'mean field: hidden values', [rows, { value: H, what: 'hidden units' }]);
  checkHostFactors('mean field readback', [rows, { value: back ? V + H : H, what: back ? 'visible + hidden units' : 'hidden units' }]);
  const tiles = await chooseTiles(device, { visible: V, hidden: H, batch: n });
  const unit = visibleUnit(model);
  const [hidden, visible, group] = await Promise.all([
    getKernel(device, KERNELS.hidden(tiles.hidden)),
    getKernel(device, KERNELS.visible(tiles.visible, unit.wgsl)),
    groupKernel(device, unit),
  ]);
  const blockRows = device.limits.maxComputeWorkgroupsPerDimension * Math.min(kernelTile(hidden).rows, kernelTile(visible).rows);
  const plan = new DispatchPlan(device, { hint: `pass the data in blocks of at most ${blockRows} rows` });
  const o = new BufferOwner(device, 'mean field');
  try {
    const vis = o.storage('vis', data);
    const visProb = o.storage('vis_prob', n * V * 4);
    const visOut = o.storage('vis_sample', n * V * 4);
    const hidProb = o.storage('hid_prob', n * H * 4);
    const hidSample = o.storage('hid_sample', n * H * 4);
    const counter = o.storage('counter', new Uint32Array(4));
    const hDims = o.uniform('hidden dims', hidden.pack('dims', { rows: n, row_offset: 0, n_in: V, n_out: H, phase: 0, seed: 0 }));
    plan.add(hidden, { dims: hDims, counter, vis, W: model.W, c: model.c, hid_prob: hidProb, hid_sample: hidSample }, { rows: n, cols: H });
    if (back) {
      // Feeding probabilities where the kernel expects samples gives the mean-field pass.
      const vDims = o.uniform(
        'visible dims',
        visible.pack('dims', { rows: n, in_offset: 0, out_offset: 0, n_in: H, n_out: V, phase: 0, seed: 0, flags: VISIBLE_FLAGS.WRITE_PROB }),
      );
      plan.add(
        visible,
        { dims: vDims, counter, hid_sample: hidProb, W: model.W, b: model.b, vis_prob: visProb, vis: visOut },
        { rows: n, cols: V },
      );
      // Potts: each site's softmax of the mean-field fields.
      addGroupPass(plan, group, unit, o, 'group dims', {
        rows: n, rowOffset: 0, visible: V, phase: 0, seed: 0, flags: VISIBLE_FLAGS.WRITE_PROB, counter, visProb, vis: visOut,
      });
    }
    const encoder = device.createCommandEncoder({ label: 'mean field' });
    const pass = encoder.beginComputePass();
    plan.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const h = await readFloat32(device, hidProb, n * H);
    return { hidProb: h, visProb: back ? await readFloat32(device, visProb, n * V) : undefined };
  } finally {
    o.dispose();
  }
}

