// Per-adapter choice of GEMM tile shapes, in two steps so that few pipelines
// are compiled (seconds each on SwiftShader):
//   1. one representative of each family (workgroup memory, direct loads,
//      subgroup shuffles) is timed on the three GEMM kernels; the fastest
//      family is kept. GPUs favour workgroup memory; CPU Vulkan (lavapipe,
//      SwiftShader) direct register-blocked loads or subgroups, by shape.
//   2. every member of that family is timed on each GEMM kernel (hidden,
//      visible, update); the fastest wins.
// Both run once per device and (capped) problem shape, cached in the device's
// GpuContext (TILE_CACHE) as pipelines are (PIPELINE_CACHE), so a new shape
// only costs dispatches.
import { BufferOwner } from './buffers';
import { CacheKey, contextOf, deviceOf, type DeviceLike, type GpuContext } from './context';
import { packHyper } from './hyper';
import {
  getKernel, HIDDEN_DIMS, KERNELS, packFields, tileCols, tileName, tileRows, UPDATE_DIMS, VISIBLE_DIMS, VISIBLE_FLAGS,
  type BoundBuffers, type KernelSpec, type TileShape,
} from './kernels';

export type GemmKernel = 'hidden' | 'visible' | 'update';
export type TileChoice = Record<GemmKernel, TileShape>;

