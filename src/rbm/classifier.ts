// Softmax (multinomial logistic) regression trained on the GPU: the classifier
// that turns an RBM's features (P(h|v), see RBM.transform) or raw pixels into
// class predictions, so the two can be compared with the same optimiser.
//
//   logits z = x·W + b (x [D], W [D, K], b [K]),  p = softmax(z)
//   loss     = mean over rows of −log p_y  +  (weightDecay / 2)·‖W‖²  (b not penalised)
//   step     = mini-batch gradient descent with (heavy-ball) momentum:
//              vel ← momentum·vel − lr_e·∇loss_batch;  θ ← θ + vel
//              with lr_e = learningRate·(1 − e/epochs) in epoch e = 0, 1, …
//              (schedule 'linear', the default: the steps shrink as the fit
//              settles, so the last epochs average out mini-batch noise) or
//              lr_e = learningRate ('constant').
//
// By default the regression is fitted on standardised columns, (x − mean)/std
// with the training rows' mean and std (a std below STD_FLOOR × the RMS of
// all columns' stds is raised to it, so a constant or nearly constant column is
// not blown up), and the result is folded back into W and b afterwards:
//   W_dk = W'_dk / s_d,   b_k = b'_k − Σ_d m_d · W'_dk / s_d
// so W, b, predict and evaluate all take the raw inputs. Standardising makes
// one learning rate work for pixels in [0, 1] and for features whose values
// hardly vary (the hidden probabilities of a briefly trained RBM), and the L2
// penalty (applied to W') treats every column alike.
//
// Weights start at zero (the loss is convex, so nothing random is needed) and
// each epoch visits the rows in a seeded order (shuffledPermutation), so a fit
// is deterministic given its seed. Per mini-batch, three dispatches and no CPU
// round trip: softmax_forward (probabilities of the batch's rows),
// softmax_update (the step, in place on W, b and their velocities) and advance
// (the step counter the next batch's rows are read from). An epoch is one
// command buffer; the epoch's row order is written to the GPU before it.
//
// Inputs larger than one storage binding are split into shards of whole rows;
// a mini-batch never crosses a shard (each shard's rows are shuffled on their
// own and the shards visited in a shuffled order), which for one shard — every
// input under the device's binding limit — is plain shuffled mini-batch SGD.
import { BufferOwner, checkHostFactors, checkStorageFactors, readFloat32, storageLimit, writeArray } from '../gpu/buffers';
import { contextOf, deviceOf, type DeviceLike } from '../gpu/context';
import { elementGrid, getKernel, KERNELS, SOFTMAX_MAX_CLASSES, type KernelOf } from '../gpu/kernels';
import { shuffledPermutation } from '../data/split';
import {
  checkBelow, checkBoolean, checkEnum, checkFiniteArray, checkFiniteNumber, checkFunction, checkSeed, checkSize, showValue,
} from './validate';

export interface SoftmaxClassifierOptions {
  /** D: values per input row (features or pixels). */
  inputs: number;
  /** K: classes; labels are 0..K−1 (at most SOFTMAX_MAX_CLASSES). */
  classes: number;
}

export interface SoftmaxFitOptions {
  /** Passes over the data [20]. */
  epochs?: number;
  /** Rows per gradient step [100]; the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** [0.1] */
  learningRate?: number;
  /** Heavy-ball momentum in [0, 1) [0.9]. */
  momentum?: number;
  /** L2 penalty on W (not b; on the standardised inputs' W' when standardize): adds weightDecay·W to the gradient [3e-3]. */
  weightDecay?: number;
  /** 'linear': the learning rate falls linearly over the epochs, learningRate·(1 − e/epochs) in epoch e; 'constant' ['linear']. */
  schedule?: SoftmaxSchedule;
  /** Fixes the order the rows are visited in [1]. */
  seed?: number;
  /** Fit on standardised columns and fold the scaling into W and b (see the file comment) [true]. */
  standardize?: boolean;
  /** Continue from the current W and b instead of zeros (velocities still start at zero) [false]. */
  warmStart?: boolean;
  /**
   * The most rows one GPU buffer of inputs holds (default: as many as the
   * device's storage binding limit allows). Smaller values split the inputs
   * into shards, as a too-large input would be (see the file comment).
   */
  maxShardRows?: number;
  /** Called after each epoch has run on the GPU (1-based). */
  onEpoch?: (epoch: number, epochs: number) => void;
}

