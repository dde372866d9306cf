// The engine's compute kernels: WGSL linked from named shader modules
// (wgsl-link.ts), explicit bind group layouts, and a per-device cache (in the
// device's GpuContext) so each pipeline is compiled once.
import rngWGSL from '../../shaders/rng.wgsl?raw';
import mathWGSL from '../../shaders/math.wgsl?raw';
import hiddenWGSL from '../../shaders/hidden.wgsl?raw';
import visibleWGSL from '../../shaders/visible.wgsl?raw';
import updateWGSL from '../../shaders/update.wgsl?raw';
import updateBatchWGSL from '../../shaders/update_batch.wgsl?raw';
import updateStepWGSL from '../../shaders/update_step.wgsl?raw';
import hyperWGSL from '../../shaders/hyper.wgsl?raw';
import gemmWGSL from '../../shaders/gemm.wgsl?raw';
import gemmSubgroupWGSL from '../../shaders/gemm_subgroup.wgsl?raw';
import biasUpdateWGSL from '../../shaders/bias_update.wgsl?raw';
import updateCenteredWGSL from '../../shaders/update_centered.wgsl?raw';
import centerOffsetsWGSL from '../../shaders/center_offsets.wgsl?raw';
import centerBiasWGSL from '../../shaders/center_bias.wgsl?raw';
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
import logWeightWGSL from '../../shaders/log_weight.wgsl?raw';
import bernoulliUnitWGSL from '../../shaders/units/bernoulli.wgsl?raw';
import softmaxWGSL from '../../shaders/softmax.wgsl?raw';
import softmaxForwardWGSL from '../../shaders/softmax_forward.wgsl?raw';
import softmaxUpdateWGSL from '../../shaders/softmax_update.wgsl?raw';
import { packUniform } from './buffers';
import { CacheKey, contextOf, deviceOf, GpuScopeError, type DeviceLike } from './context';
import { enableModule, formatMessage, linkWgsl, traceModules, wgslModule, type LinkedWgsl, type WgslModule } from './wgsl-link';

/** The shader files of this module's kernels, as named linker modules (`rng.wgsl`, …). */
export const SHADERS = {
  rng: wgslModule('rng.wgsl', rngWGSL),
  math: wgslModule('math.wgsl', mathWGSL),
  hyper: wgslModule('hyper.wgsl', hyperWGSL),
  tempered: wgslModule('tempered.wgsl', temperedWGSL),
  hidden: wgslModule('hidden.wgsl', hiddenWGSL),
  visible: wgslModule('visible.wgsl', visibleWGSL),
  updateBatch: wgslModule('update_batch.wgsl', updateBatchWGSL),
  updateStep: wgslModule('update_step.wgsl', updateStepWGSL),
  update: wgslModule('update.wgsl', updateWGSL),
  gemm: wgslModule('gemm.wgsl', gemmWGSL),
  gemmSubgroup: wgslModule('gemm_subgroup.wgsl', gemmSubgroupWGSL),
  biasUpdate: wgslModule('bias_update.wgsl', biasUpdateWGSL),
  updateCentered: wgslModule('update_centered.wgsl', updateCenteredWGSL),
  centerOffsets: wgslModule('center_offsets.wgsl', centerOffsetsWGSL),
  centerBias: wgslModule('center_bias.wgsl', centerBiasWGSL),
  freeEnergy: wgslModule('free_energy.wgsl', freeEnergyWGSL),
  softplusTerms: wgslModule('softplus_terms.wgsl', softplusTermsWGSL),
  temperedHidden: wgslModule('tempered_hidden.wgsl', temperedHiddenWGSL),
  temperedVisible: wgslModule('tempered_visible.wgsl', temperedVisibleWGSL),
  gather: wgslModule('gather.wgsl', gatherWGSL),
  reconError: wgslModule('recon_error.wgsl', reconErrorWGSL),
  clamp: wgslModule('clamp.wgsl', clampWGSL),
  advance: wgslModule('advance.wgsl', advanceWGSL),
  finiteCheck: wgslModule('finite_check.wgsl', finiteCheckWGSL),
  /** The AIS weight kernels' skeleton (ais_weight.wgsl in eval-kernels.ts, trajectory_weight.wgsl in trajectory-kernels.ts). */
  logWeight: wgslModule('log_weight.wgsl', logWeightWGSL),
  softmax: wgslModule('softmax.wgsl', softmaxWGSL),
  softmaxForward: wgslModule('softmax_forward.wgsl', softmaxForwardWGSL),
  softmaxUpdate: wgslModule('softmax_update.wgsl', softmaxUpdateWGSL),
} as const satisfies Record<string, WgslModule>;

