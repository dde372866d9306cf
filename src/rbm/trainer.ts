// CD-k / PCD-k updates on the GPU. One update is one run of dispatches with
// no CPU readback: [gather], hidden, (visible, hidden) × k, [recon_error],
// update (W), bias_update (b, c, counters). See schedule.ts for the order.
import { BufferOwner, readBuffer, readFloat32, writeArray } from '../gpu/buffers';
import { BIAS_WORKGROUP_SIZE, getKernel, KERNELS, tileConstants, VISIBLE_FLAGS, type KernelOf, type TileShape } from '../gpu/kernels';
import { raceLoss } from '../gpu/lost';
import { DispatchPlan } from '../gpu/plan';
import { chooseTiles, type TileChoice, type TuneProblem } from '../gpu/tune';
import { BINARIZE_MODES, type GatherData, type BinarizeMode } from './dataset';
import type { TrainableModel } from './params';
import { updateSchedule, type Pass } from './schedule';
import {
  checkBoolean, checkEnum, checkFiniteArray, checkFiniteNumber, checkSeed, checkSize, showValue,
} from './validate';
import { packHyper, type Hyperparameters } from './hyper';
import { MAX_CD_K } from '../host/rng-streams';
import { visibleUnit } from '../units';
import { addGroupPass, groupKernel, type GroupKernel } from './potts-pass';

export { packHyper, type Hyperparameters };

export interface TrainerOptions {
  batchSize: number;
  /**
   * Gibbs steps per update (default 1). With persistent: true, k = 0 means the
   * negative-phase states in vis rows [B, 2B) are supplied by another sampler
   * before each update (parallel tempering).
   */
  k?: number;
  /** Persistent chains (PCD) instead of restarting from the data (CD). */
  persistent?: boolean;
  /**
   * Persistent chains N (default batchSize; persistent only): the negative
   * phase runs N chains in vis rows [B, B + N) and the update weighs their
   * statistics 1/N, the batch's 1/B.
   */
  chains?: number;
  /** Compute the reconstruction error of every batch on the GPU (default true). */
  metrics?: boolean;
  /** Slots in the on-GPU metrics ring (default 4096): updates between two readMetrics. */
  metricsCapacity?: number;
  /** GEMM tile shapes: 'auto' (default) tunes once per device; one shape for all three kernels; or one per kernel. */
  tile?: 'auto' | TileShape | TileChoice;
  /**
   * Centered gradients (Montavon & Müller 2012; Melchior et al. 2016): the
   * update centres v and h on offsets μ, λ, sliding averages of the batches'
   * data means (see shaders/update_centered.wgsl). Absent: the plain update.
   */
  centered?: CenteringOptions;
}

/** The centered trainer's offsets: their sliding rate ν and where they start. */
export interface CenteringOptions {
  /** ν in μ ← (1 − ν)μ + ν·(batch mean), in [0, 1] (0: fixed offsets). */
  rate: number;
  /** μ [V] to start from (default 0.5 each; fit uses the training data's means). */
  visibleOffset?: Float32Array;
  /** λ [H] to start from (default 0.5 each: where a fresh model's hidden units are). */
  hiddenOffset?: Float32Array;
}


export interface GatherOptions {
  binarize: BinarizeMode;
  threshold?: number;
  /** Seeds stochastic binarization (default: the model's seed). */
  seed?: number;
}

const BINARIZE_CODE: Record<BinarizeMode, number> = { none: 0, threshold: 1, stochastic: 2 };
/** The running mean of hidden activations starts where a fresh model is: p ≈ 1/2. */
const INITIAL_HIDDEN_MEAN = 0.5;

