// Kernels of the evaluation code (exact log Z, AIS): same KernelSpec shape as
// KERNELS in kernels.ts, compiled and cached by the same getKernel().
import logzChunkWGSL from '../../shaders/logz_chunk.wgsl?raw';
import logzCombineWGSL from '../../shaders/logz_combine.wgsl?raw';
import aisWeightWGSL from '../../shaders/ais_weight.wgsl?raw';
import { DEFAULT_UNIT, KERNELS, linked, LOG_WEIGHT_DIMS, SHADERS, unitModules, type KernelSpec, type UniformFields, type UnitModule } from './kernels';
import { wgslModule } from './wgsl-link';

/** The shader files of the evaluation kernels, as named linker modules. */
export const EVAL_SHADERS = {
  logzChunk: wgslModule('logz_chunk.wgsl', logzChunkWGSL),
  logzCombine: wgslModule('logz_combine.wgsl', logzCombineWGSL),
  aisWeight: wgslModule('ais_weight.wgsl', aisWeightWGSL),
} as const;

/** States one logz_chunk workgroup enumerates (its workgroup size). */
export const LOGZ_STATES_PER_GROUP = 256;
/** Workgroup size of logz_combine (one workgroup per chunk). */
export const LOGZ_COMBINE_SIZE = 256;

/** logz_chunk.wgsl's Dims; `mode` is the unit type's exactLogZ.chunkMode, `states` a Potts layer's q (else 0). */
export const LOGZ_CHUNK_DIMS = {
  n_enum: 'u32', n_other: 'u32', stride_l: 'u32', stride_k: 'u32', chunk_states: 'u32', mode: 'u32', states: 'u32', _pad2: 'u32',
} as const satisfies UniformFields;
/** logz_combine.wgsl's Dims. */
export const LOGZ_COMBINE_DIMS = { groups: 'u32', _pad0: 'u32', _pad1: 'u32', _pad2: 'u32' } as const satisfies UniformFields;
/** ais_weight.wgsl's Dims (log_weight.wgsl's struct). */
export const AIS_WEIGHT_DIMS = LOG_WEIGHT_DIMS;

export const EVAL_KERNELS = {
  logzChunk: () => ({
    name: 'logz_chunk',
    ...linked(SHADERS.math, EVAL_SHADERS.logzChunk),
    bindings: { dims: 'uniform', counter: 'read', W: 'read', a: 'read', d: 'read', partials: 'rw' } as const,
    uniforms: { dims: LOGZ_CHUNK_DIMS },
  }),
  logzCombine: () => ({
    name: 'logz_combine',
    ...linked(EVAL_SHADERS.logzCombine),
    bindings: { dims: 'uniform', counter: 'rw', partials: 'read', results: 'rw' } as const,
    uniforms: { dims: LOGZ_COMBINE_DIMS },
  }),
  /** tempered_hidden with dims.chains = 0: every run at β = betas[step]. */
  aisHidden: KERNELS.temperedHidden,
  /**
   * tempered_visible with dims.chains = 0: every run at β = betas[step], mixed with the
   * base-rate biases; (tile?, unit?) for the layer whose unit module is `unit`.
   */
  aisVisible: KERNELS.temperedVisible,
  /** One β step's log-weight increments, the visible bias terms from the layer's unit module `unit`. */
  aisWeight: (unit: UnitModule = DEFAULT_UNIT) => ({
    name: 'ais_weight',
    ...linked(...unitModules(unit), EVAL_SHADERS.aisWeight, SHADERS.logWeight),
    bindings: {
      dims: 'uniform', counter: 'read', betas: 'read', x: 'read', vis: 'read', b: 'read', b_base: 'read', logw: 'rw',
    } as const,
    uniforms: { dims: AIS_WEIGHT_DIMS },
  }),
} as const satisfies Record<string, (...args: never[]) => KernelSpec>;
