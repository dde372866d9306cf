// Kernels of the evaluation code (exact log Z, AIS): same KernelSpec shape as
// KERNELS in kernels.ts, compiled and cached by the same getKernel().
import rngWGSL from '../../shaders/rng.wgsl?raw';
import mathWGSL from '../../shaders/math.wgsl?raw';
import logzChunkWGSL from '../../shaders/logz_chunk.wgsl?raw';
import logzCombineWGSL from '../../shaders/logz_combine.wgsl?raw';
import aisHiddenWGSL from '../../shaders/ais_hidden.wgsl?raw';
import aisVisibleWGSL from '../../shaders/ais_visible.wgsl?raw';
import aisWeightWGSL from '../../shaders/ais_weight.wgsl?raw';
import gemmWGSL from '../../shaders/gemm.wgsl?raw';
import { DEFAULT_TILE, MAX_THREAD_ROWS, type KernelSpec, type TileShape } from './kernels';

/** States one logz_chunk workgroup enumerates (its workgroup size). */
export const LOGZ_STATES_PER_GROUP = 256;
/** Workgroup size of logz_combine (one workgroup per chunk). */
export const LOGZ_COMBINE_SIZE = 256;

/** gemm.wgsl's override constants (the AIS passes append it like hidden/visible do). */
function gemmConstants(t: TileShape): Record<string, number> {
  if (!Number.isInteger(t.threadRows) || t.threadRows < 1 || t.threadRows > MAX_THREAD_ROWS) {
    throw new RangeError(`threadRows must be an integer in 1..${MAX_THREAD_ROWS}, got ${t.threadRows}`);
  }
  return { WG_COLS: t.wgCols, WG_ROWS: t.wgRows, THREAD_ROWS: t.threadRows, TILE_K: t.tileK, USE_SHARED: t.shared ? 1 : 0 };
}

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
  aisHidden: (t: TileShape = DEFAULT_TILE): KernelSpec => ({
    name: 'ais_hidden',
    code: rngWGSL + mathWGSL + aisHiddenWGSL + gemmWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'],
    constants: gemmConstants(t),
  }),
  aisVisible: (t: TileShape = DEFAULT_TILE): KernelSpec => ({
    name: 'ais_visible',
    code: rngWGSL + mathWGSL + aisVisibleWGSL + gemmWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'],
    constants: gemmConstants(t),
  }),
  aisWeight: (): KernelSpec => ({
    name: 'ais_weight',
    code: mathWGSL + aisWeightWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'],
  }),
} as const;