export class CDTrainer {
  readonly batchSize: number;
  readonly k: number;
  readonly persistent: boolean;
  /** Negative-phase rows N: the persistent chains (batchSize for CD). */
  readonly chains: number;
  readonly metrics: boolean;
  readonly metricsCapacity: number;
  /** The offsets' sliding rate ν when the update is centered (undefined: plain). */
  readonly centeredRate?: number;
  /** Stacked [B + N, V]: data rows then negative-phase rows (samples); N = chains. */
  readonly vis: GPUBuffer;
  /** [B + max(B, N), V]: rows [B, 2B) end each update holding the data's one-step reconstruction. */
  readonly visProb: GPUBuffer;
  /** Stacked [B + N, H]. */
  readonly hidProb: GPUBuffer;
  readonly hidSample: GPUBuffer;
  /** counter[0] = the update step keying the RNG; counter[1] = the batch cursor. */
  readonly counter: GPUBuffer;
  /** Reconstruction error (per-pixel mean squared error) of update u in slot u mod capacity. */
  readonly metricsBuffer: GPUBuffer;
  private readonly hyper: GPUBuffer;
  /** q [H]: the decaying mean of the data-driven hidden probabilities (sparsity). */
  private readonly hiddenMean: GPUBuffer;
  /** Centered only: the offsets μ [V] and λ [H]. */
  private readonly offsets?: { mu: GPUBuffer; lambda: GPUBuffer };
  private readonly owner: BufferOwner;
  /** One update: hidden, (visible, hidden) × k, [recon_error], update, bias_update. */
  private readonly plan: DispatchPlan;
  /** The gather that precedes each update once a data set is bound. */
  private gather?: { plan: DispatchPlan; dims: GPUBuffer; dataset: GatherData; options: GatherOptions };
  private chainsReady = false;
  private lastHyper = '';
  /** Updates encoded so far (mirrors counter[0] on the GPU). */
  step = 0;

