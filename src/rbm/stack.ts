// Stacked RBMs (a deep belief net): RBMs trained greedily layer by layer. The
// bottom RBM learns the data; the RBM of layer l + 1 learns layer l's hidden
// probabilities P(h | v) of the data, resampled each epoch as Bernoulli states
// (fit's stochastic binarization of values in [0, 1]). Features are the up-pass
// of probabilities through all or the first `depth` layers; samples come from
// Gibbs chains in the top RBM, passed down through the layers below as means
// P(v | h) (the directed generative part of the net, without its noise).
import { BufferOwner, checkHostFactors, checkStorageFactors, readFloat32, type SizeFactor } from '../gpu/buffers';
import { getKernel, KERNELS, VISIBLE_FLAGS } from '../gpu/kernels';
import { DispatchPlan, kernelTile } from '../gpu/plan';
import { chooseTiles } from '../gpu/tune';
import { checkDataSource, sourceLength, sourceRows, type DataSource } from '../data/source';
import { binarizeThreshold } from '../data/binarize';
import { unitType } from '../units';
import { RBM, type ModelFileOptions } from './model';
import type { FitOptions, FitResult } from './fit';
import type { ModelParams } from './params';
import type { SampleResult } from './sampler';
import { columnMeans } from './init';
import {
  stackFromSafetensors, stackToSafetensors, type StackFile, type StackVisibleType,
} from './stack-file';
import type { ImageShape, ModelStandardisation } from './model-file';
import { checkFiniteNumber, checkFunction, checkInteger, checkSeed, checkSize, showValue } from './validate';

export interface RBMStackOptions {
  /** Unit counts bottom to top, [visible, hidden₁, hidden₂, …]: at least two, each ≥ 1. */
  sizes: number[];
  /** Layer l is created (and, by default, trained and sampled) with seed + l (default seed 1). */
  seed?: number;
  /** Standard deviation of the initial weights of every layer (default 0.01). */
  weightScale?: number;
  /** The bottom layer's visible units: 'bernoulli' (default) or 'gaussian'. Every layer above is binary. */
  visibleType?: StackVisibleType;
  /** The bottom layer's data means, for its visible bias (as RBMOptions.visibleMarginals). */
  visibleMarginals?: ArrayLike<number>;
}

/** What a layer's training is told before and after it runs. */
export interface StackLayerInfo {
  /** 0 for the bottom layer. */
  layer: number;
  visible: number;
  hidden: number;
  /** Rows of its training data. */
  rows: number;
  /** Seconds spent computing its training data (the up-pass through the layers below; 0 for the bottom). */
  upPassSeconds: number;
}

export interface StackFitOptions {
  /**
   * Each layer's training options, or a function giving layer l's. Layers
   * above the bottom train on probabilities in [0, 1]: their `binarize`
   * defaults to 'stochastic' (Bernoulli states drawn afresh each epoch); their
   * `seed` defaults to their own model's seed.
   */
  layers: FitOptions | ((layer: number) => FitOptions);
  /**
   * Prepares blocks of bottom-layer input rows ([rows, visible] float32, as
   * sourceRows gives them) for the up-pass that makes layer 1's training data:
   * e.g. thresholding, or a Gaussian layer's standardisation. Default: the
   * values as they are, or thresholded when the bottom layer's `binarize` is
   * 'threshold' (at its `threshold`, default 0.5).
   */
  input?: (rows: Float32Array) => Float32Array;
  /**
   * The first layer to train (default 0). The layers below it are taken as
   * trained: the up-pass computes its data through them.
   */
  from?: number;
  /**
   * Set the visible bias of each layer above the bottom from its training
   * data's means before it trains (b = logit(mean), as
   * RBMOptions.visibleMarginals does). Default: for the layers that are fresh
   * from RBMStack.create and not trained yet; a trained layer keeps its bias.
   */
  biasFromData?: boolean;
  onLayerStart?: (info: StackLayerInfo) => void | Promise<void>;
  onLayerEnd?: (info: StackLayerInfo & { result: FitResult }) => void | Promise<void>;
  /** Cancels the layer training now (its fit stops at the next chunk) and every layer after it. */
  signal?: AbortSignal;
}

export interface StackFitResult {
  /** One result per layer trained, bottom first (from `from`). */
  layers: FitResult[];
  /** True when the signal stopped training before every layer had finished. */
  cancelled: boolean;
  /** Seconds of training (every layer's fit) and of the up-passes that made the upper layers' data. */
  seconds: number;
  upPassSeconds: number;
}

