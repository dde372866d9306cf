// The engine's compute kernels: WGSL source, explicit bind group layouts,
// and a per-device cache so each pipeline is compiled once.
import rngWGSL from '../../shaders/rng.wgsl?raw';
import mathWGSL from '../../shaders/math.wgsl?raw';
import hiddenWGSL from '../../shaders/hidden.wgsl?raw';
import visibleWGSL from '../../shaders/visible.wgsl?raw';
import updateWGSL from '../../shaders/update.wgsl?raw';
import hyperWGSL from '../../shaders/hyper.wgsl?raw';
import gemmWGSL from '../../shaders/gemm.wgsl?raw';
import gemmSubgroupWGSL from '../../shaders/gemm_subgroup.wgsl?raw';
import biasUpdateWGSL from '../../shaders/bias_update.wgsl?raw';
import freeEnergyWGSL from '../../shaders/free_energy.wgsl?raw';
import softplusTermsWGSL from '../../shaders/softplus_terms.wgsl?raw';
import temperedWGSL from '../../shaders/tempered.wgsl?raw';
import temperedHiddenWGSL from '../../shaders/tempered_hidden.wgsl?raw';
import temperedVisibleWGSL from '../../shaders/tempered_visible.wgsl?raw';
import gatherWGSL from '../../shaders/gather.wgsl?raw';
import reconErrorWGSL from '../../shaders/recon_error.wgsl?raw';
import clampWGSL from '../../shaders/clamp.wgsl?raw';
import advanceWGSL from '../../shaders/advance.wgsl?raw';
import finiteCheckWGSL from '../../shaders/finite_check.wgsl?raw';

/** How a kernel sees each binding, in binding order. */
export type BindingKind = 'uniform' | 'read' | 'rw';

export interface KernelSpec {
  name: string;
  code: string;
  bindings: readonly BindingKind[];
  /** Values for the shader's `override` constants. */
  constants?: Record<string, number>;
  /** Entry point; default `main`. */
  entryPoint?: string;
}

/**
 * How the GEMM kernels (gemm.wgsl) are shaped: a workgroup of wgCols × wgRows
 * invocations, each owning threadRows rows × 4·vecCols columns; operands staged
 * through workgroup memory in steps of tileK (shared) or read straight from storage.
 */
export interface TileShape {
  wgCols: number;
  wgRows: number;
  threadRows: number;
  /** vec4 column groups per invocation: 1 (4 columns, the default) or 2 (8 columns). */
  vecCols?: number;
  tileK: number;
  shared: boolean;
  /**
   * Share A between lanes with subgroup shuffles (gemm_subgroup.wgsl) instead
   * of loading it in every invocation; direct loads only, and the device must
   * have the `subgroups` feature.
   */
  subgroups?: boolean;
}

export const DEFAULT_TILE: TileShape = { wgCols: 16, wgRows: 16, threadRows: 4, tileK: 16, shared: true };
/** Columns in one of an invocation's vec4 column groups. */
export const COLS_PER_VEC4 = 4;
export const MAX_THREAD_ROWS = 8;
export const MAX_VEC_COLS = 2;

export function tileRows(t: TileShape): number {
  return t.wgRows * t.threadRows;
}

export function tileCols(t: TileShape): number {
  return t.wgCols * COLS_PER_VEC4 * (t.vecCols ?? 1);
}

export function tileName(t: TileShape): string {
  const cols = (t.vecCols ?? 1) > 1 ? ` cols${COLS_PER_VEC4 * (t.vecCols ?? 1)}` : '';
  const kind = t.subgroups ? 'subgroup' : t.shared ? 'shared' : 'direct';
  return `${kind} ${t.wgCols}x${t.wgRows} rows${t.threadRows}${cols}${t.shared ? ` k${t.tileK}` : ''}`;
}

