// Dispatch plans: the dispatches an engine records over and over (a CD
// update, a Gibbs or tempered sweep, an AIS step), each with its grid
// computed once from the kernel's own tile or workgroup size and checked once
// against the device's maxComputeWorkgroupsPerDimension, with one message.
//
//   const plan = new DispatchPlan(device, { hint: 'use a smaller batch or model' });
//   plan.add(hidden, { dims, counter, vis, W, c, hid_prob, hid_sample }, { rows: B, cols: H });
//   plan.add(clamp, { dims, mask, values, vis, vis_prob }, { elements: n * V });
//   plan.add(advance, { counter }, { groups: [1] });
//   plan.encode(pass);            // every dispatch, in the order added
//
// Uniform writes between passes (queue.writeBuffer) stay with the engines.
import {
  COLS_PER_VEC4,
  ELEMENT_WORKGROUP_SIZE,
  type Bindings,
  type BoundBuffers,
  type Kernel,
  type TileShape,
  type Uniforms,
} from './kernels';

/**
 * How many workgroups a dispatch needs:
 * - `{ rows, cols }`: a tiled GEMM kernel writing a [rows, cols] output;
 *   x = ⌈cols / tile columns⌉, y = ⌈rows / tile rows⌉ from the kernel's own tile.
 * - `{ elements, workgroupSize? }`: one invocation per element (default
 *   workgroup size ELEMENT_WORKGROUP_SIZE), the groups spilling from x into y
 *   past the device limit (the kernel folds (x, y) back into one index).
 * - `{ groups: [x, y?] }`: given outright.
 */
export type DispatchShape =
  | { readonly rows: number; readonly cols: number }
  | { readonly elements: number; readonly workgroupSize?: number }
  | { readonly groups: readonly [number, number?] };

/** Output rows and columns one workgroup of a tiled GEMM kernel covers. */
export interface KernelTile {
  rows: number;
  cols: number;
}

/**
 * The tile of a GEMM kernel, read from the kernel itself: its spec's `tile`
 * when it has one, else its override constants (WG_COLS, WG_ROWS,
 * THREAD_ROWS, VEC_COLS, as tileConstants writes them). Agrees with
 * tileRows / tileCols of the TileShape it was compiled with.
 */
export function kernelTile(kernel: Pick<Kernel, 'spec'>): KernelTile {
  const spec = kernel.spec as Kernel['spec'] & { tile?: TileShape };
  if (spec.tile) {
    const t = spec.tile;
    return { rows: t.wgRows * t.threadRows, cols: t.wgCols * COLS_PER_VEC4 * (t.vecCols ?? 1) };
  }
  const c = spec.constants ?? {};
  if (c.WG_COLS === undefined || c.WG_ROWS === undefined || c.THREAD_ROWS === undefined) {
    throw new Error(
      `kernel ${spec.name} has no GEMM tile (WG_COLS, WG_ROWS, THREAD_ROWS): give its grid as { elements } or { groups }, not { rows, cols }`,
    );
  }
  return { rows: c.WG_ROWS * c.THREAD_ROWS, cols: c.WG_COLS * COLS_PER_VEC4 * (c.VEC_COLS ?? 1) };
}

/** The (x, y) workgroup counts of `shape` for `kernel`, before any limit check. */
export function dispatchGrid(kernel: Pick<Kernel, 'spec'>, shape: DispatchShape, maxPerDimension: number): [number, number] {
  if ('groups' in shape) return [shape.groups[0], shape.groups[1] ?? 1];
  if ('elements' in shape) {
    const groups = Math.max(1, Math.ceil(shape.elements / (shape.workgroupSize ?? ELEMENT_WORKGROUP_SIZE)));
    const x = Math.min(groups, maxPerDimension);
    return [x, Math.ceil(groups / x)];
  }
  const t = kernelTile(kernel);
  return [Math.ceil(shape.cols / t.cols), Math.ceil(shape.rows / t.rows)];
}

/** One recorded dispatch of a plan. */
export interface PlannedDispatch {
  readonly kernel: Kernel;
  readonly group: GPUBindGroup;
  readonly x: number;
  readonly y: number;
  /** Records this dispatch alone into `pass`. */
  encode(pass: GPUComputePassEncoder): void;
}

export interface PlanOptions {
  /** What the caller can change when a grid is over the limit ("use fewer runs"); ends the error message. */
  hint?: string;
}

/**
 * A list of dispatches with their bind groups and grids, checked against the
 * device's limits as they are added, recorded as often as needed.
 */
export class DispatchPlan {
  private readonly list: PlannedDispatch[] = [];
  private readonly maxPerDimension: number;

  constructor(
    readonly device: GPUDevice,
    private readonly options: PlanOptions = {},
  ) {
    this.maxPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
  }

  /** Adds a dispatch of `kernel`, bound by name, with the grid `shape` needs; throws if the grid is over the limit. */
  add<B extends Bindings, U extends Uniforms>(kernel: Kernel<B, U>, buffers: BoundBuffers<B>, shape: DispatchShape): PlannedDispatch {
    const [x, y] = this.grid(kernel, shape);
    return this.push(kernel, kernel.bind(buffers), x, y);
  }

  /** Adds a dispatch with a bind group made elsewhere (shared between plans). */
  addGroup(kernel: Kernel, group: GPUBindGroup, shape: DispatchShape): PlannedDispatch {
    const [x, y] = this.grid(kernel, shape);
    return this.push(kernel, group, x, y);
  }

  /** The grid of `shape` for `kernel`, checked against this device's maxComputeWorkgroupsPerDimension. */
  grid(kernel: Pick<Kernel, 'spec'>, shape: DispatchShape): [number, number] {
    const [x, y] = dispatchGrid(kernel, shape, this.maxPerDimension);
    for (const [axis, n] of [['x', x], ['y', y]] as const) {
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`kernel ${kernel.spec.name}: a dispatch needs a positive whole number of workgroups in ${axis}, got ${n}`);
      }
    }
    const max = this.maxPerDimension;
    if (x > max || y > max) {
      const hint = this.options.hint ? `; ${this.options.hint}` : '';
      throw new RangeError(
        `kernel ${kernel.spec.name} needs ${Math.max(x, y)} workgroups in one dimension but this device's ` +
          `maxComputeWorkgroupsPerDimension is ${max} (grid ${x} × ${y}${describeShape(shape)})${hint}.`,
      );
    }
    return [x, y];
  }

  private push(kernel: Kernel, group: GPUBindGroup, x: number, y: number): PlannedDispatch {
    const d: PlannedDispatch = { kernel, group, x, y, encode: (pass) => kernel.dispatch(pass, group, x, y) };
    this.list.push(d);
    return d;
  }

  /** The dispatches, in the order added. */
  get dispatches(): readonly PlannedDispatch[] {
    return this.list;
  }

  /** Records every dispatch, in the order added, `times` times over. */
  encode(pass: GPUComputePassEncoder, times = 1): void {
    for (let t = 0; t < times; t++) for (const d of this.list) d.encode(pass);
  }
}

function describeShape(shape: DispatchShape): string {
  if ('groups' in shape) return '';
  if ('elements' in shape) return ` for ${shape.elements} elements`;
  return ` for a ${shape.rows} × ${shape.cols} output`;
}
