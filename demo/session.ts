// One model and its training: start, pause, resume, reset, and hyperparameter
// changes. Training runs through RBM.train in small chunks (updatesPerSubmit),
// so the page keeps repainting. Changes to k, CD/PCD, learning rate, momentum,
// weight decay or batch size restart the run on the same model (its weights and
// momentum buffers are kept); a change of hidden units builds a new model.
import {
  applyStandardize, imageShapeMetadata, MODEL_FILE_FORMAT, MODEL_KEYS, RBM, sourceColumnMeans, sourceRows, standardize, trainPT, unstandardize,
} from '../src/index';
import type { DataSource, EpochStats, PTEpochStats, RBMParamsF32, TileShape, TrainingProgress, TrainingRun } from '../src/index';
import type { DemoData } from './data';

export type VisibleKind = 'bernoulli' | 'gaussian';

/** Per-pixel mean and standard deviation of the training data (Gaussian visible units). */
export interface Norm {
  mean: Float32Array;
  std: Float32Array;
}

export interface Hyper {
  hidden: number;
  k: number;
  algorithm: 'CD' | 'PCD' | 'PT';
  /** Temperatures of parallel tempering. */
  replicas: number;
  /** The PT ladder's last β (evenly spaced from 1). */
  betaMin: number;
  visibleType: VisibleKind;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  updatesPerSubmit: number;
}

export type TrainState = 'idle' | 'training' | 'paused';

export interface SessionEvents {
  progress(s: Session): void;
  epoch(s: Session, e: EpochStats & { step: number; swapAcceptance?: number[] }): void;
  state(s: Session): void;
  /** A different model object (reset, new hidden size, loaded file, new data). */
  model(s: Session): void;
  error(s: Session, e: unknown): void;
}

const now = (): number => performance.now();

export class Session {
  model: RBM;
  state: TrainState = 'idle';
  /** Updates applied to this model, over all runs. */
  steps = 0;
  /** Recent throughput (samples/s), over the last second or so. */
  samplesPerSecond = 0;
  /** Bumped whenever `model` is replaced. */
  generation = 0;
  /** Set with Gaussian visible units: the model sees (x − mean) / std. */
  norm?: Norm;
  /** The rows training reads: the data as loaded (8-bit for a dropped file), or its standardised float32 copy. */
  private trainInput!: DataSource;
  private run?: TrainingRun;
  private runEnded?: Promise<void>;
  private runs = 0;
  private rate: Array<{ t: number; steps: number }> = [];
  private dead = false;
  /** Set while a method is between cancelling a run and deciding what runs next. */
  private busy = false;
  private startWhenFree = false;

  constructor(
    readonly device: GPUDevice,
    public data: DemoData,
    public hyper: Hyper,
    readonly seed: number,
    private readonly on: SessionEvents,
    /** GEMM tiles for training: a fixed shape starts at once, 'auto' tunes first (seconds on a CPU adapter). */
    private readonly tile: 'auto' | TileShape = 'auto',
  ) {
    this.model = this.newModel();
  }

  get visible(): number {
    return this.data.width * this.data.height;
  }

  /** Epochs of training data seen. */
  get epochs(): number {
    return (this.steps * this.hyper.batchSize) / this.data.nTrain;
  }

  get gaussian(): boolean {
    return this.norm !== undefined;
  }

  /** Pixels in [0, 1] → what the model reads (standardised with Gaussian units). */
  toModel(x: Float32Array): Float32Array {
    const n = this.norm;
    return n ? applyStandardize(x, n.mean, n.std) : x;
  }

  /** The model's visible means → pixels in [0, 1] for drawing. */
  toPixels(x: Float32Array): Float32Array {
    const n = this.norm;
    if (!n) return x;
    const u = unstandardize(x, n.mean, n.std);
    for (let i = 0; i < u.length; i++) u[i] = u[i] < 0 ? 0 : u[i] > 1 ? 1 : u[i];
    return u;
  }

  private setNorm(norm: Norm | undefined): void {
    this.norm = norm;
    this.trainInput = norm ? applyStandardize(sourceRows(this.data.train, this.visible), norm.mean, norm.std) : this.data.train;
  }

  private newModel(): RBM {
    const gaussian = this.hyper.visibleType === 'gaussian';
    if (gaussian) {
      const st = standardize(sourceRows(this.data.train, this.visible), this.visible);
      this.norm = { mean: st.mean, std: st.std };
      this.trainInput = st.data;
    } else {
      this.setNorm(undefined);
    }
    return RBM.create(this.device, {
      visible: this.visible,
      hidden: this.hyper.hidden,
      seed: this.seed,
      visibleType: this.hyper.visibleType,
      visibleMarginals: sourceColumnMeans(this.trainInput, this.visible),
    });
  }

  private setState(s: TrainState): void {
    if (this.state === s) return;
    this.state = s;
    this.on.state(this);
  }

  start(): void {
    if (this.dead) return;
    if (this.busy) {
      // A reset or settings change is in progress: start once it is done.
      this.startWhenFree = true;
      return;
    }
    if (this.state === 'training') return;
    if (this.run) this.run.resume();
    else this.startRun();
    this.setState('training');
  }

