// CD-k / PCD-k updates on the GPU. One update is one compute pass of
// 2k + 3 dispatches with no CPU readback: hidden, (visible, hidden) × k,
// update (W), bias_update (b, c, RNG step). See schedule.ts for the order.
import { BufferOwner, packUniform, writeArray } from '../gpu/buffers';
import {
  BIAS_WORKGROUP_SIZE,
  COLS_PER_THREAD,
  DEFAULT_TILE,
  getKernel,
  KERNELS,
  ROWS_PER_THREAD,
  type Kernel,
  type TileShape,
} from '../gpu/kernels';
import type { RBM } from './model';
import { updateSchedule, type Pass } from './schedule';
import { checkBinary, checkFiniteNumber, checkSize } from './validate';

export interface TrainerOptions {
  batchSize: number;
  /** Gibbs steps per update (default 1). */
  k?: number;
  /** Persistent chains (PCD) instead of restarting from the data (CD). */
  persistent?: boolean;
  tile?: TileShape;
}

export interface Hyperparameters {
  learningRate: number;
  momentum?: number;
  weightDecay?: number;
}

interface EncodedPass {
  kernel: Kernel;
  group: GPUBindGroup;
  x: number;
  y: number;
}

export class CDTrainer {
  readonly batchSize: number;
  readonly k: number;
  readonly persistent: boolean;
  /** Stacked [2B, V]: data rows then negative-phase rows (samples). */
  readonly vis: GPUBuffer;
  readonly visProb: GPUBuffer;
  /** Stacked [2B, H]. */
  readonly hidProb: GPUBuffer;
  readonly hidSample: GPUBuffer;
  /** counter[0] = the update step keying the RNG; advanced by bias_update. */
  readonly counter: GPUBuffer;
  private readonly hyper: GPUBuffer;
  private readonly owner: BufferOwner;
  private readonly passes: EncodedPass[];
  private chainsReady = false;
  private lastHyper = '';
  /** Updates encoded so far (mirrors counter[0] on the GPU). */
  step = 0;

  private constructor(
    readonly model: RBM,
    options: Required<Omit<TrainerOptions, 'tile'>>,
    kernels: { hidden: Kernel; visible: Kernel; update: Kernel; bias: Kernel },
    tile: TileShape,
  ) {
    const { batchSize: B, k, persistent } = options;
    this.batchSize = B;
    this.k = k;
    this.persistent = persistent;
    const V = model.visible;
    const H = model.hidden;
    const owner = new BufferOwner(model.device, `trainer B=${B} k=${k}${persistent ? ' PCD' : ''}`);
    this.owner = owner;
    this.vis = owner.storage('vis', 2 * B * V * 4);
    this.visProb = owner.storage('vis_prob', 2 * B * V * 4);
    this.hidProb = owner.storage('hid_prob', 2 * B * H * 4);
    this.hidSample = owner.storage('hid_sample', 2 * B * H * 4);
    this.counter = owner.storage('counter', new Uint32Array(4));
    this.hyper = owner.uniform('hyper', packUniform([{ f32: 0 }, { f32: 0 }, { f32: 0 }, { f32: 1 / B }]));

    const tileM = tile.wgRows * ROWS_PER_THREAD;
    const tileN = tile.wgCols * COLS_PER_THREAD;
    const seed = model.seed;
    const passes: EncodedPass[] = updateSchedule(B, k, persistent).map((p: Pass, i) => {
      if (p.kind === 'hidden') {
        const dims = owner.uniform(`hidden dims ${i}`, packUniform([p.rows, p.rowOffset, V, H, p.phase, seed]));
        const group = kernels.hidden.bind([dims, this.counter, this.vis, model.W, model.c, this.hidProb, this.hidSample]);
        return { kernel: kernels.hidden, group, x: Math.ceil(H / tileN), y: Math.ceil(p.rows / tileM) };
      }
      const dims = owner.uniform(
        `visible dims ${i}`,
        packUniform([p.rows, p.inOffset, p.outOffset, H, V, p.phase, seed]),
      );
      const group = kernels.visible.bind([dims, this.counter, this.hidSample, model.W, model.b, this.visProb, this.vis]);
      return { kernel: kernels.visible, group, x: Math.ceil(V / tileN), y: Math.ceil(p.rows / tileM) };
    });
    const updateDims = owner.uniform('update dims', packUniform([V, H, 2 * B, B]));
    passes.push({
      kernel: kernels.update,
      group: kernels.update.bind([updateDims, this.hyper, this.vis, this.hidProb, model.W, model.wVel]),
      x: Math.ceil(H / tileN),
      y: Math.ceil(V / tileM),
    });
    passes.push({
      kernel: kernels.bias,
      group: kernels.bias.bind([
        updateDims, this.hyper, this.vis, this.hidProb, model.b, model.c, model.bVel, model.cVel, this.counter,
      ]),
      x: Math.ceil((V + H) / BIAS_WORKGROUP_SIZE),
      y: 1,
    });
    const maxGroups = model.device.limits.maxComputeWorkgroupsPerDimension;
    for (const p of passes) {
      if (p.x > maxGroups || p.y > maxGroups) {
        owner.dispose();
        throw new RangeError(
          `kernel ${p.kernel.spec.name} needs ${Math.max(p.x, p.y)} workgroups in one dimension but this ` +
            `device's maxComputeWorkgroupsPerDimension is ${maxGroups}; use a smaller batch or model.`,
        );
      }
    }
    this.passes = passes;
  }