export interface StackSampleOptions {
  chains: number;
  /** Gibbs sweeps in the top RBM. */
  steps: number;
  /** Keep the state every this many sweeps (default: only the last). */
  keepEvery?: number;
  /** The top RBM's sampling seed (default: derived from its model seed, as RBM.sample). */
  seed?: number;
}

export interface StackSampleResult {
  /** The bottom layer's means after the down-pass, [kept, chains, visible]: pixel probabilities (Gaussian: values). */
  probabilities: Float32Array;
  kept: number;
  chains: number;
  /** The top RBM's own kept states: its visible samples and probabilities, [kept, chains, sizes[L − 1]]. */
  top: SampleResult;
}

/** A stack read by RBMStack.fromSafetensors. */
export interface LoadedStack {
  stack: RBMStack;
  metadata: Record<string, string>;
  /** Each layer's own training record (layer_metadata), bottom first. */
  layerMetadata: Record<string, string>[];
  standardisation?: ModelStandardisation;
  imageShape?: ImageShape;
  /** True when the file was a single-RBM file, read as a one-layer stack. */
  singleRbm: boolean;
}

/** Most float32 values one up- or down-pass block holds per buffer (32 MiB), far under every binding limit. */
const BLOCK_VALUES = 8 * 1024 * 1024;

const blockRows = (width: number): number => Math.max(1, Math.floor(BLOCK_VALUES / width));

export class RBMStack {
  /** The unit counts bottom to top. */
  readonly sizes: readonly number[];

  /** Per layer: still as RBMStack.create initialised it (no fit has run on it). */
  private readonly fresh: boolean[];

  private constructor(
    readonly device: GPUDevice,
    /** The RBMs, bottom first: layers[l] is sizes[l] × sizes[l + 1]. The stack owns (and disposes) them. */
    readonly layers: readonly RBM[],
    fresh: boolean,
  ) {
    this.sizes = [layers[0].visible, ...layers.map((m) => m.hidden)];
    this.fresh = layers.map(() => fresh);
  }

  /** A fresh stack of randomly initialised RBMs. */
  static create(device: GPUDevice, options: RBMStackOptions): RBMStack {
    if (options === null || typeof options !== 'object') throw new RangeError(`stack options must be an object, got ${showValue(options)}`);
    checkStackSizes(options.sizes);
    const seed = options.seed ?? 1;
    checkSeed('seed', seed);
    if (options.weightScale !== undefined) checkFiniteNumber('weightScale', options.weightScale, 0);
    const visibleType = options.visibleType ?? 'bernoulli';
    if (visibleType !== 'bernoulli' && visibleType !== 'gaussian') {
      throw new RangeError(`visibleType must be 'bernoulli' or 'gaussian' (the bottom layer of a stack), got ${showValue(visibleType)}`);
    }
    const layers: RBM[] = [];
    try {
      for (let l = 0; l + 1 < options.sizes.length; l++) {
        layers.push(RBM.create(device, {
          visible: options.sizes[l],
          hidden: options.sizes[l + 1],
          seed: (seed + l) >>> 0,
          ...(options.weightScale !== undefined ? { weightScale: options.weightScale } : {}),
          ...(l === 0 ? { visibleType, ...(options.visibleMarginals ? { visibleMarginals: options.visibleMarginals } : {}) } : {}),
        }));
      }
    } catch (e) {
      layers.forEach((m) => m.dispose());
      throw e;
    }
    return new RBMStack(device, layers, true);
  }

  /**
   * A stack of existing RBMs (bottom first), which it then owns: each layer's
   * hidden units must be the next one's visible units, and every layer above
   * the bottom must have binary (Bernoulli) visible units.
   */
  static fromLayers(layers: RBM[]): RBMStack {
    if (!Array.isArray(layers) || layers.length === 0 || !layers.every((m) => m instanceof RBM)) {
      throw new RangeError(`layers must be a non-empty array of RBMs, bottom first, got ${showValue(layers)}`);
    }
    const device = layers[0].device;
    layers.forEach((m, l) => {
      m.assertLive();
      if (m.device !== device) throw new RangeError(`layer ${l} lives on another device than layer 0; a stack runs on one device`);
      if (l > 0 && layers[l - 1].hidden !== m.visible) {
        throw new RangeError(`layer ${l - 1} has ${layers[l - 1].hidden} hidden units but layer ${l} has ${m.visible} visible units; they must match`);
      }
      if (l > 0 && m.visibleType !== 'bernoulli') throw new RangeError(`layer ${l} has ${m.visibleType} visible units; every layer above the bottom must be binary ('bernoulli')`);
    });
    if (layers[0].visibleType !== 'bernoulli' && layers[0].visibleType !== 'gaussian') {
      throw new RangeError(`the bottom layer has ${layers[0].visibleType} visible units; a stack supports 'bernoulli' or 'gaussian'`);
    }
    return new RBMStack(device, [...layers], false);
  }