// Workgroup-memory tiles for GPUs (64×64 to 128×64 per workgroup, up to 8×8
// results per invocation) and direct-load tiles for CPU Vulkan, where 8×8
// blocks halve the loads per FMA of 8×4 ones (15–25 % faster on lavapipe).
// The first member of each family is its representative in step 1 (direct and
// subgroup ones of the same shape, so step 1 compares like with like).
export const TILE_CANDIDATES: readonly TileShape[] = [
  { wgCols: 16, wgRows: 16, threadRows: 4, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 16, threadRows: 8, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 8, threadRows: 8, tileK: 32, shared: true },
  { wgCols: 16, wgRows: 16, threadRows: 4, vecCols: 2, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 8, threadRows: 8, vecCols: 2, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
  { wgCols: 32, wgRows: 2, threadRows: 8, tileK: 16, shared: false },
  { wgCols: 16, wgRows: 1, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
  { wgCols: 8, wgRows: 8, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
  // A shared by subgroup shuffles (devices with `subgroups`): a row of 16, 32
  // or 64 invocations holds whole subgroups of those sizes.
  { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false, subgroups: true },
  { wgCols: 32, wgRows: 2, threadRows: 8, vecCols: 2, tileK: 16, shared: false, subgroups: true },
  { wgCols: 64, wgRows: 1, threadRows: 8, vecCols: 2, tileK: 16, shared: false, subgroups: true },
];

export type TileFamily = 'shared' | 'direct' | 'subgroup';

export function tileFamily(t: TileShape): TileFamily {
  return t.subgroups ? 'subgroup' : t.shared ? 'shared' : 'direct';
}

export interface TuneProblem {
  visible: number;
  hidden: number;
  batch: number;
}

export interface TuneReport {
  choice: TileChoice;
  /** Milliseconds per dispatch, by kernel and tile name. */
  timings: Record<GemmKernel, Record<string, number>>;
  /** Step 1, where the candidates were narrowed to one family. */
  family?: FamilyReport;
}

export interface FamilyReport {
  family: TileFamily;
  /** Milliseconds for one dispatch of each GEMM kernel (summed) with each family's representative, on the default problem. */
  timings: Partial<Record<TileFamily, number>>;
}

// Big enough to expose memory behaviour, small enough to tune in about a second on CPU Vulkan.
const DEFAULT_PROBLEM: TuneProblem = { visible: 384, hidden: 192, batch: 96 };
const REPS = 3;
const FAMILY_ROUNDS = 3;

// Tuning cost stays near a second on CPU Vulkan: larger problems are tuned at this size.
const MAX_TUNE: TuneProblem = { visible: 800, hidden: 512, batch: 128 };

/** The per-device cache of tuning reports, by capped problem shape (in each device's GpuContext). */
export const TILE_CACHE = new CacheKey<TuneReport>('tiles');

/** The shape a problem is tuned at (each size capped at MAX_TUNE). */
export function tuneShape(p: TuneProblem): TuneProblem {
  return {
    visible: Math.min(p.visible, MAX_TUNE.visible),
    hidden: Math.min(p.hidden, MAX_TUNE.hidden),
    batch: Math.min(p.batch, MAX_TUNE.batch),
  };
}

/** Step 1: times each family's representative at a shape; the fastest family wins. */
export async function chooseFamily(gpu: DeviceLike, problem: TuneProblem = DEFAULT_PROBLEM): Promise<FamilyReport> {
  const device = deviceOf(gpu);
  const representatives = new Map<TileFamily, TileShape>();
  for (const t of TILE_CANDIDATES) {
    if (tileFits(device, t) && !representatives.has(tileFamily(t))) representatives.set(tileFamily(t), t);
  }
  if (representatives.size === 0) throw new Error('no GEMM tile candidate fits this device');
  const timer = new GemmTimer(gpu, problem);
  try {
    const timings: FamilyReport['timings'] = {};
    // Rounds alternate between families so background load hits all alike; the
    // first round also pays for compilation, and each family keeps its best round.
    for (let round = 0; round < FAMILY_ROUNDS; round++) {
      for (const [f, tile] of representatives) {
        let ms = 0;
        for (const kernel of ['hidden', 'visible', 'update'] as const) ms += await timer.time(kernel, tile, REPS);
        timings[f] = Math.min(timings[f] ?? Infinity, ms);
      }
    }
    let family: TileFamily | undefined;
    for (const f of representatives.keys()) {
      if (family === undefined || timings[f]! < timings[family]!) family = f;
    }
    return { family: family!, timings };
  } finally {
    timer.dispose();
  }
}

/**
 * Step 2, the tuning report behind chooseTiles: every member of the device's
 * family timed on each kernel, once per device and (capped) shape.
 */
export function tuneReport(device: DeviceLike, problem: TuneProblem = DEFAULT_PROBLEM): Promise<TuneReport> {
  const shape = tuneShape(problem);
  const key = `${shape.visible}x${shape.hidden}x${shape.batch}`;
  const ctx = contextOf(device);
  return ctx.cache(TILE_CACHE).get(key, () =>
    chooseFamily(ctx, shape).then(async (family) => ({
      ...(await tuneTiles(ctx, shape, TILE_CANDIDATES.filter((t) => tileFamily(t) === family.family))),
      family,
    })),
  );
}

/**
 * The device's tile choice for a problem shape (default: a representative
 * one), tuned on first use and cached per device and shape.
 */
export function chooseTiles(device: DeviceLike, problem: TuneProblem = DEFAULT_PROBLEM): Promise<TileChoice> {
  return tuneReport(device, problem).then((r) => r.choice);
}

/** Whether a tile can run on this device: features and limits. */
export function tileFits(gpu: DeviceLike, t: TileShape): boolean {
  const device = deviceOf(gpu);
  if (t.subgroups && !device.features.has('subgroups')) return false;
  const l = device.limits;
  const invocations = t.wgCols * t.wgRows;
  const sharedBytes = t.shared ? (tileRows(t) * t.tileK + t.tileK * tileCols(t)) * 4 : 0;
  return (
    invocations <= l.maxComputeInvocationsPerWorkgroup &&
    t.wgCols <= l.maxComputeWorkgroupSizeX &&
    t.wgRows <= l.maxComputeWorkgroupSizeY &&
    sharedBytes <= l.maxComputeWorkgroupStorageSize
  );
}

/** Multiply-add flops ×2 of one dispatch of each GEMM kernel on a problem (hidden runs on 2B stacked rows). */
export function gemmFlops(kernel: GemmKernel, p: TuneProblem): number {
  const rows = kernel === 'visible' ? p.batch : 2 * p.batch;
  return 2 * rows * p.visible * p.hidden;
}

/**
 * Buffers shaped like one CD update of `problem`, on which any GEMM kernel
 * and tile can be timed: `time` dispatches it `reps` times in one pass and
 * returns milliseconds per dispatch (one GPU sync at the end).
 */
export class GemmTimer {
  private readonly owner: BufferOwner;
  private readonly device: GPUDevice;
  private readonly context: GpuContext;
  private readonly setups: Record<GemmKernel, { spec: (t: TileShape) => KernelSpec; buffers: BoundBuffers<KernelSpec['bindings']>; m: number; n: number }>;

  constructor(
    gpu: DeviceLike,
    readonly problem: TuneProblem,
  ) {
    this.device = deviceOf(gpu);
    this.context = contextOf(gpu);
    const { visible: V, hidden: H, batch: B } = problem;
    const o = (this.owner = new BufferOwner(this.context, 'GEMM timing'));
    const rows = 2 * B;
    const counter = o.storage('counter', new Uint32Array(4));
    const vis = o.storage('vis', new Float32Array(rows * V).map((_, i) => (i % 3 === 0 ? 1 : 0)));
    const visProb = o.storage('vis_prob', rows * V * 4);
    const hidProb = o.storage('hid_prob', rows * H * 4);
    const hidSample = o.storage('hid_sample', rows * H * 4);
    const W = o.storage('W', V * H * 4);
    const vel = o.storage('vel', V * H * 4);
    const b = o.storage('b', V * 4);
    const c = o.storage('c', H * 4);
    const hDims = o.uniform(
      'hidden dims',
      packFields(HIDDEN_DIMS, { rows, row_offset: 0, n_in: V, n_out: H, phase: 0, seed: 1 }),
    );
    const vDims = o.uniform(
      'visible dims',
      packFields(VISIBLE_DIMS, {
        rows: B, in_offset: 0, out_offset: B, n_in: H, n_out: V, phase: 1, seed: 1,
        flags: VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE,
      }),
    );
    const uDims = o.uniform('update dims', packFields(UPDATE_DIMS, { n_vis: V, n_hid: H, n_rows: rows, neg_start: B }));
    const hyper = o.uniform('hyper', packHyper({ learningRate: 0 }, B));
    this.setups = {
      hidden: {
        spec: KERNELS.hidden,
        buffers: { dims: hDims, counter, vis, W, c, hid_prob: hidProb, hid_sample: hidSample },
        m: rows,
        n: H,
      },
      visible: {
        spec: KERNELS.visible,
        buffers: { dims: vDims, counter, hid_sample: hidSample, W, b, vis_prob: visProb, vis },
        m: B,
        n: V,
      },
      update: {
        spec: KERNELS.update,
        buffers: { dims: uDims, hyper, vis, hid_prob: hidProb, W, vel },
        m: V,
        n: H,
      },
    };
  }

  async time(name: GemmKernel, tile: TileShape, reps: number): Promise<number> {
    const s = this.setups[name];
    const kernel = await getKernel(this.context, s.spec(tile));
    const group = kernel.bind(s.buffers);
    const x = Math.ceil(s.n / tileCols(tile));
    const y = Math.ceil(s.m / tileRows(tile));
    const t0 = performance.now();
    const encoder = this.device.createCommandEncoder({ label: 'GEMM timing' });
    const pass = encoder.beginComputePass();
    for (let r = 0; r < reps; r++) kernel.dispatch(pass, group, x, y);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    await this.context.raceLoss(this.device.queue.onSubmittedWorkDone());
    return (performance.now() - t0) / reps;
  }

  dispose(): void {
    this.owner.dispose();
  }
}

/** Times every candidate on every GEMM kernel; the fastest per kernel wins. */
export async function tuneTiles(
  device: DeviceLike,
  problem: TuneProblem = DEFAULT_PROBLEM,
  candidates: readonly TileShape[] = TILE_CANDIDATES,
): Promise<TuneReport> {
  const usable = candidates.filter((t) => tileFits(device, t));
  if (usable.length === 0) throw new Error('no GEMM tile candidate fits this device');
  const timer = new GemmTimer(device, problem);
  try {
    const timings = { hidden: {}, visible: {}, update: {} } as TuneReport['timings'];
    const choice = {} as TileChoice;
    for (const name of ['hidden', 'visible', 'update'] as const) {
      let best = Infinity;
      for (const tile of usable) {
        // The first attempt also pays for pipeline warm-up; keep the better one.
        const ms = Math.min(await timer.time(name, tile, REPS), await timer.time(name, tile, REPS));
        timings[name][tileName(tile)] = ms;
        if (ms < best) {
          best = ms;
          choice[name] = tile;
        }
      }
    }
    return { choice, timings };
  } finally {
    timer.dispose();
  }
}