  pause(): void {
    this.startWhenFree = false;
    if (this.state !== 'training') return;
    this.run?.pause();
    this.samplesPerSecond = 0;
    this.setState('paused');
  }

  toggle(): void {
    if (this.state === 'training') this.pause();
    else this.start();
  }

  /** Runs a change that cancels the current run; start() calls made meanwhile take effect after it. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
      if (this.startWhenFree) {
        this.startWhenFree = false;
        this.start();
      }
    }
  }

  private startRun(): void {
    const model = this.model;
    const h = this.hyper;
    const base = this.steps;
    const runIndex = this.runs++;
    this.rate = [{ t: now(), steps: base }];
    const common = {
      // Runs until paused, cancelled or replaced; the page has no "end".
      epochs: 100000,
      batchSize: h.batchSize,
      learningRate: h.learningRate,
      momentum: h.momentum,
      weightDecay: h.weightDecay,
      // The page's own settings, not fit's defaults: plain gradients, as many chains as the batch (PCD and PT).
      centered: false,
      chains: h.batchSize,
      binarize: model.visibleType === 'gaussian' ? ('none' as const) : ('stochastic' as const),
      updatesPerSubmit: h.updatesPerSubmit,
      tile: this.tile,
      // A restart must not replay the first epoch's order.
      seed: (this.seed + 0x9e3779b1 * runIndex) >>> 0,
      onProgress: (p: TrainingProgress) => {
        if (this.run !== run) return;
        this.steps = base + p.step;
        this.updateRate();
        this.on.progress(this);
      },
      onEpoch: (e: EpochStats | PTEpochStats) => {
        if (this.run !== run) return;
        this.on.epoch(this, { ...e, step: this.steps });
      },
    };
    const run: TrainingRun =
      h.algorithm === 'PT'
        ? trainPT(model, this.trainInput, { ...common, replicas: h.replicas, betaMin: h.betaMin })
        : model.train(this.trainInput, { ...common, k: h.k, persistent: h.algorithm === 'PCD' });
    this.run = run;
    this.runEnded = run.result.then(
      (r) => {
        if (this.run === run) {
          // Finished on its own (100,000 epochs!): nothing left to resume.
          this.run = undefined;
          this.steps = base + r.updates;
          this.setState('idle');
        }
      },
      (e: unknown) => {
        if (this.run === run) {
          this.run = undefined;
          this.setState('idle');
        }
        if (!this.dead && !model.isDisposed) this.on.error(this, e);
      },
    );
  }

  private updateRate(): void {
    const t = now();
    this.rate.push({ t, steps: this.steps });
    while (this.rate.length > 2 && t - this.rate[1].t > 1500) this.rate.shift();
    const first = this.rate[0];
    const dt = (t - first.t) / 1000;
    if (dt > 0.75) this.samplesPerSecond = ((this.steps - first.steps) * this.hyper.batchSize) / dt;
  }

  /** Cancels the run in flight and waits until it has released its GPU buffers. */
  private async stopRun(): Promise<void> {
    const run = this.run;
    const ended = this.runEnded;
    this.run = undefined;
    this.runEnded = undefined;
    if (!run) return;
    run.resume();
    run.cancel();
    await ended;
  }

  /** Applies changed hyperparameters; returns whether the model was rebuilt. */
  setHyper(next: Hyper): Promise<boolean> {
    return this.exclusive(() => this.applyHyper(next));
  }

  private async applyHyper(next: Hyper): Promise<boolean> {
    const rebuild = next.hidden !== this.hyper.hidden || next.visibleType !== this.hyper.visibleType;
    const restart = !rebuild && (Object.keys(next) as Array<keyof Hyper>).some((k) => next[k] !== this.hyper[k]);
    if (!rebuild && !restart) return false;
    const wasTraining = this.state === 'training';
    await this.stopRun();
    this.hyper = { ...next };
    if (rebuild) this.replaceModel(this.newModel());
    if (wasTraining) this.startRun();
    return rebuild;
  }

  /** A fresh model with the current settings; training continues if it was running. */
  reset(): Promise<void> {
    return this.exclusive(() => this.resetNow());
  }

  private async resetNow(): Promise<void> {
    const wasTraining = this.state === 'training';
    await this.stopRun();
    this.replaceModel(this.newModel());
    if (wasTraining) this.startRun();
    else this.setState('idle');
  }

  setData(data: DemoData): Promise<void> {
    return this.exclusive(() => this.setDataNow(data));
  }

  private async setDataNow(data: DemoData): Promise<void> {
    await this.stopRun();
    this.data = data;
    this.replaceModel(this.newModel());
    this.setState('idle');
  }

  /** Replaces the model with one read from a safetensors file. */
  load(bytes: Uint8Array): Promise<Record<string, string>> {
    return this.exclusive(() => this.loadNow(bytes));
  }

