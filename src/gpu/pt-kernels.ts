// Kernels of parallel tempering (src/rbm/tempering.ts): same KernelSpec shape
// as KERNELS in kernels.ts, compiled and cached by the same getKernel().
import ptSwapWGSL from '../../shaders/pt_swap.wgsl?raw';
import { KERNELS, linked, SHADERS, type KernelSpec, type UniformFields } from './kernels';
import { wgslModule } from './wgsl-link';

/** pt_swap.wgsl as a named linker module. */
const PT_SWAP = wgslModule('pt_swap.wgsl', ptSwapWGSL);

/** Workgroup size of pt_swap (one invocation per pair and chain). */
export const PT_SWAP_WORKGROUP_SIZE = 64;

/**
 * RNG phases of one tempered sweep (defined with every other stream in
 * src/host/rng-streams.ts). The sweep step (counter[0]) keys Philox with the
 * seed; the element index and the phase make the counter.
 */
export { PT_PHASE } from '../host/rng-streams';

/** pt_swap.wgsl's Dims. */
export const PT_SWAP_DIMS = {
  chains: 'u32', n_vis: 'u32', n_hid: 'u32', parity: 'u32', pairs: 'u32', seed: 'u32', decide_phase: 'u32', resample_phase: 'u32',
} as const satisfies UniformFields;

export const PT_KERNELS = {
  /** tempered_hidden; dims.chains > 0 picks β per replica. */
  hidden: KERNELS.temperedHidden,
  /** tempered_visible with dims.chains > 0 and b_base = 0 (toward uniform) or b (toward σ(b)): β per replica; (tile?, unit?) as KERNELS.temperedVisible. */
  visible: KERNELS.temperedVisible,
  swap: () => ({
    name: 'pt_swap',
    ...linked(SHADERS.rng, SHADERS.math, PT_SWAP),
    bindings: {
      dims: 'uniform', counter: 'read', betas: 'read', b: 'read', x: 'read', vis: 'rw', hid: 'rw', accepted: 'rw', b_base: 'read',
    } as const,
    uniforms: { dims: PT_SWAP_DIMS },
  }),
} as const satisfies Record<string, (...args: never[]) => KernelSpec>;