  private constructor(
    readonly model: TrainableModel,
    options: Required<Omit<TrainerOptions, 'tile' | 'centered'>> & Pick<TrainerOptions, 'centered'>,
    private readonly kernels: {
      hidden: KernelOf<typeof KERNELS.hidden>;
      visible: KernelOf<typeof KERNELS.visible>;
      update: KernelOf<typeof KERNELS.update>;
      bias: KernelOf<typeof KERNELS.biasUpdate>;
      recon: KernelOf<typeof KERNELS.reconError>;
      gather: KernelOf<typeof KERNELS.gather>;
      /** The Potts layer's group pass after each visible pass (absent for ungrouped units). */
      group?: GroupKernel;
      centered?: {
        update: KernelOf<typeof KERNELS.updateCentered>;
        offsets: KernelOf<typeof KERNELS.centerOffsets>;
        bias: KernelOf<typeof KERNELS.centerBias>;
      };
    },
  ) {
    const { batchSize: B, k, persistent, chains: N, metrics, metricsCapacity } = options;
    Object.assign(this, { batchSize: B, k, persistent, chains: N, metrics, metricsCapacity });
    this.batchSize = B;
    this.k = k;
    this.persistent = persistent;
    this.chains = N;
    this.metrics = metrics;
    this.metricsCapacity = metricsCapacity;
    const centering = options.centered;
    this.centeredRate = centering?.rate;
    const V = model.visible;
    const H = model.hidden;
    const owner = new BufferOwner(model.device, `trainer B=${B} k=${k}${persistent ? ' PCD' : ''}${N !== B ? ` N=${N}` : ''}`);
    this.owner = owner;
    try {
      this.vis = owner.storage('vis', (B + N) * V * 4);
      this.visProb = owner.storage('vis_prob', (B + Math.max(B, N)) * V * 4);
      this.hidProb = owner.storage('hid_prob', (B + N) * H * 4);
      this.hidSample = owner.storage('hid_sample', (B + N) * H * 4);
      this.counter = owner.storage('counter', new Uint32Array(4));
      this.metricsBuffer = owner.storage('metrics', metricsCapacity * 4);
      this.hyper = owner.uniform('hyper', packHyper({ learningRate: 0 }, B));
      const q = owner.storage('hidden mean', new Float32Array(H).fill(INITIAL_HIDDEN_MEAN));
      this.hiddenMean = q;

      const seed = model.seed;
      const plan = new DispatchPlan(model.device, { hint: 'use a smaller batch or model' });
      for (const [i, p] of chainSchedule(updateSchedule(B, k, persistent, metrics), B, N).entries()) {
        if (p.kind === 'hidden') {
          const dims = owner.uniform(
            `hidden dims ${i}`,
            kernels.hidden.pack('dims', { rows: p.rows, row_offset: p.rowOffset, n_in: V, n_out: H, phase: p.phase, seed }),
          );
          plan.add(
            kernels.hidden,
            { dims, counter: this.counter, vis: this.vis, W: model.W, c: model.c, hid_prob: this.hidProb, hid_sample: this.hidSample },
            { rows: p.rows, cols: H },
          );
          continue;
        }
        const flags =
          (p.writeProb ? VISIBLE_FLAGS.WRITE_PROB : 0) | (p.writeSample ? VISIBLE_FLAGS.WRITE_SAMPLE : 0);
        const dims = owner.uniform(
          `visible dims ${i}`,
          kernels.visible.pack('dims', {
            rows: p.rows, in_offset: p.inOffset, out_offset: p.outOffset, n_in: H, n_out: V, phase: p.phase, seed, flags,
          }),
        );
        plan.add(
          kernels.visible,
          { dims, counter: this.counter, hid_sample: this.hidSample, W: model.W, b: model.b, vis_prob: this.visProb, vis: this.vis },
          { rows: p.rows, cols: V },
        );
        addGroupPass(plan, kernels.group, visibleUnit(model), owner, `group dims ${i}`, {
          rows: p.rows, rowOffset: p.outOffset, visible: V, phase: p.phase, seed, flags,
          counter: this.counter, visProb: this.visProb, vis: this.vis,
        });
      }
      const updateDims = owner.uniform('update dims', kernels.update.pack('dims', { n_vis: V, n_hid: H, n_rows: B + N, neg_start: B }));
      if (metrics) {
        const reconDims = owner.uniform('recon dims', kernels.recon.pack('dims', { batch: B, n_vis: V, capacity: metricsCapacity }));
        plan.add(
          kernels.recon,
          { dims: reconDims, counter: this.counter, vis: this.vis, vis_prob: this.visProb, metrics: this.metricsBuffer },
          { groups: [1, 1] },
        );
      }
      const vel = model.optimiser;
      const ck = kernels.centered;
      if (centering && ck) {
        // Offsets first (from this batch's data rows), then the centered weight step (Algorithm 1's order).
        const mu = owner.storage('visible offset', centering.visibleOffset ?? new Float32Array(V).fill(INITIAL_OFFSET));
        const lambda = owner.storage('hidden offset', centering.hiddenOffset ?? new Float32Array(H).fill(INITIAL_OFFSET));
        this.offsets = { mu, lambda };
        const centerDims = owner.uniform('center dims', ck.offsets.pack('dims', { n_vis: V, n_hid: H, batch: B, rate: centering.rate }));
        plan.add(
          ck.offsets,
          { dims: centerDims, vis: this.vis, hid_prob: this.hidProb, mu, lambda },
          { groups: [Math.ceil((V + H) / BIAS_WORKGROUP_SIZE)] },
        );
        plan.add(
          ck.update,
          { dims: updateDims, hyper: this.hyper, vis: this.vis, hid_prob: this.hidProb, W: model.W, vel: vel.W, mu, lambda },
          { rows: V, cols: H },
        );
      } else {
        plan.add(
          kernels.update,
          { dims: updateDims, hyper: this.hyper, vis: this.vis, hid_prob: this.hidProb, W: model.W, vel: vel.W },
          { rows: V, cols: H },
        );
      }
      plan.add(
        kernels.bias,
        {
          dims: updateDims, hyper: this.hyper, vis: this.vis, hid_prob: this.hidProb,
          b: model.b, c: model.c, b_vel: vel.b, c_vel: vel.c, counter: this.counter, q,
        },
        { groups: [Math.ceil((V + H) / BIAS_WORKGROUP_SIZE)] },
      );
      if (this.offsets && ck) {
        // The centered biases' steps are in b, c now; the ordinary biases also move by −ΔW·λ, −ΔWᵀ·μ.
        plan.add(
          ck.bias,
          { dims: updateDims, vel: vel.W, mu: this.offsets.mu, lambda: this.offsets.lambda, b: model.b, c: model.c },
          { groups: [Math.ceil((V + H) / BIAS_WORKGROUP_SIZE)] },
        );
      }
      this.plan = plan;
    } catch (e) {
      owner.dispose();
      throw e;
    }
  }

