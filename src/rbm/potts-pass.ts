// The group pass of a Potts visible layer in the engines' dispatch plans: after
// every visible pass (visible.wgsl, tempered_visible.wgsl) whose unit module
// passed the fields through, potts_group.wgsl turns each site's q fields into
// a softmax and a one-hot draw (src/gpu/potts-kernels.ts). Layers without
// groups (Bernoulli, Gaussian) get no kernel and no dispatch.
import type { BufferOwner } from '../gpu/buffers';
import { getKernel, type KernelOf } from '../gpu/kernels';
import type { DispatchPlan, PlannedDispatch } from '../gpu/plan';
import { POTTS_KERNELS } from '../gpu/potts-kernels';
import type { UnitType } from '../units';

export type GroupKernel = KernelOf<typeof POTTS_KERNELS.group>;

/** The group-pass kernel of `unit`'s layer, or undefined when its units are not grouped. */
export async function groupKernel(device: GPUDevice, unit: UnitType): Promise<GroupKernel | undefined> {
  if (!unit.grouped) return undefined;
  if (!unit.group) throw new RangeError(`the ${unit.label} layer needs its states per site (unitType('potts', q) or visibleUnit(model))`);
  return getKernel(device, POTTS_KERNELS.group());
}

export interface GroupPassSpec {
  /** Rows the visible pass wrote, from `rowOffset`. */
  rows: number;
  rowOffset: number;
  /** Visible units per row (sites × states). */
  visible: number;
  /** The visible pass's RNG phase, seed and VISIBLE_FLAGS. */
  phase: number;
  seed: number;
  flags: number;
  counter: GPUBuffer;
  visProb: GPUBuffer;
  vis: GPUBuffer;
}

/** Adds the group pass after a visible pass to `plan` (its dims uniform owned by `owner`); undefined without a kernel. */
export function addGroupPass(
  plan: DispatchPlan, kernel: GroupKernel | undefined, unit: UnitType, owner: BufferOwner, label: string, s: GroupPassSpec,
): PlannedDispatch | undefined {
  if (!kernel) return undefined;
  const q = unit.group!.states;
  const sites = s.visible / q;
  const dims = owner.uniform(
    label,
    kernel.pack('dims', { rows: s.rows, row_offset: s.rowOffset, sites, states: q, phase: s.phase, seed: s.seed, flags: s.flags }),
  );
  return plan.add(kernel, { dims, counter: s.counter, vis_prob: s.visProb, vis: s.vis }, { elements: s.rows * sites });
}