  private async loadNow(bytes: Uint8Array): Promise<Record<string, string>> {
    const { model, metadata, standardisation } = RBM.fromSafetensors(this.device, bytes);
    if (model.visibleType !== 'bernoulli' && model.visibleType !== 'gaussian') {
      model.dispose();
      throw new RangeError(`this page shows binary or Gaussian RBMs; the file holds a model with ${String(model.visibleType)} visible units.`);
    }
    let norm: Norm | undefined;
    if (model.visibleType === 'gaussian') {
      // The library's model-file schema (standardize_mean / standardize_std, as the CLI writes them),
      // already checked by RBM.fromSafetensors: V finite values each, every std > 0.
      if (!standardisation) {
        model.dispose();
        const [meanKey, stdKey] = [MODEL_KEYS.mean, MODEL_KEYS.std];
        const legacy = Object.hasOwn(metadata, 'mean') && Object.hasOwn(metadata, 'std')
          ? ` (files saved by earlier versions of this page hold them as "mean" and "std": rename those keys to "${meanKey}" and "${stdKey}")`
          : '';
        throw new RangeError(
          `the file holds a Gaussian RBM but no per-pixel standardisation: metadata "${meanKey}" and "${stdKey}" (JSON arrays of ${model.visible} numbers) are missing${legacy}; without them the page cannot turn its standardised values back into pixels. Save it from this page, or write it with toSafetensors(metadata, { standardisation: { mean, std } }).`,
        );
      }
      norm = { mean: standardisation.mean, std: standardisation.std };
    }
    if (model.visible !== this.visible) {
      model.dispose();
      throw new RangeError(
        `the file's model has ${model.visible} visible units, but the data set's images are ${this.data.width}×${this.data.height} = ${this.visible} pixels; load the matching data set first.`,
      );
    }
    await this.stopRun();
    const visibleType: VisibleKind = model.visibleType === 'gaussian' ? 'gaussian' : 'bernoulli';
    // Parallel tempering trains Bernoulli models only.
    const algorithm = visibleType === 'gaussian' && this.hyper.algorithm === 'PT' ? 'PCD' : this.hyper.algorithm;
    this.hyper = { ...this.hyper, hidden: model.hidden, visibleType, algorithm };
    this.setNorm(norm);
    this.replaceModel(model);
    const steps = Number(metadata.updates);
    this.steps = Number.isFinite(steps) && steps >= 0 ? steps : 0;
    this.setState('idle');
    return metadata;
  }

  /** The model as a model file in the library's schema (the standardisation of a Gaussian model included). */
  async save(): Promise<Uint8Array> {
    const h = this.hyper;
    const m = this.model;
    const metadata: Record<string, string> = {
      [MODEL_KEYS.format]: MODEL_FILE_FORMAT,
      [MODEL_KEYS.visible]: m.visibleType,
      [MODEL_KEYS.visibleUnits]: String(m.visible),
      [MODEL_KEYS.hiddenUnits]: String(m.hidden),
      ...imageShapeMetadata({ width: this.data.width, height: this.data.height }),
      source: 'webgpu-rbm demo',
      dataset: this.data.name,
      algorithm: h.algorithm === 'PT' ? `PT-${h.replicas}` : `${h.algorithm}-${h.k}`,
      ...(h.algorithm === 'PT' ? { beta_min: String(h.betaMin) } : {}),
      learning_rate: String(h.learningRate),
      momentum: String(h.momentum),
      weight_decay: String(h.weightDecay),
      batch_size: String(h.batchSize),
      updates: String(this.steps),
      [MODEL_KEYS.seed]: String(this.seed),
      saved: new Date().toISOString(),
    };
    // Written by the library as standardize_mean / standardize_std (MODEL_KEYS.mean / .std).
    return m.toSafetensors(metadata, this.norm ? { standardisation: this.norm } : {});
  }

  readParams(): Promise<RBMParamsF32> {
    return this.model.readParams();
  }

  private replaceModel(model: RBM): void {
    const old = this.model;
    this.model = model;
    this.generation++;
    this.steps = 0;
    this.samplesPerSecond = 0;
    this.runs = 0;
    this.on.model(this);
    old.dispose();
  }

  /** The device is gone: stop everything without touching the GPU again. */
  kill(): void {
    this.dead = true;
    const run = this.run;
    this.run = undefined;
    run?.cancel();
    this.samplesPerSecond = 0;
    this.setState('idle');
  }
}

/**
 * A tile that compiles fast and runs well on software adapters (SwiftShader,
 * lavapipe): direct loads, 8×8 invocations of 8 rows × 8 columns. Measured in
 * the demo on SwiftShader: the first update 1–3 s after training starts with it,
 * 7–11 s with the 16×16 shared-memory default, 17–25 s with tuning first.
 */
export const SOFTWARE_START_TILE: TileShape = { wgCols: 8, wgRows: 8, threadRows: 8, vecCols: 2, tileK: 16, shared: false };

/** Software adapters start on SOFTWARE_START_TILE; GPUs tune ('auto'), which is quick there. */
export function startTile(adapterName: string): 'auto' | TileShape {
  return /swiftshader|llvmpipe|lavapipe|software/i.test(adapterName) ? SOFTWARE_START_TILE : 'auto';
}
