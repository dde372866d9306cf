// Per-adapter choice of GEMM tile shapes: time each candidate of each GEMM
// kernel (hidden, visible, update) once per device on a representative
// problem, keep the fastest. GPUs favour workgroup-memory tiles; CPU Vulkan
// (lavapipe, SwiftShader) favours direct register-blocked loads.
import { BufferOwner, packUniform } from './buffers';
import { getKernel, KERNELS, tileCols, tileName, tileRows, type KernelSpec, type TileShape } from './kernels';
import { packHyper } from '../rbm/hyper';

export type GemmKernel = 'hidden' | 'visible' | 'update';
export type TileChoice = Record<GemmKernel, TileShape>;

// Workgroup-memory tiles for GPUs (64×64 to 128×64 per workgroup, up to 8×8
// results per invocation) and direct-load tiles for CPU Vulkan, where 8×8
// blocks halve the loads per FMA of 8×4 ones (15–25 % faster on lavapipe).
export const TILE_CANDIDATES: readonly TileShape[] = [
  { wgCols: 16, wgRows: 16, threadRows: 4, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 16, threadRows: 8, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 8, threadRows: 8, tileK: 32, shared: true },
  { wgCols: 16, wgRows: 16, threadRows: 4, vecCols: 2, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 8, threadRows: 8, vecCols: 2, tileK: 16, shared: true },
  { wgCols: 32, wgRows: 2, threadRows: 8, tileK: 16, shared: false },
  { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
  { wgCols: 16, wgRows: 1, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
  { wgCols: 8, wgRows: 8, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
];

export interface TuneProblem {
  visible: number;
  hidden: number;
  batch: number;
}

export interface TuneReport {
  choice: TileChoice;
  /** Milliseconds per dispatch, by kernel and tile name. */
  timings: Record<GemmKernel, Record<string, number>>;
}

// Big enough to expose memory behaviour, small enough to tune in about a second on CPU Vulkan.
const DEFAULT_PROBLEM: TuneProblem = { visible: 384, hidden: 192, batch: 96 };
const REPS = 3;

// Tuning cost stays near a second on CPU Vulkan: larger problems are tuned at this size.
const MAX_TUNE: TuneProblem = { visible: 800, hidden: 512, batch: 128 };

const chosen = new WeakMap<GPUDevice, Map<string, Promise<TuneReport>>>();

function tuneShape(p: TuneProblem): TuneProblem {
  return {
    visible: Math.min(p.visible, MAX_TUNE.visible),
    hidden: Math.min(p.hidden, MAX_TUNE.hidden),
    batch: Math.min(p.batch, MAX_TUNE.batch),
  };
}

/**
 * The device's tile choice for a problem shape (default: a representative
 * one), tuned on first use and cached per device and shape.
 */
export function chooseTiles(device: GPUDevice, problem: TuneProblem = DEFAULT_PROBLEM): Promise<TileChoice> {
  const shape = tuneShape(problem);
  const key = `${shape.visible}x${shape.hidden}x${shape.batch}`;
  let perDevice = chosen.get(device);
  if (!perDevice) {
    perDevice = new Map();
    chosen.set(device, perDevice);
  }
  let report = perDevice.get(key);
  if (!report) {
    report = tuneTiles(device, shape);
    perDevice.set(key, report);
    report.catch(() => perDevice?.delete(key));
  }
  return report.then((r) => r.choice);
}

function fits(device: GPUDevice, t: TileShape): boolean {
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

/** Times every candidate on every GEMM kernel; the fastest per kernel wins. */
export async function tuneTiles(
  device: GPUDevice,
  problem: TuneProblem = DEFAULT_PROBLEM,
  candidates: readonly TileShape[] = TILE_CANDIDATES,
): Promise<TuneReport> {
  const { visible: V, hidden: H, batch: B } = problem;
  const usable = candidates.filter((t) => fits(device, t));
  if (usable.length === 0) throw new Error('no GEMM tile candidate fits this device');
  const o = new BufferOwner(device, 'tile tuning');
  try {
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
    const hDims = o.uniform('hidden dims', packUniform([rows, 0, V, H, 0, 1]));
    const vDims = o.uniform('visible dims', packUniform([B, 0, B, H, V, 1, 1, 3]));
    const uDims = o.uniform('update dims', packUniform([V, H, rows, B]));
    const hyper = o.uniform('hyper', packHyper({ learningRate: 0 }, B));
    const setups: Record<GemmKernel, { spec: (t: TileShape) => KernelSpec; buffers: GPUBuffer[]; m: number; n: number }> = {
      hidden: { spec: KERNELS.hidden, buffers: [hDims, counter, vis, W, c, hidProb, hidSample], m: rows, n: H },
      visible: { spec: KERNELS.visible, buffers: [vDims, counter, hidSample, W, b, visProb, vis], m: B, n: V },
      update: { spec: KERNELS.update, buffers: [uDims, hyper, vis, hidProb, W, vel], m: V, n: H },
    };
    const timings = { hidden: {}, visible: {}, update: {} } as TuneReport['timings'];
    const choice = {} as TileChoice;
    for (const name of ['hidden', 'visible', 'update'] as const) {
      const s = setups[name];
      let best = Infinity;
      for (const tile of usable) {
        const kernel = await getKernel(device, s.spec(tile));
        const group = kernel.bind(s.buffers);
        const x = Math.ceil(s.n / tileCols(tile));
        const y = Math.ceil(s.m / tileRows(tile));
        let ms = Infinity;
        for (let attempt = 0; attempt < 2; attempt++) {
          const t0 = performance.now();
          const encoder = device.createCommandEncoder({ label: 'tile tuning' });
          const pass = encoder.beginComputePass();
          for (let r = 0; r < REPS; r++) kernel.dispatch(pass, group, x, y);
          pass.end();
          device.queue.submit([encoder.finish()]);
          await device.queue.onSubmittedWorkDone();
          // The first attempt also pays for pipeline warm-up; keep the better one.
          ms = Math.min(ms, (performance.now() - t0) / REPS);
        }
        timings[name][tileName(tile)] = ms;
        if (ms < best) {
          best = ms;
          choice[name] = tile;
        }
      }
    }
    return { choice, timings };
  } finally {
    o.dispose();
  }
}
