// What the engines (training, sampling, tempering, evaluation) need of a
// model, below the RBM class: its device, sizes, unit type, seed and
// parameter buffers, a liveness check, and — for training — the optimiser
// state and the training lock. model.ts implements these; the engines depend
// on them, not on the RBM class, so nothing imports model.ts but the public API.
import { BufferOwner, writeArray } from '../gpu/buffers';
import type { VisibleType } from './model-file';

export interface RBMParamsF32 {
  W: Float32Array;
  b: Float32Array;
  c: Float32Array;
}

/** A model's parameters on the GPU, as sampling and evaluation read them. */
export interface ModelParams {
  readonly device: GPUDevice;
  readonly visible: number;
  readonly hidden: number;
  /** The visible layer's unit type: the engines ask its descriptor, `unitType(visibleType)` (src/units). */
  readonly visibleType: VisibleType;
  /** A Potts layer's states per site q (visible = sites × q; `visibleUnit(model)` in src/units); absent for other unit types. */
  readonly visibleStates?: number;
  /** Seeds initialisation and, by default, every sampling kernel. */
  readonly seed: number;
  /** W [V, H] row-major, b [V], c [H] (float32). */
  readonly W: GPUBuffer;
  readonly b: GPUBuffer;
  readonly c: GPUBuffer;
  /** Throws DisposedError if the model was disposed, DeviceLostError if its device is lost. */
  assertLive(): void;
}

/** A model that training updates: its parameters, their optimiser state and its one-run-at-a-time lock. */
export interface TrainableModel extends ModelParams {
  readonly optimiser: OptimiserState;
  /** Throws ModelBusyError if a run holds the model already, else holds it until the returned release(). */
  lockForTraining(): () => void;
  readParams(): Promise<RBMParamsF32>;
  /** Writes W, b, c and clears the optimiser state (for the training loop, which holds the lock). */
  restoreParams(params: RBMParamsF32): void;
}

/**
 * The optimiser's state: the momentum (velocity) buffers of W, b and c. The
 * model owns it (its buffers live and die with the model's); the update
 * kernels and the divergence check receive it.
 */
export class OptimiserState {
  /** Velocity of W [V, H]. */
  readonly W: GPUBuffer;
  /** Velocity of b [V]. */
  readonly b: GPUBuffer;
  /** Velocity of c [H]. */
  readonly c: GPUBuffer;

  constructor(
    private readonly owner: BufferOwner,
    readonly visible: number,
    readonly hidden: number,
  ) {
    this.W = owner.storage('W velocity', visible * hidden * 4);
    this.b = owner.storage('b velocity', visible * 4);
    this.c = owner.storage('c velocity', hidden * 4);
  }

  /** Zeroes every velocity (queued writes, in the order W, b, c). */
  clear(): void {
    this.owner.assertLive();
    const d = this.owner.device;
    writeArray(d, this.W, 0, new Float32Array(this.visible * this.hidden));
    writeArray(d, this.b, 0, new Float32Array(this.visible));
    writeArray(d, this.c, 0, new Float32Array(this.hidden));
  }
}