  static async create(model: TrainableModel, options: TrainerOptions): Promise<CDTrainer> {
    if (options === null || typeof options !== 'object') {
      throw new RangeError(`trainer options must be an object, got ${showValue(options)}`);
    }
    checkSize('batchSize', options.batchSize);
    if (options.persistent !== undefined) checkBoolean('persistent', options.persistent);
    if (options.metrics !== undefined) checkBoolean('metrics', options.metrics);
    const chains = options.chains ?? options.batchSize;
    checkSize('chains', chains);
    if (!options.persistent && chains !== options.batchSize) {
      throw new RangeError(
        `chains (${chains}) differs from batchSize (${options.batchSize}), which needs persistent chains: ` +
          'CD-k starts its chains from the batch; use persistent: true (PCD) or leave chains out',
      );
    }
    const k = options.k ?? 1;
    if (!(options.persistent && k === 0)) checkSize('k', k);
    // Past this the Gibbs phases would run into other random streams (src/host/rng-streams.ts).
    if (k > MAX_CD_K) throw new RangeError(`k must be at most ${MAX_CD_K}, got ${k}`);
    const metricsCapacity = options.metricsCapacity ?? 4096;
    checkSize('metricsCapacity', metricsCapacity);
    if (options.centered !== undefined) checkCentering(options.centered, model);
    const device = model.device;
    checkTileOption(device, options.tile ?? 'auto');
    const tiles = await resolveTiles(device, options.tile ?? 'auto', {
      visible: model.visible,
      hidden: model.hidden,
      batch: options.batchSize,
    });
    const [hidden, visible, update, bias, recon, gather, group] = await Promise.all([
      getKernel(device, KERNELS.hidden(tiles.hidden)),
      getKernel(device, KERNELS.visible(tiles.visible, visibleUnit(model).wgsl)),
      getKernel(device, KERNELS.update(tiles.update)),
      getKernel(device, KERNELS.biasUpdate()),
      getKernel(device, KERNELS.reconError()),
      getKernel(device, KERNELS.gather()),
      groupKernel(device, visibleUnit(model)),
    ]);
    const centered = options.centered === undefined ? undefined : await Promise.all([
      getKernel(device, KERNELS.updateCentered(tiles.update)),
      getKernel(device, KERNELS.centerOffsets()),
      getKernel(device, KERNELS.centerBias()),
    ]).then(([u, o, b]) => ({ update: u, offsets: o, bias: b }));
    return new CDTrainer(
      model,
      {
        batchSize: options.batchSize,
        k,
        persistent: options.persistent ?? false,
        chains,
        metrics: options.metrics ?? true,
        metricsCapacity,
        centered: options.centered,
      },
      { hidden, visible, update, bias, recon, gather, centered, ...(group ? { group } : {}) },
    );
  }

  /** Sets learning rate, momentum, weight decay and sparsity for the following updates. */
  setHyperparameters(h: Hyperparameters): void {
    const data = packHyper(h, this.batchSize);
    const key = Array.from(new Uint32Array(data)).join(',');
    if (key === this.lastHyper) return;
    this.lastHyper = key;
    this.model.device.queue.writeBuffer(this.hyper, 0, data);
  }

  /** Sets the persistent chains' visible states ([chains, V] binary rows), e.g. to the first batch. */
  initChains(states: Float32Array): void {
    this.assertLive();
    const B = this.batchSize;
    const N = this.chains;
    const V = this.model.visible;
    if (!(states instanceof Float32Array) || states.length !== N * V) {
      throw new RangeError(`initChains: expected chains × visible = ${N} × ${V} = ${N * V} values, got ${states?.length}`);
    }
    visibleUnit(this.model).checkStates('initChains states', states, V);
    writeArray(this.model.device, this.vis, B * V * 4, states);
    this.chainsReady = true;
  }

