// Kernels of the evaluation code (exact log Z, AIS): same KernelSpec shape as
// KERNELS in kernels.ts, compiled and cached by the same getKernel().
import mathWGSL from '../../shaders/math.wgsl?raw';
import logzChunkWGSL from '../../shaders/logz_chunk.wgsl?raw';
import logzCombineWGSL from '../../shaders/logz_combine.wgsl?raw';
import aisWeightWGSL from '../../shaders/ais_weight.wgsl?raw';
import { KERNELS, type KernelSpec } from './kernels';

/** States one logz_chunk workgroup enumerates (its workgroup size). */
export const LOGZ_STATES_PER_GROUP = 256;
/** Workgroup size of logz_combine (one workgroup per chunk). */
export const LOGZ_COMBINE_SIZE = 256;

export const EVAL_KERNELS = {
  logzChunk: (): KernelSpec => ({
    name: 'logz_chunk',
    code: mathWGSL + logzChunkWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw'],
  }),
  logzCombine: (): KernelSpec => ({
    name: 'logz_combine',
    code: logzCombineWGSL,
    bindings: ['uniform', 'rw', 'read', 'rw'],
  }),
  /** tempered_hidden with dims.chains = 0: every run at β = betas[step]. */
  aisHidden: KERNELS.temperedHidden,
  /** tempered_visible with dims.chains = 0: every run at β = betas[step], mixed with the base-rate biases. */
  aisVisible: KERNELS.temperedVisible,
  aisWeight: (): KernelSpec => ({
    name: 'ais_weight',
    code: mathWGSL + aisWeightWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'],
  }),
} as const;
