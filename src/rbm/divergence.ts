// Divergence: a training run whose parameters or metrics stop being finite
// (NaN, ±Infinity) stops, puts back the last finite parameters it read, and
// rejects with a DivergenceError that says what went wrong and what to try.
//
// FiniteMonitor is the GPU side: after each submitted chunk of updates, in the
// same command buffer, finite_check.wgsl counts the non-finite values of W, b,
// c, their velocities and the metrics ring into a 16-byte flags buffer, which
// is copied into a staging buffer of its own. The host maps that staging
// buffer when the chunk has finished; the next chunk is already queued, so the
// check never stalls the GPU.
import { BufferOwner } from '../gpu/buffers';
import { FINITE_CHECK_MAX_GROUPS, FINITE_CHECK_WORKGROUP_SIZE, FINITE_FLAG, getKernel, KERNELS, type KernelOf } from '../gpu/kernels';
import { DispatchPlan } from '../gpu/plan';
import type { TrainableModel } from './params';

/** Parameters read back during training; epoch −1 means the ones training started from. */
export interface ParamSnapshot {
  epoch: number;
  W: Float32Array;
  b: Float32Array;
  c: Float32Array;
}

/** Non-finite values found by one check. */
export interface NonFiniteCounts {
  /** In W, b and c. */
  parameters: number;
  /** In the momentum buffers of W, b and c. */
  velocities: number;
  /** Per-update reconstruction errors (or the epoch's mean). */
  metrics: number;
}

export interface DivergenceInfo {
  snapshot: ParamSnapshot;
  /** The epoch, and the number of updates run in all, when the divergence was found (within one submitted chunk). */
  epoch: number;
  update: number;
  /** What was found non-finite first: the optimiser state (parameters or their velocities) or a metric. */
  nonFinite: 'parameters' | 'metric';
  counts: NonFiniteCounts;
  /** The learning rate of that epoch. */
  learningRate: number;
}

/** Training diverged: the model now holds `snapshot` again, the last finite parameters. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  readonly snapshot: ParamSnapshot;
  readonly epoch: number;
  readonly update: number;
  readonly nonFinite: 'parameters' | 'metric';
  readonly counts: NonFiniteCounts;
  readonly learningRate: number;
  /** learningRate / 10: the first thing to try. */
  readonly suggestedLearningRate: number;

  constructor(info: DivergenceInfo) {
    const suggested = Number((info.learningRate / 10).toPrecision(3));
    const { counts } = info;
    const what =
      info.nonFinite === 'metric'
        ? 'the reconstruction error became NaN or infinite'
        : `${counts.parameters} parameter value(s) in W, b, c` +
          (counts.velocities > 0 ? ` and ${counts.velocities} momentum value(s)` : '') +
          ' became NaN or infinite';
    const restored =
      info.snapshot.epoch < 0 ? 'the parameters it had before training' : `its parameters after epoch ${info.snapshot.epoch}`;
    super(
      `training diverged in epoch ${info.epoch} (by update ${info.update}): ${what}. The model was restored to ` +
        `${restored}. Lower the learning rate, e.g. to ${suggested} (it was ${info.learningRate}); ` +
        'smaller momentum or standardised data also help.',
    );
    this.snapshot = info.snapshot;
    this.epoch = info.epoch;
    this.update = info.update;
    this.nonFinite = info.nonFinite;
    this.counts = { ...counts };
    this.learningRate = info.learningRate;
    this.suggestedLearningRate = suggested;
  }
}

/** How many values of `arrays` are NaN or ±Infinity. */
export function countNonFinite(...arrays: ArrayLike<number>[]): number {
  let n = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}

const FLAG_BYTES = FINITE_FLAG.words * 4;

/** A check encoded into a chunk's command buffer; `read` it once that buffer is submitted. */
export interface FiniteProbe {
  readonly staging: GPUBuffer;
}

/** Counts non-finite values of a model's training state on the GPU, one small readback per chunk. */
export class FiniteMonitor {
  private readonly owner: BufferOwner;
  private readonly flags: GPUBuffer;
  private readonly plan: DispatchPlan;
  private readonly free: GPUBuffer[] = [];
  private readonly staging = new Set<GPUBuffer>();

  private constructor(
    private readonly device: GPUDevice,
    kernel: KernelOf<typeof KERNELS.finiteCheck>,
    model: TrainableModel,
    metrics: GPUBuffer,
    metricCount: number,
  ) {
    const owner = new BufferOwner(device, 'finite check');
    this.owner = owner;
    try {
      const V = model.visible;
      const H = model.hidden;
      const dims = owner.uniform('finite check dims', kernel.pack('dims', { n_w: V * H, n_b: V, n_c: H, n_metrics: metricCount }));
      this.flags = owner.storage('finite flags', FLAG_BYTES);
      const vel = model.optimiser;
      // A grid-stride scan: at most FINITE_CHECK_MAX_GROUPS workgroups, whatever the sizes.
      const longest = Math.max(V * H, metricCount);
      this.plan = new DispatchPlan(device);
      this.plan.add(
        kernel,
        { dims, w: model.W, b: model.b, c: model.c, w_vel: vel.W, b_vel: vel.b, c_vel: vel.c, metrics, flags: this.flags },
        { groups: [Math.min(FINITE_CHECK_MAX_GROUPS, Math.max(1, Math.ceil(longest / FINITE_CHECK_WORKGROUP_SIZE)))] },
      );
    } catch (e) {
      owner.dispose();
      throw e;
    }
  }

  /** Watches `model`'s W, b, c, their velocities and slots [0, metricCount) of `metrics` (f32). */
  static async create(model: TrainableModel, metrics: GPUBuffer, metricCount: number): Promise<FiniteMonitor> {
    const kernel = await getKernel(model.device, KERNELS.finiteCheck());
    return new FiniteMonitor(model.device, kernel, model, metrics, metricCount);
  }

  /** Encodes a check of the state as it is after everything encoded before it. Reads only. */
  encode(encoder: GPUCommandEncoder): FiniteProbe {
    this.owner.assertLive();
    encoder.clearBuffer(this.flags);
    const pass = encoder.beginComputePass({ label: 'finite check' });
    this.plan.encode(pass);
    pass.end();
    const staging = this.free.pop() ?? this.newStaging();
    encoder.copyBufferToBuffer(this.flags, 0, staging, 0, FLAG_BYTES);
    return { staging };
  }

  /**
   * The counts of a probe whose command buffer has been submitted: maps its
   * staging buffer (resolving when that work is done) and recycles it.
   */
  read(probe: FiniteProbe): Promise<NonFiniteCounts> {
    const { staging } = probe;
    const counts = staging.mapAsync(GPUMapMode.READ).then(() => {
      const w = new Uint32Array(staging.getMappedRange(0, FLAG_BYTES).slice(0));
      staging.unmap();
      if (this.staging.has(staging)) this.free.push(staging);
      return {
        parameters: w[FINITE_FLAG.params],
        velocities: w[FINITE_FLAG.velocities],
        metrics: w[FINITE_FLAG.metrics],
      };
    });
    // A run that stops early (error, loss) may never await this; its staging buffer is destroyed by dispose().
    counts.catch(() => undefined);
    return counts;
  }

  private newStaging(): GPUBuffer {
    const b = this.device.createBuffer({
      label: 'finite check readback',
      size: FLAG_BYTES,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.staging.add(b);
    return b;
  }

  dispose(): void {
    for (const b of this.staging) b.destroy();
    this.staging.clear();
    this.free.length = 0;
    this.owner.dispose();
  }
}