  /** Number of RBMs. */
  get depth(): number {
    return this.layers.length;
  }

  get visibleType(): StackVisibleType {
    return this.layers[0].visibleType as StackVisibleType;
  }

  /** The top layer's hidden units (the features' width at full depth). */
  get hidden(): number {
    return this.sizes[this.sizes.length - 1];
  }

  get visible(): number {
    return this.sizes[0];
  }

  get isDisposed(): boolean {
    return this.layers.some((m) => m.isDisposed);
  }

  /** Throws once any layer is disposed or the device is lost. */
  assertLive(): void {
    this.layers.forEach((m) => m.assertLive());
  }

  /**
   * Greedy layer-wise training on `data` ([N, visible]: float32 in [0, 1], u8
   * intensities or bits; standardised float32 for a Gaussian bottom layer).
   * Layer l + 1 trains on the float32 P(h | v) of layer l (computed once per
   * layer, by the up-pass of `input(data)` through the layers below); each of
   * its epochs draws Bernoulli states from those probabilities.
   */
  async fit(data: DataSource, options: StackFitOptions): Promise<StackFitResult> {
    this.assertLive();
    checkDataSource('data', data);
    if (options === null || typeof options !== 'object') throw new RangeError(`stack fit options must be an object, got ${showValue(options)}`);
    const perLayer = options.layers;
    if (perLayer === null || (typeof perLayer !== 'object' && typeof perLayer !== 'function')) {
      throw new RangeError(`layers must be FitOptions or a function of the layer index giving them, got ${showValue(perLayer)}`);
    }
    const from = options.from ?? 0;
    checkInteger('from', from, 0);
    if (from >= this.depth) throw new RangeError(`from must be below the stack's depth ${this.depth}, got ${from}`);
    if (options.input !== undefined) checkFunction('input', options.input);
    if (options.onLayerStart !== undefined) checkFunction('onLayerStart', options.onLayerStart);
    if (options.onLayerEnd !== undefined) checkFunction('onLayerEnd', options.onLayerEnd);
    const V = this.visible;
    const n = sourceLength(data);
    if (n === 0 || n % V !== 0) throw new RangeError(`data must hold a whole number of rows of visible=${V} values, got ${n} values`);
    const rows = n / V;
    const layerOptions = (l: number): FitOptions => {
      const o = typeof perLayer === 'function' ? perLayer(l) : perLayer;
      if (o === null || typeof o !== 'object') throw new RangeError(`layers(${l}) must return FitOptions, got ${showValue(o)}`);
      const withSignal = options.signal && o.signal === undefined ? { ...o, signal: options.signal } : o;
      return l === 0 ? withSignal : { binarize: 'stochastic', ...withSignal };
    };
    const bottom = layerOptions(0);
    const input = options.input ?? (bottom.binarize === 'threshold' ? (x: Float32Array) => binarizeThreshold(x, bottom.threshold ?? 0.5) : undefined);
    const results: FitResult[] = [];
    let seconds = 0;
    let upPassSeconds = 0;
    let cancelled = false;
    for (let l = from; l < this.depth; l++) {
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
      const model = this.layers[l];
      const start = performance.now();
      let layerData: DataSource = data;
      if (l > 0) {
        const features = await this.features(data, l, input);
        layerData = features;
        if (options.biasFromData ?? this.fresh[l]) {
          const means = columnMeans(features, rows, model.visible);
          const unit = unitType('bernoulli');
          const p = await model.readParams();
          model.writeParams({ ...p, b: Float32Array.from(means, (m) => unit.biasFromMean(m)) });
        }
      }
      const up = (performance.now() - start) / 1000;
      upPassSeconds += up;
      const info: StackLayerInfo = { layer: l, visible: model.visible, hidden: model.hidden, rows, upPassSeconds: up };
      await options.onLayerStart?.(info);
      const result = await model.fit(layerData, layerOptions(l));
      if (result.updates > 0) this.fresh[l] = false;
      seconds += result.seconds;
      results.push(result);
      await options.onLayerEnd?.({ ...info, result });
      if (result.cancelled) {
        cancelled = true;
        break;
      }
    }
    if (!cancelled && options.signal?.aborted && results.length < this.depth - from) cancelled = true;
    return { layers: results, cancelled, seconds: seconds + upPassSeconds, upPassSeconds };
  }