  /**
   * Makes later encodeUpdates() gather their batches from `dataset` on the GPU
   * (a GpuDataset, or a StreamedDataset whose blocks the caller refills: see
   * src/rbm/streamed-dataset.ts).
   */
  bindDataset(dataset: GatherData, options: GatherOptions): void {
    this.assertLive();
    if (dataset.dim !== this.model.visible) {
      throw new RangeError(`data set rows have ${dataset.dim} values, the model ${this.model.visible} visible units`);
    }
    if (dataset.count < this.batchSize) {
      throw new RangeError(`data set has ${dataset.count} rows, fewer than one batch of ${this.batchSize}`);
    }
    if (dataset.batchSize !== undefined && dataset.batchSize !== this.batchSize) {
      throw new RangeError(`this streamed data set holds batches of ${dataset.batchSize} rows, the trainer's batchSize is ${this.batchSize}`);
    }
    checkEnum('binarize', options?.binarize, BINARIZE_MODES);
    if (options.seed !== undefined) checkSeed('seed', options.seed);
    if (this.model.visibleType === 'gaussian' && options.binarize !== 'none') {
      throw new RangeError("a Gaussian RBM trains on real values: use binarize: 'none' (and standardised data)");
    }
    const threshold = options.threshold ?? 0.5;
    checkFiniteNumber('threshold', threshold);
    const dims = this.gather?.dims ?? this.owner.uniform('gather dims', new ArrayBuffer(32));
    const plan = new DispatchPlan(this.model.device, { hint: 'use a smaller batch' });
    // One gather per shard of the data set (each writes the batch rows whose data it holds).
    for (const data of dataset.gatherData()) {
      plan.add(
        this.kernels.gather,
        { dims, counter: this.counter, perm: dataset.perm, data, vis: this.vis },
        { elements: this.batchSize * this.model.visible },
      );
    }
    this.gather = { plan, dims, dataset, options: { ...options, threshold } };
  }

  /** Starts an epoch of gathered updates: the permutation, the batch cursor, the binarization draw. */
  startEpoch(epoch: number, permutation: Uint32Array): void {
    this.assertLive();
    const g = this.gather;
    if (!g) throw new Error('startEpoch: call bindDataset() first');
    g.dataset.setPermutation(permutation);
    const o = g.options;
    const seed = o.seed ?? this.model.seed;
    const dims = this.kernels.gather.pack('dims', {
      batch: this.batchSize, n_vis: this.model.visible, mode: BINARIZE_CODE[o.binarize], seed, epoch, threshold: o.threshold ?? 0.5,
    });
    this.model.device.queue.writeBuffer(g.dims, 0, dims);
    writeArray(this.model.device, this.counter, 4, new Uint32Array([0]));
  }

  /**
   * Encodes `count` updates in one compute pass. With a bound data set each
   * update first gathers its batch; otherwise vis rows [0, B) must already
   * hold the data.
   */
  encodeUpdates(encoder: GPUCommandEncoder, count = 1): void {
    this.assertLive();
    if (this.persistent && !this.chainsReady) {
      throw new Error('PCD chains are not initialised: call initChains(batch) before encoding updates.');
    }
    const pass = encoder.beginComputePass({ label: 'CD updates' });
    for (let u = 0; u < count; u++) {
      this.gather?.plan.encode(pass);
      this.plan.encode(pass);
    }
    pass.end();
    this.step += count;
  }

  /** One update on a batch of B binary rows ([B, V] row-major) from the CPU; no readback. */
  update(batch: Float32Array, hyper: Hyperparameters): void {
    this.assertLive();
    const B = this.batchSize;
    const V = this.model.visible;
    if (!(batch instanceof Float32Array) || batch.length !== B * V) {
      throw new RangeError(
        `update: batch must be a Float32Array of batchSize × visible = ${B} × ${V} = ${B * V} values, got ${batch?.length}`,
      );
    }
    visibleUnit(this.model).checkStates('update batch', batch, V);
    this.setHyperparameters(hyper);
    if (this.gather) throw new Error('update(batch) cannot be mixed with a bound data set; use encodeUpdates()');
    const device = this.model.device;
    writeArray(device, this.vis, 0, batch);
    // With as many chains as rows, PCD's chains start at the first batch (otherwise: initChains first).
    if (this.persistent && !this.chainsReady && this.chains === B) this.initChains(batch);
    const encoder = device.createCommandEncoder({ label: 'CD update' });
    this.encodeUpdates(encoder, 1);
    device.queue.submit([encoder.finish()]);
  }

  /** The reconstruction errors of the first `count` updates since the ring was last read from slot 0. */
  async readMetrics(count: number, fromSlot = 0): Promise<Float32Array> {
    this.assertLive();
    if (!this.metrics) throw new Error('this trainer was created with metrics: false');
    if (count > this.metricsCapacity) throw new RangeError(`at most ${this.metricsCapacity} metrics can be read at once`);
    return readFloat32(this.model.device, this.metricsBuffer, count, fromSlot);
  }