/**
 * A visible layer's unit module: a file of shaders/units/ defining unit_mean,
 * unit_sample, unit_free_energy_term and unit_add_bias_difference (see
 * shaders/units/bernoulli.wgsl). src/units/ gives each unit type's module with
 * its TS descriptor; the kernels below that take a `unit` link the one they are given.
 */
export type UnitModule = WgslModule;

/**
 * The unit module the visible kernels link when none is named (tile tuning,
 * kernel tests): Bernoulli units, the same file src/units/bernoulli.ts gives.
 */
export const DEFAULT_UNIT: UnitModule = wgslModule('units/bernoulli.wgsl', bernoulliUnitWGSL);

/** What a kernel linked with a unit module needs before its own file: the unit's functions and theirs (rng, math). */
export function unitModules(unit: UnitModule): WgslModule[] {
  return [SHADERS.rng, SHADERS.math, unit];
}

/** A spec's `code` and `source` from modules linked in order. */
export function linked(...modules: readonly WgslModule[]): { code: string; source: LinkedWgsl } {
  const source = linkWgsl(modules);
  return { code: source.code, source };
}

/** How a kernel sees each binding: a uniform, read-only storage, or read-write storage. */
export type BindingKind = 'uniform' | 'read' | 'rw';

/**
 * A kernel's bind group, by name, in binding order: `{ dims: 'uniform', vis: 'read', … }`.
 * The names are the WGSL variable names and the order is their `@binding(N)`
 * (test/gpu/bindings.test.ts checks both, and the kinds, against the linked source).
 */
export type Bindings = Readonly<Record<string, BindingKind>>;

/** One buffer per binding, by name. */
export type BoundBuffers<B extends Bindings> = { readonly [K in keyof B]: GPUBuffer };

/** A 32-bit field of a uniform struct. */
export type FieldType = 'u32' | 'f32';

/**
 * A uniform struct's fields, by WGSL name, in declaration order. Names starting
 * with `_` are padding: always zero, never given to packFields.
 */
export type UniformFields = Readonly<Record<string, FieldType>>;

/** The values packFields takes for a struct: every non-padding field, by name. */
export type FieldValues<F extends UniformFields> = {
  readonly [K in keyof F as K extends `_${string}` ? never : K]: number;
};

/** The struct behind each uniform binding of a kernel, by binding name. */
export type Uniforms = Readonly<Record<string, UniformFields>>;

export interface KernelSpec<B extends Bindings = Bindings, U extends Uniforms = Uniforms> {
  name: string;
  /** The WGSL the device compiles (for linked kernels, `source.code`). */
  code: string;
  /**
   * The modules `code` was linked from, with its line map: compile errors name
   * the module file and line. Without it (or when `code` differs from
   * `source.code`) the lines are traced back to known shader files where they can be.
   */
  source?: LinkedWgsl;
  bindings: B;
  /** The fields of every uniform binding's struct (keys are uniform binding names). */
  uniforms: U;
  /** Values for the shader's `override` constants. */
  constants?: Record<string, number>;
  /** Entry point; default `main`. */
  entryPoint?: string;
  /** The GEMM tile a gemmSpec kernel was made for (its override constants say the same). */
  tile?: TileShape;
}

function isPadding(name: string): boolean {
  return name.startsWith('_');
}

/**
 * Packs a uniform struct by field name, in the struct's order, with packUniform's
 * layout (u32 fields as `value >>> 0`, f32 fields as float32, the size rounded up
 * to 16 bytes, at least 16). Every non-padding field must be given exactly once.
 */