  /**
   * The up-pass: P(h | v) through the first `depth` layers (default all),
   * each layer's probabilities the next one's input, [rows, sizes[depth]].
   * `data` is what the bottom layer sees ([rows, visible]); `input` prepares
   * each block of its rows first (e.g. thresholding or standardisation).
   * Computed in blocks of rows, so only one block of float32 input exists at a time.
   */
  async features(data: DataSource, depth: number = this.depth, input?: (rows: Float32Array) => Float32Array): Promise<Float32Array> {
    this.assertLive();
    checkDataSource('data', data);
    checkInteger('depth', depth, 0);
    if (depth > this.depth) throw new RangeError(`depth must be at most the stack's ${this.depth} layers, got ${depth}`);
    if (input !== undefined) checkFunction('input', input);
    const V = this.visible;
    const n = sourceLength(data);
    if (n === 0 || n % V !== 0) throw new RangeError(`data must hold a whole number of rows of visible=${V} values, got ${n} values`);
    const rows = n / V;
    const H = this.sizes[depth];
    checkHostFactors('stack features', [{ value: rows, what: 'rows of data' }, { value: H, what: 'features per row' }]);
    const out = new Float32Array(rows * H);
    const step = blockRows(Math.max(...this.sizes.slice(0, depth + 1)));
    for (let a = 0; a < rows; a += step) {
      const b = Math.min(rows, a + step);
      let x: Float32Array = data instanceof Float32Array
        ? data.subarray(a * V, b * V)
        : sourceRows(data, V, Array.from({ length: b - a }, (_, i) => a + i));
      if (input) {
        x = input(x);
        if (!(x instanceof Float32Array) || x.length !== (b - a) * V) {
          throw new RangeError(`input must return a Float32Array of the same [rows, ${V}] shape, got ${x instanceof Float32Array ? `${x.length} values` : showValue(x)}`);
        }
      }
      for (let l = 0; l < depth; l++) x = await this.layers[l].transform(x);
      out.set(x, a * H);
    }
    return out;
  }

  /**
   * Samples of the whole net: Gibbs chains from noise in the top RBM (its
   * kept visible states), passed down through every layer below as means
   * P(v | h) = σ(hWᵀ + b) (a Gaussian bottom layer: hWᵀ + b). Reproducible for
   * a seed: the down-pass draws nothing.
   */
  async sample(options: StackSampleOptions): Promise<StackSampleResult> {
    this.assertLive();
    if (options === null || typeof options !== 'object') throw new RangeError(`sampling options must be an object, got ${showValue(options)}`);
    checkSize('chains', options.chains);
    checkSize('steps', options.steps);
    const top = this.layers[this.depth - 1];
    const keepEvery = options.keepEvery ?? options.steps;
    checkSize('keepEvery', keepEvery);
    const kept = Math.floor(options.steps / keepEvery);
    checkHostFactors('stack samples', [
      { value: Math.max(1, kept), what: 'kept steps', option: 'keepEvery', raise: true },
      { value: options.chains, option: 'chains' },
      { value: Math.max(...this.sizes), what: 'units of the widest layer' },
    ]);
    const r = await top.sample({ chains: options.chains, steps: options.steps, keepEvery, ...(options.seed !== undefined ? { seed: options.seed } : {}) });
    let x = this.depth === 1 ? r.probabilities : r.samples;
    for (let l = this.depth - 2; l >= 0; l--) x = await downPass(this.layers[l], x);
    return { probabilities: x, kept: r.kept, chains: r.chains, top: r };
  }

  /** Down-pass means P(v | h) of layer `layer` for rows of its hidden values ([rows, hidden]). */
  down(layer: number, hidden: Float32Array): Promise<Float32Array> {
    checkInteger('layer', layer, 0);
    if (layer >= this.depth) throw new RangeError(`layer must be below the stack's depth ${this.depth}, got ${layer}`);
    return downPass(this.layers[layer], hidden);
  }

  /**
   * The stack as one safetensors file (stack-file.ts): tensors layer0.W, …,
   * metadata format "webgpu-rbm-stack", stack_version, layers and the bottom
   * unit type, plus `metadata` and each layer's `layerMetadata`.
   */
  async toSafetensors(
    metadata: Record<string, string> = {},
    options: ModelFileOptions & { layerMetadata?: Record<string, string>[] } = {},
  ): Promise<Uint8Array> {
    this.assertLive();
    const layers = await Promise.all(this.layers.map((m) => m.readParams()));
    return stackToSafetensors({
      sizes: [...this.sizes], layers, visibleType: this.visibleType, metadata,
      ...(options.layerMetadata ? { layerMetadata: options.layerMetadata } : {}),
      ...(options.standardisation ? { standardisation: options.standardisation } : {}),
    });
  }