  /**
   * The state this trainer carries from one update to the next, besides the
   * model's parameters and velocities: the update step (counter[0], the RNG
   * position), the sparsity estimates q and the persistent chains. Read after
   * every update submitted so far.
   */
  async readState(): Promise<TrainerState> {
    this.assertLive();
    const d = this.model.device;
    const V = this.model.visible;
    const o = this.offsets;
    const [counter, hiddenMean, chains, mu, lambda] = await Promise.all([
      readBuffer(d, this.counter, 4),
      readFloat32(d, this.hiddenMean, this.model.hidden),
      this.persistent && this.chainsReady ? readFloat32(d, this.vis, this.chains * V, this.batchSize * V) : undefined,
      o ? readFloat32(d, o.mu, V) : undefined,
      o ? readFloat32(d, o.lambda, this.model.hidden) : undefined,
    ]);
    const step = new Uint32Array(counter)[0];
    return {
      step, hiddenMean, ...(chains ? { chains } : {}),
      ...(mu && lambda ? { offsets: { visible: mu, hidden: lambda } } : {}),
    };
  }

  /** Puts a state from readState() back (a resumed run): the step, q and (PCD) the chains. */
  restoreState(state: TrainerState): void {
    this.assertLive();
    const H = this.model.hidden;
    if (!Number.isInteger(state?.step) || state.step < 0 || state.step > 0xffffffff) {
      throw new RangeError(`restoreState: step must be an integer in [0, 2^32), got ${showValue(state?.step)}`);
    }
    if (!(state.hiddenMean instanceof Float32Array) || state.hiddenMean.length !== H) {
      throw new RangeError(`restoreState: hiddenMean must be a Float32Array of ${H} values, got ${state.hiddenMean?.length}`);
    }
    checkFiniteArray('restoreState hiddenMean', state.hiddenMean);
    const o = this.offsets;
    if ((state.offsets !== undefined) !== (o !== undefined)) {
      throw new RangeError(
        o ? 'restoreState: this trainer is centered and needs offsets { visible, hidden }; the state has none'
          : 'restoreState: the state has centering offsets but this trainer is not centered (create it with centered)',
      );
    }
    if (o && state.offsets) {
      checkOffsets('restoreState offsets.visible', state.offsets.visible, this.model.visible);
      checkOffsets('restoreState offsets.hidden', state.offsets.hidden, H);
    }
    if (state.chains !== undefined) this.initChains(state.chains);
    const d = this.model.device;
    if (o && state.offsets) {
      writeArray(d, o.mu, 0, state.offsets.visible);
      writeArray(d, o.lambda, 0, state.offsets.hidden);
    }
    writeArray(d, this.hiddenMean, 0, state.hiddenMean);
    writeArray(d, this.counter, 0, new Uint32Array([state.step]));
    this.step = state.step;
  }

  /** Waits until every update submitted so far has run (a DeviceLostError if the device is lost first). */
  async flush(): Promise<void> {
    const device = this.model.device;
    await raceLoss(device, device.queue.onSubmittedWorkDone());
  }

  private assertLive(): void {
    this.owner.assertLive();
    this.model.assertLive();
  }

  get isDisposed(): boolean {
    return this.owner.isDisposed;
  }

  dispose(): void {
    this.owner.dispose();
  }
}

/** What a trainer carries between updates besides W, b, c and their velocities (readState / restoreState). */
export interface TrainerState {
  /** counter[0]: updates run so far, the step keying the RNG. */
  step: number;
  /** q [H], the sparsity estimates. */
  hiddenMean: Float32Array;
  /** The persistent chains' visible states [chains, V] (PCD; absent for CD). */
  chains?: Float32Array;
  /** Centered trainers: the offsets μ [V] and λ [H] (absent for the plain update). */
  offsets?: { visible: Float32Array; hidden: Float32Array };
}

/** Offsets start where the units of a fresh model are, p ≈ 1/2, unless given. */
const INITIAL_OFFSET = 0.5;

function checkOffsets(name: string, a: unknown, n: number): void {
  if (!(a instanceof Float32Array) || a.length !== n) {
    throw new RangeError(`${name} must be a Float32Array of ${n} values, got ${showValue((a as { length?: unknown } | undefined)?.length ?? a)}`);
  }
  checkFiniteArray(name, a);
}