export type SoftmaxSchedule = 'linear' | 'constant';

export interface SoftmaxFitResult {
  epochs: number;
  /** Gradient steps taken. */
  steps: number;
  /** GPU buffers the inputs were split into (1 unless they exceed a binding). */
  shards: number;
  seconds: number;
}

export interface SoftmaxEvaluation {
  /** Mean cross-entropy −log p_y over the rows, in nats (without the L2 term). */
  loss: number;
  /** Fraction of rows whose most probable class is their label. */
  accuracy: number;
  correct: number;
  count: number;
}

export interface SoftmaxParams {
  /** [inputs, classes], row-major. */
  W: Float32Array;
  /** [classes] */
  b: Float32Array;
}

export const SOFTMAX_DEFAULTS = {
  epochs: 20,
  batchSize: 100,
  learningRate: 0.1,
  momentum: 0.9,
  weightDecay: 3e-3,
  schedule: 'linear',
  standardize: true,
  seed: 1,
} as const;

/** The learning rate of epoch `epoch` (0-based) of `epochs` under `schedule`. */
export function softmaxLearningRate(learningRate: number, schedule: SoftmaxSchedule, epoch: number, epochs: number): number {
  return schedule === 'linear' ? learningRate * (1 - epoch / epochs) : learningRate;
}

/** A column's std is at least this fraction of the RMS of all columns' stds when standardising. */
export const STD_FLOOR = 0.1;

/** Per-column mean and scale (std, floored) of the standardisation; float64. */
export interface ColumnScaling {
  mean: Float64Array;
  scale: Float64Array;
}

/** The training rows' column means and floored stds (see STD_FLOOR). */
export function columnScaling(features: Float32Array, D: number): ColumnScaling {
  const n = features.length / D;
  const mean = new Float64Array(D);
  const scale = new Float64Array(D);
  for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) mean[d] += features[r * D + d];
  for (let d = 0; d < D; d++) mean[d] /= n;
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < D; d++) {
      const e = features[r * D + d] - mean[d];
      scale[d] += e * e;
    }
  }
  let meanVar = 0;
  for (let d = 0; d < D; d++) {
    scale[d] /= n;
    meanVar += scale[d] / D;
  }
  const floor = meanVar > 0 ? STD_FLOOR * Math.sqrt(meanVar) : 1;
  for (let d = 0; d < D; d++) scale[d] = Math.max(Math.sqrt(scale[d]), floor);
  return { mean, scale };
}

function standardized(features: Float32Array, D: number, s: ColumnScaling): Float32Array {
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) {
    const d = i % D;
    out[i] = (features[i] - s.mean[d]) / s.scale[d];
  }
  return out;
}

/** Raw-input parameters as parameters of the standardised inputs (the inverse of unfold). */
function fold(p: SoftmaxParams, D: number, K: number, s: ColumnScaling): SoftmaxParams {
  const W = new Float32Array(D * K);
  const b = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let shift = p.b[k];
    for (let d = 0; d < D; d++) {
      W[d * K + k] = p.W[d * K + k] * s.scale[d];
      shift += s.mean[d] * p.W[d * K + k];
    }
    b[k] = shift;
  }
  return { W, b };
}

/** Parameters of the standardised inputs as raw-input ones: W = W'/s, b = b' − Σ m·W'/s. */
function unfold(p: SoftmaxParams, D: number, K: number, s: ColumnScaling): SoftmaxParams {
  const W = new Float32Array(D * K);
  const b = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let shift = p.b[k];
    for (let d = 0; d < D; d++) {
      const w = p.W[d * K + k] / s.scale[d];
      W[d * K + k] = w;
      shift -= s.mean[d] * w;
    }
    b[k] = shift;
  }
  return { W, b };
}

/** The most classes the classifier takes (softmax_forward.wgsl's MAX_CLASSES). */
export { SOFTMAX_MAX_CLASSES };

