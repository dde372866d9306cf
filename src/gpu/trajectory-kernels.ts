// Kernels of trajectory annealing (src/rbm/trajectory.ts): same KernelSpec
// shape as KERNELS in kernels.ts, compiled and cached by the same getKernel().
// The Gibbs passes are the existing tempered_hidden (at β = 1, for x = vW + c)
// and visible kernels; these two are trajectory AIS's own.
import trajectoryLerpWGSL from '../../shaders/trajectory_lerp.wgsl?raw';
import trajectoryWeightWGSL from '../../shaders/trajectory_weight.wgsl?raw';
import { DEFAULT_UNIT, linked, LOG_WEIGHT_DIMS, SHADERS, unitModules, type KernelSpec, type UniformFields, type UnitModule } from './kernels';
import { wgslModule } from './wgsl-link';

/** The shader files of the trajectory kernels, as named linker modules. */
export const TRAJECTORY_SHADERS = {
  lerp: wgslModule('trajectory_lerp.wgsl', trajectoryLerpWGSL),
  weight: wgslModule('trajectory_weight.wgsl', trajectoryWeightWGSL),
} as const;

/** trajectory_lerp.wgsl's workgroup size (one invocation per parameter). */
export const TRAJECTORY_LERP_WORKGROUP_SIZE = 256;

/** trajectory_lerp.wgsl's Dims. */
export const TRAJECTORY_LERP_DIMS = { count: 'u32', _pad0: 'u32', _pad1: 'u32', _pad2: 'u32' } as const satisfies UniformFields;
/** trajectory_weight.wgsl's Dims (log_weight.wgsl's struct). */
export const TRAJECTORY_WEIGHT_DIMS = LOG_WEIGHT_DIMS;

export const TRAJECTORY_KERNELS = {
  /** out = a + s·(b − a) (exactly b at s = 1) with s = s_values[counter[0]]: one tensor of a path point. */
  lerp: () => ({
    name: 'trajectory_lerp',
    ...linked(TRAJECTORY_SHADERS.lerp),
    bindings: { dims: 'uniform', counter: 'read', s_values: 'read', a: 'read', b: 'read', out: 'rw' } as const,
    uniforms: { dims: TRAJECTORY_LERP_DIMS },
  }),
  /** One step's log-weight increments F_a(v) − F_b(v), the visible terms from the layer's unit module `unit`. */
  weight: (unit: UnitModule = DEFAULT_UNIT) => ({
    name: 'trajectory_weight',
    ...linked(...unitModules(unit), TRAJECTORY_SHADERS.weight, SHADERS.logWeight),
    bindings: {
      dims: 'uniform', counter: 'read', x_a: 'read', x_b: 'read', vis: 'read', b_a: 'read', b_b: 'read', logw: 'rw',
    } as const,
    uniforms: { dims: TRAJECTORY_WEIGHT_DIMS },
  }),
} as const satisfies Record<string, (...args: never[]) => KernelSpec>;