  static async create(model: RBM, options: TrainerOptions): Promise<CDTrainer> {
    checkSize('batchSize', options.batchSize);
    const k = options.k ?? 1;
    checkSize('k', k);
    const tile = options.tile ?? DEFAULT_TILE;
    const device = model.device;
    const [hidden, visible, update, bias] = await Promise.all([
      getKernel(device, KERNELS.hidden(tile)),
      getKernel(device, KERNELS.visible(tile)),
      getKernel(device, KERNELS.update(tile)),
      getKernel(device, KERNELS.biasUpdate()),
    ]);
    return new CDTrainer(
      model,
      { batchSize: options.batchSize, k, persistent: options.persistent ?? false },
      { hidden, visible, update, bias },
      tile,
    );
  }

  /** Sets learning rate, momentum and weight decay for the following updates. */
  setHyperparameters(h: Hyperparameters): void {
    checkFiniteNumber('learningRate', h.learningRate, 0);
    const momentum = h.momentum ?? 0;
    const weightDecay = h.weightDecay ?? 0;
    checkFiniteNumber('momentum', momentum, 0);
    checkFiniteNumber('weightDecay', weightDecay, 0);
    const key = `${h.learningRate}|${momentum}|${weightDecay}`;
    if (key === this.lastHyper) return;
    this.lastHyper = key;
    const data = packUniform([{ f32: h.learningRate }, { f32: momentum }, { f32: weightDecay }, { f32: 1 / this.batchSize }]);
    this.model.device.queue.writeBuffer(this.hyper, 0, data);
  }

  /**
   * Encodes one update whose data rows (vis rows [0, B)) are already in place,
   * e.g. written by a gather kernel in the same encoder.
   */
  encodeUpdate(encoder: GPUCommandEncoder): void {
    this.owner.assertLive();
    this.model.owner.assertLive();
    if (this.persistent && !this.chainsReady) {
      throw new Error('PCD chains are not initialised: call initChains(batch) before encodeUpdate().');
    }
    const pass = encoder.beginComputePass({ label: 'CD update' });
    for (const p of this.passes) p.kernel.dispatch(pass, p.group, p.x, p.y);
    pass.end();
    this.step++;
  }

  /** Sets the persistent chains' visible states ([B, V] rows), e.g. to the first batch. */
  initChains(states: Float32Array): void {
    this.owner.assertLive();
    const B = this.batchSize;
    const V = this.model.visible;
    if (!(states instanceof Float32Array) || states.length !== B * V) {
      throw new RangeError(`initChains: expected ${B} × ${V} = ${B * V} values, got ${states?.length}`);
    }
    checkBinary('initChains states', states, V);
    writeArray(this.model.device, this.vis, B * V * 4, states);
    this.chainsReady = true;
  }

  /** One update on a batch of B binary rows ([B, V] row-major); no readback. */
  update(batch: Float32Array, hyper: Hyperparameters): void {
    this.owner.assertLive();
    this.model.owner.assertLive();
    const B = this.batchSize;
    const V = this.model.visible;
    if (!(batch instanceof Float32Array) || batch.length !== B * V) {
      throw new RangeError(
        `update: batch must be a Float32Array of batchSize × visible = ${B} × ${V} = ${B * V} values, got ${batch?.length}`,
      );
    }
    checkBinary('update batch', batch, V);
    this.setHyperparameters(hyper);
    const device = this.model.device;
    writeArray(device, this.vis, 0, batch);
    if (this.persistent && !this.chainsReady) this.initChains(batch);
    const encoder = device.createCommandEncoder({ label: 'CD update' });
    this.encodeUpdate(encoder);
    device.queue.submit([encoder.finish()]);
  }

  /** Waits until every update submitted so far has run. */
  async flush(): Promise<void> {
    await this.model.device.queue.onSubmittedWorkDone();
  }

  get isDisposed(): boolean {
    return this.owner.isDisposed;
  }

  dispose(): void {
    this.owner.dispose();
  }
}