/** Spreads shard s's seed so that equal-sized shards are not shuffled alike. */
const SHARD_SEED_STRIDE = 0x9e3779b9;

/** Row ranges [start, end) of the shards `rows` rows are split into. */
export function softmaxShards(rows: number, shardRows: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < rows; s += shardRows) out.push([s, Math.min(rows, s + shardRows)]);
  return out;
}

/** The shard order of an epoch and each shard's row order (shard-local indices). */
function epochOrder(shards: ReadonlyArray<[number, number]>, seed: number, epoch: number): { order: Uint32Array; perms: Uint32Array[] } {
  const order = shards.length === 1 ? Uint32Array.of(0) : shuffledPermutation(shards.length, seed, epoch);
  const perms = shards.map(([a, b], s) => shuffledPermutation(b - a, (seed + s * SHARD_SEED_STRIDE) >>> 0, epoch));
  return { order, perms };
}

/**
 * The mini-batches of one epoch in the order fit() takes them, as global row
 * indices: what a reference implementation replays to check the GPU's steps.
 */
export function softmaxEpochBatches(rows: number, batchSize: number, seed: number, epoch: number, shardRows = rows): Uint32Array[] {
  const shards = softmaxShards(rows, shardRows);
  const { order, perms } = epochOrder(shards, seed >>> 0, epoch);
  const out: Uint32Array[] = [];
  for (const s of order) {
    const [first] = shards[s];
    const perm = perms[s];
    for (let at = 0; at < perm.length; at += batchSize) {
      out.push(perm.slice(at, at + batchSize).map((r) => r + first));
    }
  }
  return out;
}

/** The labels as u32, checked: `count` integers in 0..classes−1. */
function checkLabels(labels: ArrayLike<number>, count: number, classes: number): Uint32Array {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new RangeError(`labels must be an array of class indices, got ${showValue(labels)}`);
  }
  if (labels.length !== count) {
    throw new RangeError(`labels has ${labels.length} entries but the features have ${count} rows; pass one label per row`);
  }
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new RangeError(`label ${showValue(y)} at row ${i} is not a class index in 0..${classes - 1}`);
    }
    out[i] = y;
  }
  return out;
}

type ForwardKernel = KernelOf<typeof KERNELS.softmaxForward>;
type UpdateKernel = KernelOf<typeof KERNELS.softmaxUpdate>;
type AdvanceKernel = KernelOf<typeof KERNELS.advance>;

export class SoftmaxClassifier {
  readonly inputs: number;
  readonly classes: number;
  readonly device: GPUDevice;
  private readonly owner: BufferOwner;
  private readonly W: GPUBuffer;
  private readonly b: GPUBuffer;
  private busy = false;

  /** A classifier with W = 0 and b = 0 (every class equally likely) on `device`. */
  constructor(device: DeviceLike, options: SoftmaxClassifierOptions) {
    if (options === null || typeof options !== 'object') throw new RangeError(`options must be { inputs, classes }, got ${showValue(options)}`);
    checkSize('inputs', options.inputs);
    checkSize('classes', options.classes);
    if (options.classes < 2 || options.classes > SOFTMAX_MAX_CLASSES) {
      throw new RangeError(`classes must be an integer in 2..${SOFTMAX_MAX_CLASSES}, got ${options.classes}`);
    }
    this.device = deviceOf(device);
    this.inputs = options.inputs;
    this.classes = options.classes;
    checkStorageFactors(this.device, 'softmax weights', [{ value: this.inputs, what: 'inputs' }, { value: this.classes, what: 'classes' }]);
    this.owner = new BufferOwner(device, 'softmax classifier');
    this.W = this.owner.storage('W', this.inputs * this.classes * 4);
    this.b = this.owner.storage('b', this.classes * 4);
  }

  get isDisposed(): boolean {
    return this.owner.isDisposed;
  }

  dispose(): void {
    this.owner.dispose();
  }

  /** W [inputs, classes] and b [classes]. */
  async readParams(): Promise<SoftmaxParams> {
    this.owner.assertLive();
    const [W, b] = await Promise.all([
      readFloat32(this.device, this.W, this.inputs * this.classes),
      readFloat32(this.device, this.b, this.classes),
    ]);
    return { W, b };
  }

