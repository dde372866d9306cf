// The Potts layer's group pass (shaders/potts_group.wgsl): softmax and one-hot
// draw per site after a visible pass, for the layers whose unit type has a
// `group` (src/units/potts.ts). Same KernelSpec shape as KERNELS in kernels.ts.
import pottsGroupWGSL from '../../shaders/potts_group.wgsl?raw';
import { linked, SHADERS, type KernelSpec, type UniformFields } from './kernels';
import { wgslModule } from './wgsl-link';

/** potts_group.wgsl as a named linker module. */
export const POTTS_GROUP = wgslModule('potts_group.wgsl', pottsGroupWGSL);

/** potts_group.wgsl's workgroup size (one invocation per row and site). */
export const POTTS_GROUP_WORKGROUP_SIZE = 256;

/** potts_group.wgsl's Dims; `flags` takes VISIBLE_FLAGS (the flags of the visible pass it follows). */
export const POTTS_GROUP_DIMS = {
  rows: 'u32', row_offset: 'u32', sites: 'u32', states: 'u32', phase: 'u32', seed: 'u32', flags: 'u32', _pad: 'u32',
} as const satisfies UniformFields;

export const POTTS_KERNELS = {
  group: () => ({
    name: 'potts_group',
    ...linked(SHADERS.rng, POTTS_GROUP),
    bindings: { dims: 'uniform', counter: 'read', vis_prob: 'rw', vis: 'rw' } as const,
    uniforms: { dims: POTTS_GROUP_DIMS },
  }),
} as const satisfies Record<string, (...args: never[]) => KernelSpec>;
