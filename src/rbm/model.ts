// The RBM on the GPU: W [V,H], b [V], c [H], and the optimiser state (their
// momentum buffers) it owns. The engines take it as a ModelParams /
// TrainableModel (params.ts); this class is the public face that ties them together.
import { BufferOwner, checkStorageFactors, checkStorageSize, readFloat32, writeArray } from '../gpu/buffers';
import { watchDevice } from '../gpu/lost';
import { initialParams } from './init';
import { OptimiserState, type RBMParamsF32, type TrainableModel } from './params';
import { freeEnergy } from './free-energy';
import { CDTrainer, type TrainerOptions } from './trainer';
import { train, type FitOptions, type FitResult, type TrainingRun } from './fit';
import type { DataSource } from '../data/source';
import { GibbsChains, reconstruct, sample, transform, type ChainOptions, type SampleOptions, type SampleResult } from './sampler';
import { rbmFromSafetensors, rbmToSafetensors, type ImageShape, type ModelStandardisation, type VisibleType } from './model-file';
import { safetensorsShapes } from './safetensors';
import { checkEnum, checkFiniteArray, checkFiniteNumber, checkSeed, checkSize, showValue } from './validate';
import { UNIT_NAMES, unitType, type UnitType } from '../units';
import { checkStatesCount, pottsSites } from '../units/potts';

export type { RBMParamsF32 };

/**
 * A second train / fit / trainPT / fitPT on a model whose first run has not
 * ended. Two runs would interleave their updates of the same W, b, c.
 */
export class ModelBusyError extends Error {
  override name = 'ModelBusyError';
  constructor(what = 'this model is already training') {
    super(`${what}; await or cancel the first run before starting another`);
  }
}

/** What `RBM.toSafetensors` stores besides the parameters and the metadata. */
export interface ModelFileOptions {
  /** A Gaussian model's data standardisation x ↦ (x − mean) / std (Bernoulli models have none). */
  standardisation?: { mean: Float32Array; std: Float32Array };
}

/** A model read by `RBM.fromSafetensors`. */
export interface LoadedModel {
  model: RBM;
  metadata: Record<string, string>;
  /** A Gaussian model's stored standardisation, exactly as written. */
  standardisation?: ModelStandardisation;
  /** The image shape the file records (metadata width × height = visible units). */
  imageShape?: ImageShape;
}

export interface RBMOptions {
  visible: number;
  hidden: number;
  /** Seeds initialisation and every sampling kernel (default 1). */
  seed?: number;
  /** Standard deviation of the initial weights (default 0.01). */
  weightScale?: number;
  /** Per-visible-unit means of the training data, for b = log(p/(1−p)). */
  visibleMarginals?: ArrayLike<number>;
  /**
   * 'bernoulli' (binary visible units, default) or 'gaussian' (real-valued,
   * unit variance: train on standardised data; then visibleMarginals are the
   * data means and become b directly).
   */
  visibleType?: VisibleType;
  /**
   * Potts visible units: states per site q (visible = sites × q, unit site·q + state).
   * Required with visibleType 'potts', refused otherwise. visibleMarginals are then
   * per-state frequencies (each site's summing to 1), b = their logs.
   */
  visibleStates?: number;
  /** Start from these parameters instead of the random initialisation. */
  params?: RBMParamsF32;
}

export class RBM implements TrainableModel {
  readonly W: GPUBuffer;
  readonly b: GPUBuffer;
  readonly c: GPUBuffer;
  /** The momentum buffers of W, b, c: what the update kernels carry from one update to the next. */
  readonly optimiser: OptimiserState;
  readonly seed: number;
  readonly visibleType: VisibleType;
  /** A Potts layer's states per site q; undefined for other unit types. */
  readonly visibleStates?: number;
  private readonly owner: BufferOwner;
  /** Set while a training run (train, fit, trainPT, fitPT) holds the model. */
  private trainingLock = false;

  private constructor(
    readonly device: GPUDevice,
    readonly visible: number,
    readonly hidden: number,
    seed: number,
    params: RBMParamsF32,
    visibleType: VisibleType,
    visibleStates?: number,
  ) {
    this.visibleType = visibleType;
    if (visibleStates !== undefined) this.visibleStates = visibleStates;
    this.seed = seed >>> 0;
    watchDevice(device);
    this.owner = new BufferOwner(device, `RBM ${visible}x${hidden}`);
    try {
      this.W = this.owner.storage('W', params.W);
      this.b = this.owner.storage('b', params.b);
      this.c = this.owner.storage('c', params.c);
      this.optimiser = new OptimiserState(this.owner, visible, hidden);
    } catch (e) {
      this.owner.dispose();
      throw e;
    }
  }