  /** Replaces W and b (e.g. a classifier saved earlier, or a test's starting point). */
  writeParams(p: SoftmaxParams): void {
    this.owner.assertLive();
    this.assertIdle('writeParams');
    if (!(p?.W instanceof Float32Array) || p.W.length !== this.inputs * this.classes) {
      throw new RangeError(`W must be a Float32Array of inputs × classes = ${this.inputs * this.classes} values, got ${showValue(p?.W?.length)}`);
    }
    if (!(p.b instanceof Float32Array) || p.b.length !== this.classes) {
      throw new RangeError(`b must be a Float32Array of ${this.classes} values, got ${showValue(p.b?.length)}`);
    }
    checkFiniteArray('W', p.W);
    checkFiniteArray('b', p.b);
    this.writeRaw(p);
  }

  private writeRaw(p: SoftmaxParams): void {
    writeArray(this.device, this.W, 0, p.W);
    writeArray(this.device, this.b, 0, p.b);
  }

  private assertIdle(what: string): void {
    if (this.busy) throw new Error(`${what}: this classifier is being trained; await fit() first`);
  }

  private rowsOf(name: string, features: Float32Array): number {
    if (!(features instanceof Float32Array) || features.length === 0 || features.length % this.inputs !== 0) {
      throw new RangeError(
        `${name} must be a non-empty Float32Array of rows × ${this.inputs} inputs, got ${features instanceof Float32Array ? features.length + ' values' : showValue(features)}`,
      );
    }
    return features.length / this.inputs;
  }

  /** Rows of `inputs` values one storage binding holds, capped by `cap`. */
  private shardRows(cap?: number): number {
    const fit = Math.floor(storageLimit(this.device).bytes / (4 * this.inputs));
    if (fit < 1) {
      checkStorageFactors(this.device, 'softmax inputs', [{ value: 1, what: 'row' }, { value: this.inputs, what: 'inputs' }]);
    }
    return Math.max(1, Math.min(fit, cap ?? Infinity, this.device.limits.maxComputeWorkgroupsPerDimension ** 2));
  }