/** gemm.wgsl's override constants for a tile shape. */
export function tileConstants(t: TileShape): Record<string, number> {
  if (!Number.isInteger(t.threadRows) || t.threadRows < 1 || t.threadRows > MAX_THREAD_ROWS) {
    throw new RangeError(`threadRows must be an integer in 1..${MAX_THREAD_ROWS}, got ${t.threadRows}`);
  }
  if (t.subgroups && t.shared) throw new RangeError('a tile uses subgroups or shared memory, not both');
  const vecCols = t.vecCols ?? 1;
  if (!Number.isInteger(vecCols) || vecCols < 1 || vecCols > MAX_VEC_COLS) {
    throw new RangeError(`vecCols must be an integer in 1..${MAX_VEC_COLS}, got ${vecCols}`);
  }
  return {
    WG_COLS: t.wgCols,
    WG_ROWS: t.wgRows,
    THREAD_ROWS: t.threadRows,
    VEC_COLS: vecCols,
    TILE_K: t.tileK,
    USE_SHARED: t.shared ? 1 : 0,
  };
}

/**
 * A GEMM kernel: the kernel file's operands and epilogue (after the WGSL it
 * needs) completed by gemm.wgsl, plus gemm_subgroup.wgsl when the tile uses subgroups.
 */
export function gemmSpec(name: string, parts: readonly string[], bindings: readonly BindingKind[], t: TileShape): KernelSpec {
  const constants = tileConstants(t);
  if (!t.subgroups) return { name, code: parts.join('') + gemmWGSL, bindings, constants };
  return {
    name,
    code: 'enable subgroups;\n' + parts.join('') + gemmWGSL + gemmSubgroupWGSL,
    bindings,
    constants,
    entryPoint: 'main_subgroup',
  };
}

export const KERNELS = {
  hidden: (t: TileShape = DEFAULT_TILE): KernelSpec =>
    gemmSpec('hidden', [rngWGSL, mathWGSL, hiddenWGSL], ['uniform', 'read', 'read', 'read', 'read', 'rw', 'rw'], t),
  visible: (t: TileShape = DEFAULT_TILE): KernelSpec =>
    gemmSpec('visible', [rngWGSL, mathWGSL, visibleWGSL], ['uniform', 'read', 'read', 'read', 'read', 'rw', 'rw'], t),
  update: (t: TileShape = DEFAULT_TILE): KernelSpec =>
    gemmSpec('update', [hyperWGSL, updateWGSL], ['uniform', 'uniform', 'read', 'read', 'rw', 'rw'], t),
  biasUpdate: (): KernelSpec => ({
    name: 'bias_update',
    code: hyperWGSL + biasUpdateWGSL,
    bindings: ['uniform', 'uniform', 'read', 'read', 'rw', 'rw', 'rw', 'rw', 'rw', 'rw'],
  }),
  gather: (): KernelSpec => ({
    name: 'gather',
    code: rngWGSL + gatherWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'rw'],
  }),
  reconError: (): KernelSpec => ({
    name: 'recon_error',
    code: reconErrorWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'rw'],
  }),
  clamp: (): KernelSpec => ({
    name: 'clamp',
    code: clampWGSL,
    bindings: ['uniform', 'read', 'read', 'rw', 'rw'],
  }),
  advance: (): KernelSpec => ({
    name: 'advance',
    code: advanceWGSL,
    bindings: ['rw'],
  }),
  /** [dims, W, b, c, W velocity, b velocity, c velocity, metrics, flags]: non-finite counts (divergence). */
  finiteCheck: (): KernelSpec => ({
    name: 'finite_check',
    code: finiteCheckWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'],
  }),
  /** [dims, counter, betas, vis, W, c, x, hid]: PT (β per replica) and AIS (β per step). */
  temperedHidden: (t: TileShape = DEFAULT_TILE): KernelSpec =>
    gemmSpec('tempered_hidden', [rngWGSL, mathWGSL, temperedWGSL, temperedHiddenWGSL], ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'], t),
  /** [dims, counter, betas, hid, W, b, b_base, vis_prob, vis]: PT (β per replica, b_base = 0) and AIS (β per step). */
  temperedVisible: (t: TileShape = DEFAULT_TILE): KernelSpec =>
    gemmSpec('tempered_visible', [rngWGSL, mathWGSL, temperedWGSL, temperedVisibleWGSL], ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'], t),
  softplusTerms: (t: TileShape = DEFAULT_TILE): KernelSpec =>
    gemmSpec('softplus_terms', [mathWGSL, softplusTermsWGSL], ['uniform', 'read', 'read', 'read', 'rw'], t),
  freeEnergy: (): KernelSpec => ({
    name: 'free_energy',
    code: freeEnergyWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'rw'],
  }),
} as const;