export function packFields<F extends UniformFields>(fields: F, values: FieldValues<F>, what = 'uniform'): ArrayBuffer {
  const names = Object.keys(fields);
  const given = values as Readonly<Record<string, number>>;
  const expected = names.filter((n) => !isPadding(n));
  const missing = expected.filter((n) => !Object.prototype.hasOwnProperty.call(given, n) || given[n] === undefined);
  const extra = Object.keys(given).filter((n) => !Object.prototype.hasOwnProperty.call(fields, n) || isPadding(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${what}: ` +
        [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `unknown ${extra.join(', ')}` : '']
          .filter(Boolean)
          .join('; ') +
        ` (fields: ${expected.join(', ')})`,
    );
  }
  for (const n of expected) {
    if (typeof given[n] !== 'number') throw new TypeError(`${what}: field ${n} must be a number, got ${given[n]}`);
  }
  return packUniform(names.map((n) => (isPadding(n) ? 0 : fields[n] === 'f32' ? { f32: given[n] } : given[n])));
}

// ---- Uniform structs (WGSL `struct` fields, in order) ----

/** hidden.wgsl's Dims. */
export const HIDDEN_DIMS = {
  rows: 'u32', row_offset: 'u32', n_in: 'u32', n_out: 'u32', phase: 'u32', seed: 'u32',
} as const satisfies UniformFields;
/** visible.wgsl's Dims; `flags` is a sum of VISIBLE_FLAGS. */
export const VISIBLE_DIMS = {
  rows: 'u32', in_offset: 'u32', out_offset: 'u32', n_in: 'u32', n_out: 'u32', phase: 'u32', seed: 'u32', flags: 'u32',
} as const satisfies UniformFields;
/** visible.wgsl's flag bits (its WRITE_PROB, WRITE_SAMPLE constants); the unit type is its linked module, not a flag. */
export const VISIBLE_FLAGS = { WRITE_PROB: 1, WRITE_SAMPLE: 2 } as const;
/** update_batch.wgsl's Dims: of update.wgsl, update_centered.wgsl, bias_update.wgsl and center_bias.wgsl. */
export const UPDATE_DIMS = { n_vis: 'u32', n_hid: 'u32', n_rows: 'u32', neg_start: 'u32' } as const satisfies UniformFields;
/** log_weight.wgsl's Dims: of ais_weight.wgsl (AIS_WEIGHT_DIMS) and trajectory_weight.wgsl (TRAJECTORY_WEIGHT_DIMS). */
export const LOG_WEIGHT_DIMS = { rows: 'u32', n_vis: 'u32', n_hid: 'u32' } as const satisfies UniformFields;
/** center_offsets.wgsl's Dims: the data rows B and the offsets' sliding rate ν. */
export const CENTER_DIMS = { n_vis: 'u32', n_hid: 'u32', batch: 'u32', rate: 'f32' } as const satisfies UniformFields;
/** hyper.wgsl's Hyper (update and bias_update). */
export const HYPER = {
  learning_rate: 'f32', momentum: 'f32', weight_decay: 'f32', inv_batch: 'f32',
  sparsity_target: 'f32', sparsity_cost: 'f32', sparsity_decay: 'f32', _pad: 'f32',
} as const satisfies UniformFields;
/** gather.wgsl's Dims. */
export const GATHER_DIMS = {
  batch: 'u32', n_vis: 'u32', mode: 'u32', seed: 'u32', epoch: 'u32', threshold: 'f32',
} as const satisfies UniformFields;
/** recon_error.wgsl's Dims. */
export const RECON_DIMS = { batch: 'u32', n_vis: 'u32', capacity: 'u32', _pad: 'u32' } as const satisfies UniformFields;
/** clamp.wgsl's Dims. */
export const CLAMP_DIMS = { count: 'u32', _pad0: 'u32', _pad1: 'u32', _pad2: 'u32' } as const satisfies UniformFields;
/** finite_check.wgsl's Dims. */
export const FINITE_CHECK_DIMS = { n_w: 'u32', n_b: 'u32', n_c: 'u32', n_metrics: 'u32' } as const satisfies UniformFields;
/** tempered.wgsl's Dims (tempered_hidden, tempered_visible). */
export const TEMPERED_DIMS = {
  rows: 'u32', chains: 'u32', n_in: 'u32', n_out: 'u32', seed: 'u32', phase: 'u32',
} as const satisfies UniformFields;
/** softplus_terms.wgsl's Dims. */
export const SOFTPLUS_TERMS_DIMS = { rows: 'u32', row_offset: 'u32', n_vis: 'u32', n_hid: 'u32' } as const satisfies UniformFields;
/** free_energy.wgsl's Dims. */
export const FREE_ENERGY_DIMS = { rows: 'u32', row_offset: 'u32', n_vis: 'u32', n_hid: 'u32' } as const satisfies UniformFields;
/** softmax.wgsl's Dims (softmax_forward, softmax_update). */
export const SOFTMAX_DIMS = {
  rows: 'u32', n_in: 'u32', classes: 'u32', batch: 'u32', batches: 'u32', _pad0: 'u32', _pad1: 'u32', _pad2: 'u32',
} as const satisfies UniformFields;
/** softmax.wgsl's Optim (softmax_update). */
export const SOFTMAX_OPTIM = { learning_rate: 'f32', momentum: 'f32', weight_decay: 'f32', _pad: 'f32' } as const satisfies UniformFields;

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
 * A GEMM kernel: the kernel file's operands and epilogue (after the modules it
 * needs) completed by gemm.wgsl, plus gemm_subgroup.wgsl when the tile uses subgroups.
 */
export function gemmSpec<B extends Bindings, U extends Uniforms>(
  name: string,
  parts: readonly WgslModule[],
  bindings: B,
  uniforms: U,
  t: TileShape,
): KernelSpec<B, U> {
  const constants = tileConstants(t);
  const tile = { ...t };
  if (!t.subgroups) return { name, ...linked(...parts, SHADERS.gemm), bindings, uniforms, constants, tile };
  return {
    name,
    ...linked(enableModule('subgroups'), ...parts, SHADERS.gemm, SHADERS.gemmSubgroup),
    bindings,
    uniforms,
    constants,
    entryPoint: 'main_subgroup',
    tile,
  };
}

/**
 * What the weight-step kernels (update.wgsl, update_centered.wgsl) link before
 * their own file, which supplies the GEMM operands: Hyper, the batch's Dims and
 * row weights, and the shared bindings 0–5 with the momentum-step epilogue.
 */
const UPDATE_STEP_MODULES = [SHADERS.hyper, SHADERS.updateBatch, SHADERS.updateStep] as const;

export const KERNELS = {
  hidden: (t: TileShape = DEFAULT_TILE) =>
    gemmSpec(
      'hidden',
      [SHADERS.rng, SHADERS.math, SHADERS.hidden],
      { dims: 'uniform', counter: 'read', vis: 'read', W: 'read', c: 'read', hid_prob: 'rw', hid_sample: 'rw' } as const,
      { dims: HIDDEN_DIMS },
      t,
    ),
  /** The visible pass of the layer whose unit module is `unit` (src/units: `unitType(name).wgsl`). */
  visible: (t: TileShape = DEFAULT_TILE, unit: UnitModule = DEFAULT_UNIT) =>
    gemmSpec(
      'visible',
      [...unitModules(unit), SHADERS.visible],
      { dims: 'uniform', counter: 'read', hid_sample: 'read', W: 'read', b: 'read', vis_prob: 'rw', vis: 'rw' } as const,
      { dims: VISIBLE_DIMS },
      t,
    ),
  update: (t: TileShape = DEFAULT_TILE) =>
    gemmSpec(
      'update',
      [...UPDATE_STEP_MODULES, SHADERS.update],
      { dims: 'uniform', hyper: 'uniform', vis: 'read', hid_prob: 'read', W: 'rw', vel: 'rw' } as const,
      { dims: UPDATE_DIMS, hyper: HYPER },
      t,
    ),
  biasUpdate: () => ({
    name: 'bias_update',
    ...linked(SHADERS.hyper, SHADERS.updateBatch, SHADERS.biasUpdate),
    bindings: {
      dims: 'uniform', hyper: 'uniform', vis: 'read', hid_prob: 'read',
      b: 'rw', c: 'rw', b_vel: 'rw', c_vel: 'rw', counter: 'rw', q: 'rw',
    } as const,
    uniforms: { dims: UPDATE_DIMS, hyper: HYPER },
  }),
  /** update.wgsl's step with centered operands (v − μ)(h − λ)ᵀ; leaves ΔW in vel for centerBias. */
  updateCentered: (t: TileShape = DEFAULT_TILE) =>
    gemmSpec(
      'update_centered',
      [...UPDATE_STEP_MODULES, SHADERS.updateCentered],
      { dims: 'uniform', hyper: 'uniform', vis: 'read', hid_prob: 'read', W: 'rw', vel: 'rw', mu: 'read', lambda: 'read' } as const,
      { dims: UPDATE_DIMS, hyper: HYPER },
      t,
    ),
  /** The centered offsets' sliding averages of the batch's data means (before updateCentered). */
  centerOffsets: () => ({
    name: 'center_offsets',
    ...linked(SHADERS.centerOffsets),
    bindings: { dims: 'uniform', vis: 'read', hid_prob: 'read', mu: 'rw', lambda: 'rw' } as const,
    uniforms: { dims: CENTER_DIMS },
  }),
  /** The ordinary biases' share of a centered step: b −= ΔW·λ, c −= ΔWᵀ·μ (after bias_update). */
  centerBias: () => ({
    name: 'center_bias',
    ...linked(SHADERS.updateBatch, SHADERS.centerBias),
    bindings: { dims: 'uniform', vel: 'read', mu: 'read', lambda: 'read', b: 'rw', c: 'rw' } as const,
    uniforms: { dims: UPDATE_DIMS },
  }),
  gather: () => ({
    name: 'gather',
    code: rngWGSL + gatherWGSL,
    bindings: { dims: 'uniform', counter: 'read', perm: 'read', data: 'read', vis: 'rw' } as const,
    uniforms: { dims: GATHER_DIMS },
  }),
  reconError: () => ({
    name: 'recon_error',
    ...linked(SHADERS.reconError),
    bindings: { dims: 'uniform', counter: 'read', vis: 'read', vis_prob: 'read', metrics: 'rw' } as const,
    uniforms: { dims: RECON_DIMS },
  }),
  clamp: () => ({
    name: 'clamp',
    ...linked(SHADERS.clamp),
    bindings: { dims: 'uniform', mask: 'read', values: 'read', vis: 'rw', vis_prob: 'rw' } as const,
    uniforms: { dims: CLAMP_DIMS },
  }),
  advance: () => ({
    name: 'advance',
    ...linked(SHADERS.advance),
    bindings: { counter: 'rw' } as const,
    uniforms: {},
  }),
  /** Non-finite counts of parameters, velocities and metrics (divergence); see FINITE_FLAG. */
  finiteCheck: () => ({
    name: 'finite_check',
    ...linked(SHADERS.finiteCheck),
    bindings: {
      dims: 'uniform', w: 'read', b: 'read', c: 'read', w_vel: 'read', b_vel: 'read', c_vel: 'read', metrics: 'read', flags: 'rw',
    } as const,
    uniforms: { dims: FINITE_CHECK_DIMS },
  }),
  /** PT (β per replica) and AIS (β per step). */
  temperedHidden: (t: TileShape = DEFAULT_TILE) =>
    gemmSpec(
      'tempered_hidden',
      [SHADERS.rng, SHADERS.math, SHADERS.tempered, SHADERS.temperedHidden],
      { dims: 'uniform', counter: 'read', betas: 'read', vis: 'read', W: 'read', c: 'read', x_out: 'rw', hid: 'rw' } as const,
      { dims: TEMPERED_DIMS },
      t,
    ),
  /** PT (β per replica, b_base = 0) and AIS (β per step), for the layer whose unit module is `unit`. */
  temperedVisible: (t: TileShape = DEFAULT_TILE, unit: UnitModule = DEFAULT_UNIT) =>
    gemmSpec(
      'tempered_visible',
      [...unitModules(unit), SHADERS.tempered, SHADERS.temperedVisible],
      {
        dims: 'uniform', counter: 'read', betas: 'read', hid: 'read', W: 'read', b: 'read', b_base: 'read', vis_prob: 'rw', vis: 'rw',
      } as const,
      { dims: TEMPERED_DIMS },
      t,
    ),
  softplusTerms: (t: TileShape = DEFAULT_TILE) =>
    gemmSpec(
      'softplus_terms',
      [SHADERS.math, SHADERS.softplusTerms],
      { dims: 'uniform', data: 'read', W: 'read', c: 'read', terms: 'rw' } as const,
      { dims: SOFTPLUS_TERMS_DIMS },
      t,
    ),
  /** F(v) from the softplus terms, with the visible bias terms of the layer whose unit module is `unit`. */
  freeEnergy: (unit: UnitModule = DEFAULT_UNIT) => ({
    name: 'free_energy',
    ...linked(...unitModules(unit), SHADERS.freeEnergy),
    bindings: { dims: 'uniform', data: 'read', terms: 'read', b: 'read', out: 'rw' } as const,
    uniforms: { dims: FREE_ENERGY_DIMS },
  }),
  /** Softmax regression (src/rbm/classifier.ts): class probabilities of a mini-batch, one workgroup per row. */
  softmaxForward: () => ({
    name: 'softmax_forward',
    ...linked(SHADERS.softmax, SHADERS.softmaxForward),
    bindings: { dims: 'uniform', state: 'read', perm: 'read', x: 'read', W: 'read', b: 'read', prob: 'rw' } as const,
    uniforms: { dims: SOFTMAX_DIMS },
  }),
  /** Softmax regression: one momentum step on W and b from softmaxForward's probabilities. */
  softmaxUpdate: () => ({
    name: 'softmax_update',
    ...linked(SHADERS.softmax, SHADERS.softmaxUpdate),
    bindings: {
      dims: 'uniform', optim: 'uniform', state: 'read', perm: 'read', x: 'read', labels: 'read', prob: 'read',
      W: 'rw', b: 'rw', w_vel: 'rw', b_vel: 'rw',
    } as const,
    uniforms: { dims: SOFTMAX_DIMS, optim: SOFTMAX_OPTIM },
  }),
  // Factories take (tile?) — GEMM kernels — or nothing; those linked with a visible
  // layer also take its unit module: (tile?, unit?) or, freeEnergy, (unit?).
} as const satisfies Record<string, (...args: never[]) => KernelSpec>;

/** softmax_forward.wgsl's workgroup size (one workgroup per row) and the most classes it takes. */
export const SOFTMAX_FORWARD_WORKGROUP_SIZE = 64;
export const SOFTMAX_MAX_CLASSES = 256;

export const BIAS_WORKGROUP_SIZE = 64;
/** finite_check.wgsl's workgroup size, and the most workgroups one scan uses (it strides beyond). */
export const FINITE_CHECK_WORKGROUP_SIZE = 256;
export const FINITE_CHECK_MAX_GROUPS = 256;
/** Words of finite_check's flags buffer: non-finite parameters, velocities, metrics (word 3 unused). */
export const FINITE_FLAG = { params: 0, velocities: 1, metrics: 2, words: 4 } as const;
/** Workgroup size of the one-invocation-per-element kernels (gather, clamp). */
export const ELEMENT_WORKGROUP_SIZE = 256;

/** Workgroup counts (x, y) covering `count` elements, spilling into y past the device limit. */
export function elementGrid(device: DeviceLike, count: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / ELEMENT_WORKGROUP_SIZE));
  const maxX = deviceOf(device).limits.maxComputeWorkgroupsPerDimension;
  const x = Math.min(groups, maxX);
  return [x, Math.ceil(groups / x)];
}

/** A compiled kernel: its pipeline and the layout its bind groups must follow. */
export class Kernel<B extends Bindings = Bindings, U extends Uniforms = Uniforms> {
  constructor(
    readonly spec: KernelSpec<B, U>,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    private readonly device: GPUDevice,
  ) {}

  /** A bind group from one buffer per binding, by the names of spec.bindings. */
  bind(buffers: BoundBuffers<B>, label = this.spec.name): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout: this.layout,
      entries: bindingEntries(this.spec, buffers),
    });
  }

  /** Packs the struct of the uniform binding `binding` (e.g. 'dims') by field name. */
  pack<N extends keyof U & string>(binding: N, values: FieldValues<U[N]>): ArrayBuffer {
    const fields = this.spec.uniforms[binding];
    if (!fields) {
      throw new Error(`kernel ${this.spec.name} has no uniform struct ${binding} (uniforms: ${Object.keys(this.spec.uniforms).join(', ')})`);
    }
    return packFields(fields, values, `kernel ${this.spec.name} uniform ${binding}`);
  }

  dispatch(pass: GPUComputePassEncoder, group: GPUBindGroup, x: number, y = 1, z = 1): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
  }
}

/** The compiled kernel of a spec factory: `KernelOf<typeof KERNELS.hidden>`. */
export type KernelOf<F extends (...args: never[]) => KernelSpec> =
  ReturnType<F> extends KernelSpec<infer B, infer U> ? Kernel<B, U> : never;

/** Bind group entries in binding order; missing or unknown names throw, naming the kernel and its bindings. */
export function bindingEntries<B extends Bindings>(spec: KernelSpec<B, Uniforms>, buffers: BoundBuffers<B>): GPUBindGroupEntry[] {
  const names = Object.keys(spec.bindings);
  const given = buffers as Readonly<Record<string, GPUBuffer | undefined>>;
  const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(given, n) || given[n] === undefined);
  const extra = Object.keys(given).filter((n) => !Object.prototype.hasOwnProperty.call(spec.bindings, n));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `unknown ${extra.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    throw new Error(`kernel ${spec.name} bind: ${problems} (bindings: ${names.join(', ')})`);
  }
  return names.map((n, binding) => ({ binding, resource: { buffer: given[n] as GPUBuffer } }));
}

const BUFFER_TYPE: Record<BindingKind, GPUBufferBindingType> = {
  uniform: 'uniform',
  read: 'read-only-storage',
  rw: 'storage',
};

/** The per-device pipeline cache (in each device's GpuContext). */
export const PIPELINE_CACHE = new CacheKey<Kernel>('pipelines');

/**
 * The pipeline cache key of a spec: everything the compiled kernel depends on
 * (name, entry point, constants, bindings, uniform structs) and the linked code
 * itself, so two specs that differ in any of them never share a pipeline.
 */
export function pipelineKey(spec: KernelSpec): string {
  const meta = JSON.stringify([spec.name, spec.entryPoint ?? 'main', spec.constants ?? {}, spec.bindings, spec.uniforms]);
  return `${meta}\n${spec.code}`;
}

/** Compiles (once per device, code and constants) and returns the kernel. */
export function getKernel<B extends Bindings, U extends Uniforms>(device: DeviceLike, spec: KernelSpec<B, U>): Promise<Kernel<B, U>> {
  const gpu = deviceOf(device);
  const kernel = contextOf(device).cache(PIPELINE_CACHE).get(pipelineKey(spec), () => compile(gpu, spec));
  return kernel as Promise<Kernel<B, U>>;
}

/** A kernel's WGSL did not compile; the message names each error's shader file, line and column. */
export class WgslCompileError extends Error {
  override name = 'WgslCompileError';
  constructor(
    readonly kernel: string,
    /** One entry per compiler error: `shaders/<file>.wgsl:<line>:<col> message`, then the source line. */
    readonly diagnostics: readonly string[],
  ) {
    super(`WGSL compile error in kernel ${kernel}:\n${diagnostics.join('\n')}`);
  }
}

/** Where the lines of a spec's code came from: its link map, or traced from the known shader files. */
export function specSource(spec: KernelSpec): LinkedWgsl {
  return spec.source && spec.source.code === spec.code ? spec.source : traceModules(spec.code, `<kernel ${spec.name}>`);
}

async function compile(device: GPUDevice, spec: KernelSpec): Promise<Kernel> {
  // In a validation scope: a shader that does not compile is reported once, by
  // the error below with file and line, not also as an uncaptured device error
  // with line numbers in the linked code.
  const created = await contextOf(device).captureErrors('validation', () =>
    device.createShaderModule({ label: spec.name, code: spec.code }),
  );
  const module = created.value;
  const context = contextOf(device);
  const info = await context.raceLoss(module.getCompilationInfo());
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const source = specSource(spec);
    throw new WgslCompileError(spec.name, errors.map((m) => formatMessage(source, m, `kernel ${spec.name}`)));
  }
  if (created.error) throw new GpuScopeError('validation', `creating the shader module of kernel ${spec.name}`, created.error.message);
  const layout = device.createBindGroupLayout({
    label: spec.name,
    entries: Object.values(spec.bindings).map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: BUFFER_TYPE[kind] },
    })),
  });
  const pipeline = await context.raceLoss(device.createComputePipelineAsync({
    label: spec.name,
    layout: device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: spec.entryPoint ?? 'main', constants: spec.constants ?? {} },
  }));
  return new Kernel(spec, pipeline, layout, device);
}
