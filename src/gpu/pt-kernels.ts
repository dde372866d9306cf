// Kernels of parallel tempering (src/rbm/tempering.ts): same KernelSpec shape
// as KERNELS in kernels.ts, compiled and cached by the same getKernel().
import rngWGSL from '../../shaders/rng.wgsl?raw';
import mathWGSL from '../../shaders/math.wgsl?raw';
import ptSwapWGSL from '../../shaders/pt_swap.wgsl?raw';
import { KERNELS, type KernelSpec } from './kernels';

/** Workgroup size of pt_swap (one invocation per pair and chain). */
export const PT_SWAP_WORKGROUP_SIZE = 64;

/**
 * RNG phases of one tempered sweep (defined with every other stream in
 * src/host/rng-streams.ts). The sweep step (counter[0]) keys Philox with the
 * seed; the element index and the phase make the counter.
 */
export { PT_PHASE } from '../host/rng-streams';

export const PT_KERNELS = {
  /** [dims, counter, betas, vis, W, c, x, hid]; dims.chains > 0 picks β per replica. */
  hidden: KERNELS.temperedHidden,
  /** tempered_visible with dims.chains > 0 and b_base = 0: β per replica. */
  visible: KERNELS.temperedVisible,
  /** [dims, counter, betas, b, x, vis, hid, accepted] */
  swap: (): KernelSpec => ({
    name: 'pt_swap',
    code: rngWGSL + mathWGSL + ptSwapWGSL,
    bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'],
  }),
} as const;