  static create(device: GPUDevice, options: RBMOptions): RBM {
    if (options === null || typeof options !== 'object') {
      throw new RangeError(`RBM options must be an object, got ${showValue(options)}`);
    }
    const { visible, hidden } = options;
    checkSize('visible', visible);
    checkSize('hidden', hidden);
    const visibleType: VisibleType = options.visibleType ?? 'bernoulli';
    checkEnum('visibleType', visibleType, UNIT_NAMES);
    if (visibleType === 'potts') {
      checkStatesCount('visibleStates', options.visibleStates);
      pottsSites(visible, options.visibleStates);
    } else if (options.visibleStates !== undefined) {
      throw new RangeError(`visibleStates is for Potts units (visibleType: 'potts'); this model's visible units are ${visibleType}`);
    }
    const unit = unitType(visibleType, options.visibleStates);
    if (options.seed !== undefined) checkSeed('seed', options.seed);
    if (options.weightScale !== undefined) checkFiniteNumber('weightScale', options.weightScale, 0);
    if (options.visibleMarginals !== undefined) checkMarginals(options.visibleMarginals, visible, unit);
    if (options.params !== undefined && (options.params === null || typeof options.params !== 'object')) {
      throw new RangeError(`params must be { W, b, c } (Float32Arrays), got ${showValue(options.params)}`);
    }
    // Before generating V·H random numbers for a model that cannot exist.
    checkStorageSize(device, `RBM ${visible}x${hidden} weights W`, visible * hidden * 4);
    const seed = options.seed ?? 1;
    const params = options.params ?? initialModelParams(options, seed, unit);
    checkParams(params, visible, hidden);
    return new RBM(device, visible, hidden, seed, params, visibleType, options.visibleStates);
  }

  /** The velocity of W (optimiser.W); kept for callers of the earlier API. */
  get wVel(): GPUBuffer {
    return this.optimiser.W;
  }

  /** The velocity of b (optimiser.b). */
  get bVel(): GPUBuffer {
    return this.optimiser.b;
  }

  /** The velocity of c (optimiser.c). */
  get cVel(): GPUBuffer {
    return this.optimiser.c;
  }

  /** Throws DisposedError once the model is disposed, DeviceLostError once its device is lost. */
  assertLive(): void {
    this.owner.assertLive();
  }

  /** Whether a training run (train, fit, trainPT, fitPT) is using this model now. */
  get isTraining(): boolean {
    return this.trainingLock;
  }

  /**
   * @internal The training loop's lock: throws ModelBusyError if a run holds
   * the model already, else holds it until the returned release() (idempotent).
   */
  lockForTraining(): () => void {
    if (this.trainingLock) throw new ModelBusyError();
    this.trainingLock = true;
    let held = true;
    return () => {
      if (held) {
        held = false;
        this.trainingLock = false;
      }
    };
  }

  /** Copies W, b, c back to the CPU. */
  async readParams(): Promise<RBMParamsF32> {
    this.owner.assertLive();
    const [W, b, c] = await Promise.all([
      readFloat32(this.device, this.W, this.visible * this.hidden),
      readFloat32(this.device, this.b, this.visible),
      readFloat32(this.device, this.c, this.hidden),
    ]);
    return { W, b, c };
  }

  /** Replaces W, b, c (and clears the momentum). Refused while a training run holds the model. */
  writeParams(params: RBMParamsF32): void {
    if (this.trainingLock) throw new ModelBusyError('this model is training: its parameters cannot be replaced now');
    this.restoreParams(params);
  }

  /** @internal writeParams for the training loop itself (restoring a snapshot while it holds the lock). */
  restoreParams(params: RBMParamsF32): void {
    this.owner.assertLive();
    checkParams(params, this.visible, this.hidden);
    const d = this.device;
    writeArray(d, this.W, 0, params.W);
    writeArray(d, this.b, 0, params.b);
    writeArray(d, this.c, 0, params.c);
    this.optimiser.clear();
  }

  /** F(v) = −bᵀv − Σ_j softplus(vᵀw_j + c_j) for each row of `data` ([rows, V]). */
  freeEnergy(data: Float32Array): Promise<Float32Array> {
    return freeEnergy(this, data);
  }

  /** A CD-k / PCD-k trainer for this model with a fixed batch size. */
  async createTrainer(options: TrainerOptions): Promise<CDTrainer> {
    this.owner.assertLive();
    return CDTrainer.create(this, options);
  }

  /**
   * Starts training on `data` ([N, V] intensities in [0, 1]); pause, resume and cancel through the run.
   * One run at a time: a second one (train, fit, trainPT, fitPT) rejects with ModelBusyError until
   * the first ends; a diverging run rejects with DivergenceError (see fit.ts).
   */
  train(data: DataSource, options: FitOptions): TrainingRun {
    this.owner.assertLive();
    return train(this, data, options);
  }

  /** Trains to the end: `train(...).result`. */
  fit(data: DataSource, options: FitOptions): Promise<FitResult> {
    return this.train(data, options).result;
  }