  /**
   * Trains on `features` ([rows, inputs], row-major) and `labels` (one class
   * index per row). Starts from zeros unless `warmStart`. Throws a RangeError
   * if the weights become non-finite (lower learningRate).
   */
  async fit(features: Float32Array, labels: ArrayLike<number>, options: SoftmaxFitOptions = {}): Promise<SoftmaxFitResult> {
    this.owner.assertLive();
    this.assertIdle('fit');
    const n = this.rowsOf('features', features);
    const y = checkLabels(labels, n, this.classes);
    const o = { ...SOFTMAX_DEFAULTS, ...stripUndefined(options) };
    checkSize('epochs', o.epochs);
    checkSize('batchSize', o.batchSize);
    checkFiniteNumber('learningRate', o.learningRate, 0);
    checkBelow('momentum', o.momentum, 0, 1);
    checkFiniteNumber('weightDecay', o.weightDecay, 0);
    checkSeed('seed', o.seed);
    checkEnum('schedule', o.schedule, ['linear', 'constant'] as const);
    checkBoolean('standardize', o.standardize);
    if (options.warmStart !== undefined) checkBoolean('warmStart', options.warmStart);
    if (options.maxShardRows !== undefined) checkSize('maxShardRows', options.maxShardRows);
    if (options.onEpoch !== undefined) checkFunction('onEpoch', options.onEpoch);
    checkFiniteArray('features', features);
    if (o.standardize) checkHostFactors('standardised softmax inputs', [{ value: n, what: 'rows' }, { value: this.inputs, what: 'inputs' }]);
    const batch = Math.min(o.batchSize, n);
    const K = this.classes;
    const D = this.inputs;
    checkStorageFactors(this.device, 'softmax batch probabilities', [{ value: batch, option: 'batchSize' }, { value: K, what: 'classes' }]);
    const shards = softmaxShards(n, this.shardRows(options.maxShardRows));
    const seed = o.seed >>> 0;

    const [forward, update, advance] = await Promise.all([
      getKernel(this.device, KERNELS.softmaxForward()),
      getKernel(this.device, KERNELS.softmaxUpdate()),
      getKernel(this.device, KERNELS.advance()),
    ]);
    this.owner.assertLive();
    this.busy = true;
    const start = performance.now();
    const t = new BufferOwner(this.device, 'softmax fit');
    try {
      const scaling = o.standardize ? columnScaling(features, D) : undefined;
      const x = scaling ? standardized(features, D, scaling) : features;
      if (!options.warmStart) {
        writeArray(this.device, this.W, 0, new Float32Array(D * K));
        writeArray(this.device, this.b, 0, new Float32Array(K));
      } else if (scaling) {
        this.writeRaw(fold(await this.readParams(), D, K, scaling));
      }
      const wVel = t.storage('w_vel', D * K * 4);
      const bVel = t.storage('b_vel', K * 4);
      const prob = t.storage('prob', batch * K * 4);
      const optimFor = (epoch: number): ArrayBuffer =>
        update.pack('optim', {
          learning_rate: softmaxLearningRate(o.learningRate, o.schedule, epoch, o.epochs),
          momentum: o.momentum,
          weight_decay: o.weightDecay,
        });
      const optim = t.uniform('optim', optimFor(0));
      const plans = shards.map(([a, b], s) =>
        this.shardPlan(t, { forward, update, advance }, s, x.subarray(a * D, b * D), y.subarray(a, b), batch, { prob, optim, wVel, bVel }),
      );
      const forwardGrid = this.rowGrid(batch);
      const updateGrid = elementGrid(this.device, (D + 1) * K);
      let steps = 0;
      for (let epoch = 0; epoch < o.epochs; epoch++) {
        const { order, perms } = epochOrder(shards, seed, epoch);
        perms.forEach((p, s) => writeArray(this.device, plans[s].perm, 0, p));
        // Queue writes land between the submits around them: this epoch's order and learning rate.
        if (epoch > 0 && o.schedule === 'linear') this.device.queue.writeBuffer(optim, 0, optimFor(epoch));
        const encoder = this.device.createCommandEncoder({ label: `softmax epoch ${epoch + 1}` });
        const pass = encoder.beginComputePass({ label: `softmax epoch ${epoch + 1}` });
        for (const s of order) {
          const plan = plans[s];
          for (let q = 0; q < plan.batches; q++) {
            forward.dispatch(pass, plan.forwardGroup, ...forwardGrid);
            update.dispatch(pass, plan.updateGroup, ...updateGrid);
            advance.dispatch(pass, plan.advanceGroup, 1);
            steps++;
          }
        }
        pass.end();
        this.device.queue.submit([encoder.finish()]);
        await contextOf(this.device).raceLoss(this.device.queue.onSubmittedWorkDone());
        options.onEpoch?.(epoch + 1, o.epochs);
      }
      let params = await this.readParams();
      if (scaling) {
        params = unfold(params, D, K, scaling);
        this.writeRaw(params);
      }
      const bad = [params.W, params.b].some((a) => a.some((v) => !Number.isFinite(v)));
      if (bad) {
        throw new RangeError(
          `softmax regression diverged: non-finite weights after ${o.epochs} epochs at learningRate ${o.learningRate}; lower learningRate (or momentum)`,
        );
      }
      return { epochs: o.epochs, steps, shards: shards.length, seconds: (performance.now() - start) / 1000 };
    } finally {
      this.busy = false;
      t.dispose();
    }
  }

  private rowGrid(rows: number): [number, number] {
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(rows, maxX);
    return [x, Math.ceil(rows / x)];
  }