  /**
   * Loads a stack file (or a single-RBM file, as a one-layer stack) onto
   * `device`. Malformed files throw a SafetensorsFormatError naming the key or
   * tensor. Layer l gets its recorded seed (layer_metadata "seed"), else the
   * file's seed + l, else 1 + l.
   */
  static fromSafetensors(device: GPUDevice, bytes: Uint8Array): LoadedStack {
    const f: StackFile = stackFromSafetensors(bytes);
    for (let l = 0; l < f.layers.length; l++) {
      checkStorageFactors(device, `layer ${l} weights W`, [{ value: f.sizes[l], what: 'visible units' }, { value: f.sizes[l + 1], what: 'hidden units' }]);
    }
    const fileSeed = Number(f.metadata.seed);
    const base = Number.isSafeInteger(fileSeed) ? fileSeed : 1;
    const layers: RBM[] = [];
    try {
      f.layers.forEach((p, l) => {
        const own = Number(f.layerMetadata[l]?.seed);
        layers.push(RBM.create(device, {
          visible: f.sizes[l],
          hidden: f.sizes[l + 1],
          seed: Number.isSafeInteger(own) ? own : (base + l) >>> 0,
          params: p,
          visibleType: l === 0 ? f.visibleType : 'bernoulli',
        }));
      });
    } catch (e) {
      layers.forEach((m) => m.dispose());
      throw e;
    }
    return {
      stack: new RBMStack(device, layers, false), metadata: f.metadata, layerMetadata: f.layerMetadata, singleRbm: f.singleRbm,
      ...(f.standardisation ? { standardisation: f.standardisation } : {}),
      ...(f.imageShape ? { imageShape: f.imageShape } : {}),
    };
  }

  /** Disposes every layer. */
  dispose(): void {
    this.layers.forEach((m) => m.dispose());
  }
}

function checkStackSizes(sizes: unknown): asserts sizes is number[] {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new RangeError(`sizes must list the unit counts bottom to top, [visible, hidden₁, …] (at least two), got ${showValue(sizes)}`);
  }
  sizes.forEach((n, i) => checkSize(`sizes[${i}]`, n));
}

/**
 * E[v | h] of one layer for rows of hidden values ([rows, H] → [rows, V]): the
 * visible kernel writing means only, fed the given values where it expects
 * hidden samples. In blocks of rows that stay under every binding limit.
 */
async function downPass(model: ModelParams, hidden: Float32Array): Promise<Float32Array> {
  model.assertLive();
  const V = model.visible;
  const H = model.hidden;
  if (!(hidden instanceof Float32Array) || hidden.length === 0 || hidden.length % H !== 0) {
    throw new RangeError(`hidden values must be a Float32Array with a multiple of hidden=${H} values, got ${hidden?.length}`);
  }
  const rows = hidden.length / H;
  const device = model.device;
  const rowsFactor: SizeFactor = { value: rows, what: 'rows' };
  checkHostFactors('down-pass means', [rowsFactor, { value: V, what: 'visible units' }]);
  const out = new Float32Array(rows * V);
  const step = blockRows(Math.max(V, H));
  for (let a = 0; a < rows; a += step) {
    const n = Math.min(rows, a + step) - a;
    const tiles = await chooseTiles(device, { visible: V, hidden: H, batch: n });
    const visible = await getKernel(device, KERNELS.visible(tiles.visible, unitType(model.visibleType).wgsl));
    const limit = device.limits.maxComputeWorkgroupsPerDimension * kernelTile(visible).rows;
    const plan = new DispatchPlan(device, { hint: `pass at most ${limit} rows at a time` });
    const o = new BufferOwner(device, 'stack down-pass');
    try {
      const h = o.storage('hidden values', hidden.subarray(a * H, (a + n) * H));
      const visProb = o.storage('vis_prob', n * V * 4);
      const visOut = o.storage('vis_sample', n * V * 4);
      const counter = o.storage('counter', new Uint32Array(4));
      const dims = o.uniform(
        'visible dims',
        visible.pack('dims', { rows: n, in_offset: 0, out_offset: 0, n_in: H, n_out: V, phase: 0, seed: 0, flags: VISIBLE_FLAGS.WRITE_PROB }),
      );
      plan.add(visible, { dims, counter, hid_sample: h, W: model.W, b: model.b, vis_prob: visProb, vis: visOut }, { rows: n, cols: V });
      const encoder = device.createCommandEncoder({ label: 'stack down-pass' });
      const pass = encoder.beginComputePass();
      plan.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      out.set(await readFloat32(device, visProb, n * V), a * V);
    } finally {
      o.dispose();
    }
  }
  return out;
}