/** Checks a trainer's centered option: the rate in [0, 1], offsets of the model's sizes, binary visible units. */
function checkCentering(c: CenteringOptions, model: TrainableModel): void {
  if (c === null || typeof c !== 'object') {
    throw new RangeError(`centered must be an object { rate, visibleOffset?, hiddenOffset? }, got ${showValue(c)}`);
  }
  checkFiniteNumber('centered.rate', c.rate, 0);
  if (c.rate > 1) throw new RangeError(`centered.rate must be in [0, 1], got ${c.rate}`);
  if (model.visibleType !== 'bernoulli') {
    throw new RangeError(`centered gradients support binary (bernoulli) visible units only, not ${model.visibleType}; leave centered out`);
  }
  if (c.visibleOffset !== undefined) checkOffsets('centered.visibleOffset', c.visibleOffset, model.visible);
  if (c.hiddenOffset !== undefined) checkOffsets('centered.hiddenOffset', c.hiddenOffset, model.hidden);
}

/**
 * updateSchedule with N persistent chains in rows [B, B + N) instead of B:
 * passes over the chains get N rows; the metric's reconstruction of the data
 * keeps B. With N = B the schedule is unchanged.
 */
function chainSchedule(passes: Pass[], B: number, N: number): Pass[] {
  if (N === B) return passes;
  return passes.map((p) => {
    if (p.kind === 'hidden') return { ...p, rows: p.rowOffset === 0 ? p.rows - B + N : N };
    return p.inOffset === B ? { ...p, rows: N } : p;
  });
}

const GEMM_KERNELS = ['hidden', 'visible', 'update'] as const;

/**
 * Checks a `tile` option ('auto', one TileShape, or one per GEMM kernel) up
 * front: every field's type and range, the workgroup against this device's
 * limits, and subgroup tiles against its features.
 */
export function checkTileOption(device: GPUDevice, tile: unknown, name = 'tile'): void {
  if (tile === 'auto') return;
  if (tile === null || typeof tile !== 'object') {
    throw new RangeError(`${name} must be 'auto', a tile shape { wgCols, wgRows, threadRows, tileK, shared } or one per kernel { hidden, visible, update }, got ${showValue(tile)}`);
  }
  if ('hidden' in tile) {
    for (const k of GEMM_KERNELS) checkTileShape(device, (tile as Record<string, unknown>)[k], `${name}.${k}`);
    return;
  }
  checkTileShape(device, tile, name);
}

function checkTileShape(device: GPUDevice, t: unknown, name: string): void {
  if (t === null || typeof t !== 'object') {
    throw new RangeError(`${name} must be a tile shape { wgCols, wgRows, threadRows, tileK, shared }, got ${showValue(t)}`);
  }
  const s = t as Partial<TileShape>;
  checkSize(`${name}.wgCols`, s.wgCols);
  checkSize(`${name}.wgRows`, s.wgRows);
  checkSize(`${name}.threadRows`, s.threadRows);
  checkSize(`${name}.tileK`, s.tileK);
  checkBoolean(`${name}.shared`, s.shared);
  if (s.vecCols !== undefined) checkSize(`${name}.vecCols`, s.vecCols);
  if (s.subgroups !== undefined) checkBoolean(`${name}.subgroups`, s.subgroups);
  const invocations = s.wgCols! * s.wgRows!;
  const l = device.limits;
  if (invocations > l.maxComputeInvocationsPerWorkgroup || s.wgCols! > l.maxComputeWorkgroupSizeX || s.wgRows! > l.maxComputeWorkgroupSizeY) {
    throw new RangeError(
      `${name}: a ${s.wgCols}×${s.wgRows} workgroup exceeds this device's limits ` +
        `(maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}, ` +
        `maxComputeWorkgroupSizeX ${l.maxComputeWorkgroupSizeX}, maxComputeWorkgroupSizeY ${l.maxComputeWorkgroupSizeY})`,
    );
  }
  if (s.subgroups && !device.features.has('subgroups')) {
    throw new RangeError(`${name}.subgroups needs the device feature 'subgroups', which this device lacks`);
  }
  tileConstants(s as TileShape); // threadRows, vecCols ranges; subgroups with shared
}

/** Expands a tile option to one shape per GEMM kernel. */
export async function resolveTiles(
  device: GPUDevice,
  tile: 'auto' | TileShape | TileChoice,
  problem?: TuneProblem,
): Promise<TileChoice> {
  if (tile === 'auto') return chooseTiles(device, problem);
  if ('hidden' in tile) return tile;
  return { hidden: tile, visible: tile, update: tile };
}