  private shardPlan(
    t: BufferOwner,
    k: { forward: ForwardKernel; update: UpdateKernel; advance: AdvanceKernel },
    s: number,
    x: Float32Array,
    labels: Uint32Array,
    batch: number,
    shared: { prob: GPUBuffer; optim: GPUBuffer; wVel: GPUBuffer; bVel: GPUBuffer },
  ): { perm: GPUBuffer; batches: number; forwardGroup: GPUBindGroup; updateGroup: GPUBindGroup; advanceGroup: GPUBindGroup } {
    const rows = labels.length;
    const batches = Math.ceil(rows / batch);
    const xBuf = t.storage(`x ${s}`, x);
    const yBuf = t.storage(`labels ${s}`, labels);
    const perm = t.storage(`perm ${s}`, rows * 4);
    const state = t.storage(`state ${s}`, new Uint32Array(4));
    const dims = t.uniform(`dims ${s}`, k.forward.pack('dims', { rows, n_in: this.inputs, classes: this.classes, batch, batches }));
    const common = { dims, state, perm, x: xBuf };
    return {
      perm,
      batches,
      forwardGroup: k.forward.bind({ ...common, W: this.W, b: this.b, prob: shared.prob }),
      updateGroup: k.update.bind({
        ...common, optim: shared.optim, labels: yBuf, prob: shared.prob, W: this.W, b: this.b, w_vel: shared.wVel, b_vel: shared.bVel,
      }),
      advanceGroup: k.advance.bind({ counter: state }),
    };
  }

  /** P(class | row) for each row: [rows, classes], row-major. */
  async predictProba(features: Float32Array): Promise<Float32Array> {
    this.owner.assertLive();
    this.assertIdle('predictProba');
    const n = this.rowsOf('features', features);
    checkFiniteArray('features', features);
    const K = this.classes;
    const D = this.inputs;
    checkHostFactors('softmax probabilities', [{ value: n, what: 'rows' }, { value: K, what: 'classes' }]);
    const forward = await getKernel(this.device, KERNELS.softmaxForward());
    this.owner.assertLive();
    // Blocks whose inputs and probabilities each fit one binding.
    const probRows = Math.floor(storageLimit(this.device).bytes / (4 * K));
    const block = Math.min(this.shardRows(), probRows);
    const out = new Float32Array(n * K);
    for (const [a, b] of softmaxShards(n, block)) {
      const rows = b - a;
      const t = new BufferOwner(this.device, 'softmax predict');
      try {
        const identity = new Uint32Array(rows);
        for (let i = 0; i < rows; i++) identity[i] = i;
        const prob = t.storage('prob', rows * K * 4);
        const group = forward.bind({
          dims: t.uniform('dims', forward.pack('dims', { rows, n_in: D, classes: K, batch: rows, batches: 1 })),
          state: t.storage('state', new Uint32Array(4)),
          perm: t.storage('perm', identity),
          x: t.storage('x', features.subarray(a * D, b * D)),
          W: this.W,
          b: this.b,
          prob,
        });
        const encoder = this.device.createCommandEncoder({ label: 'softmax predict' });
        const pass = encoder.beginComputePass();
        forward.dispatch(pass, group, ...this.rowGrid(rows));
        pass.end();
        this.device.queue.submit([encoder.finish()]);
        out.set(await readFloat32(this.device, prob, rows * K), a * K);
      } finally {
        t.dispose();
      }
    }
    return out;
  }

  /** The most probable class of each row (the lowest index on a tie). */
  async predict(features: Float32Array): Promise<Uint32Array> {
    return argmaxRows(await this.predictProba(features), this.classes);
  }

  /** Fraction of rows whose predicted class is their label. */
  async accuracy(features: Float32Array, labels: ArrayLike<number>): Promise<number> {
    return (await this.evaluate(features, labels)).accuracy;
  }

  /** Mean cross-entropy and accuracy on labelled rows. */
  async evaluate(features: Float32Array, labels: ArrayLike<number>): Promise<SoftmaxEvaluation> {
    const n = this.rowsOf('features', features);
    const y = checkLabels(labels, n, this.classes);
    const p = await this.predictProba(features);
    const K = this.classes;
    const predicted = argmaxRows(p, K);
    let loss = 0;
    let correct = 0;
    for (let r = 0; r < n; r++) {
      // A probability that underflowed to 0 counts as the smallest normal float32.
      loss -= Math.log(Math.max(p[r * K + y[r]], 1.1754943508222875e-38));
      if (predicted[r] === y[r]) correct++;
    }
    return { loss: loss / n, accuracy: correct / n, correct, count: n };
  }
}

function argmaxRows(p: Float32Array, K: number): Uint32Array {
  const n = p.length / K;
  const out = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[r * K + k] > p[r * K + best]) best = k;
    out[r] = best;
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