export const BIAS_WORKGROUP_SIZE = 64;
/** finite_check.wgsl's workgroup size, and the most workgroups one scan uses (it strides beyond). */
export const FINITE_CHECK_WORKGROUP_SIZE = 256;
export const FINITE_CHECK_MAX_GROUPS = 256;
/** Words of finite_check's flags buffer: non-finite parameters, velocities, metrics (word 3 unused). */
export const FINITE_FLAG = { params: 0, velocities: 1, metrics: 2, words: 4 } as const;
/** Workgroup size of the one-invocation-per-element kernels (gather, clamp). */
export const ELEMENT_WORKGROUP_SIZE = 256;

/** Workgroup counts (x, y) covering `count` elements, spilling into y past the device limit. */
export function elementGrid(device: GPUDevice, count: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / ELEMENT_WORKGROUP_SIZE));
  const maxX = device.limits.maxComputeWorkgroupsPerDimension;
  const x = Math.min(groups, maxX);
  return [x, Math.ceil(groups / x)];
}

/** A compiled kernel: its pipeline and the layout its bind groups must follow. */
export class Kernel {
  constructor(
    readonly spec: KernelSpec,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    private readonly device: GPUDevice,
  ) {}

  bind(buffers: readonly GPUBuffer[], label = this.spec.name): GPUBindGroup {
    if (buffers.length !== this.spec.bindings.length) {
      throw new Error(
        `kernel ${this.spec.name} takes ${this.spec.bindings.length} buffers, got ${buffers.length}`,
      );
    }
    return this.device.createBindGroup({
      label,
      layout: this.layout,
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  dispatch(pass: GPUComputePassEncoder, group: GPUBindGroup, x: number, y = 1, z = 1): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
  }
}

const BUFFER_TYPE: Record<BindingKind, GPUBufferBindingType> = {
  uniform: 'uniform',
  read: 'read-only-storage',
  rw: 'storage',
};

const cache = new WeakMap<GPUDevice, Map<string, Promise<Kernel>>>();

function cacheKey(spec: KernelSpec): string {
  return `${spec.name}|${spec.entryPoint ?? 'main'}|${JSON.stringify(spec.constants ?? {})}`;
}

/** Compiles (once per device and constants) and returns the kernel. */
export function getKernel(device: GPUDevice, spec: KernelSpec): Promise<Kernel> {
  let perDevice = cache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    cache.set(device, perDevice);
  }
  const key = cacheKey(spec);
  let kernel = perDevice.get(key);
  if (!kernel) {
    kernel = compile(device, spec);
    perDevice.set(key, kernel);
    // A failed compile must not poison the cache for later calls.
    kernel.catch(() => perDevice?.delete(key));
  }
  return kernel;
}

async function compile(device: GPUDevice, spec: KernelSpec): Promise<Kernel> {
  const module = device.createShaderModule({ label: spec.name, code: spec.code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const text = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new Error(`WGSL compile error in kernel ${spec.name}:\n${text}`);
  }
  const layout = device.createBindGroupLayout({
    label: spec.name,
    entries: spec.bindings.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: BUFFER_TYPE[kind] },
    })),
  });
  const pipeline = await device.createComputePipelineAsync({
    label: spec.name,
    layout: device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: spec.entryPoint ?? 'main', constants: spec.constants ?? {} },
  });
  return new Kernel(spec, pipeline, layout, device);
}