  // Sampling while training is allowed (the demo shows live fantasies): every
  // dispatch on a device runs in queue order, so a sampling pass always sees
  // W, b, c between two whole updates, never a half-written update. Its result
  // then depends on which update it landed after, so it is not reproducible;
  // await or cancel the run first for a repeatable sample. Only a second
  // training run (and writeParams) is refused, with ModelBusyError.

  /** Runs fresh Gibbs chains and returns the kept states. */
  async sample(options: SampleOptions): Promise<SampleResult> {
    this.owner.assertLive();
    return sample(this, options);
  }

  /** Persistent chains that live until disposed (fantasy particles, inpainting). */
  async createChains(options: ChainOptions): Promise<GibbsChains> {
    return GibbsChains.create(this, options);
  }

  /** P(h = 1 | v) for each row of `data`. */
  transform(data: Float32Array): Promise<Float32Array> {
    return transform(this, data);
  }

  /** Mean-field reconstruction σ(σ(vW + c)Wᵀ + b) of each row of `data`. */
  reconstruct(data: Float32Array): Promise<Float32Array> {
    return reconstruct(this, data);
  }

  /**
   * The model as a safetensors file: W [V,H], b [V], c [H], float32, with
   * `metadata`. A Gaussian model's `standardisation` (the per-pixel mean and
   * std its data went through) is stored as metadata standardize_mean /
   * standardize_std, which `fromSafetensors` restores exactly.
   */
  async toSafetensors(metadata: Record<string, string> = {}, options: ModelFileOptions = {}): Promise<Uint8Array> {
    const p = await this.readParams();
    return rbmToSafetensors({
      visible: this.visible, hidden: this.hidden, ...p, metadata, visibleType: this.visibleType,
      ...(this.visibleStates !== undefined ? { visibleStates: this.visibleStates } : {}),
      ...(options.standardisation ? { standardisation: options.standardisation } : {}),
    });
  }

  /**
   * Loads a safetensors model file (any writer; tensors W, b, c) onto `device`,
   * with its metadata, a Gaussian model's stored standardisation and the
   * recorded image shape (when the file has them). Contradictory files (see
   * `rbmFromSafetensors`) throw a SafetensorsFormatError naming the key.
   */
  static fromSafetensors(device: GPUDevice, bytes: Uint8Array, seed?: number): LoadedModel {
    // W's size against this device before anything is decoded (F16/F64 files decode to float32 copies).
    const shapeW = safetensorsShapes(bytes).W;
    if (shapeW?.length === 2) {
      checkStorageFactors(device, 'the weights W', [{ value: shapeW[0], what: 'visible units' }, { value: shapeW[1], what: 'hidden units' }]);
    }
    const f = rbmFromSafetensors(bytes);
    const fileSeed = Number(f.metadata.seed);
    const model = RBM.create(device, {
      visible: f.visible,
      hidden: f.hidden,
      seed: seed ?? (Number.isInteger(fileSeed) ? fileSeed : 1),
      params: { W: f.W, b: f.b, c: f.c },
      visibleType: f.visibleType,
      ...(f.visibleStates !== undefined ? { visibleStates: f.visibleStates } : {}),
    });
    return {
      model, metadata: f.metadata,
      ...(f.standardisation ? { standardisation: f.standardisation } : {}),
      ...(f.imageShape ? { imageShape: f.imageShape } : {}),
    };
  }

  get isDisposed(): boolean {
    return this.owner.isDisposed;
  }

  dispose(): void {
    this.owner.dispose();
  }
}

function checkMarginals(m: ArrayLike<number>, V: number, unit: UnitType): void {
  if (m === null || typeof m !== 'object' || typeof m.length !== 'number' || m.length !== V) {
    throw new RangeError(`visibleMarginals must hold one value per visible unit (${V}), got ${typeof m?.length === 'number' ? `${m.length} values` : showValue(m)}`);
  }
  checkFiniteArray('visibleMarginals', m);
  unit.checkMeans('visibleMarginals', m);
}

/**
 * Random W (initialParams), c = 0, and b from the data means when given: the
 * bias at which each unit of the layer has that mean (logit for Bernoulli units,
 * the mean itself for Gaussian ones), else 0.
 */
function initialModelParams(o: RBMOptions, seed: number, unit: UnitType): RBMParamsF32 {
  const { W, c } = initialParams({ visible: o.visible, hidden: o.hidden, seed, weightScale: o.weightScale });
  const m = o.visibleMarginals;
  const b = m ? Float32Array.from(m, (x) => unit.biasFromMean(x)) : new Float32Array(o.visible);
  return { W, b, c };
}

function checkParams(p: RBMParamsF32, V: number, H: number): void {
  const expect = (name: string, arr: Float32Array, n: number): void => {
    if (!(arr instanceof Float32Array) || arr.length !== n) {
      throw new RangeError(`parameter ${name} must be a Float32Array of ${n} values, got ${arr?.length}`);
    }
    checkFiniteArray(`parameter ${name}`, arr);
  };
  expect('W', p.W, V * H);
  expect('b', p.b, V);
  expect('c', p.c, H);
}
