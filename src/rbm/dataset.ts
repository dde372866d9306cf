// A data set resident on the GPU: intensities [N, V] in [0, 1] plus the
// epoch's permutation, read by gather.wgsl to build each mini-batch.
import { BufferOwner, writeArray } from '../gpu/buffers';
import { checkSize } from './validate';

export type BinarizeMode = 'none' | 'threshold' | 'stochastic';
/** The values a `binarize` option accepts. */
export const BINARIZE_MODES: readonly BinarizeMode[] = ['stochastic', 'threshold', 'none'];

export class GpuDataset {
  readonly data: GPUBuffer;
  readonly perm: GPUBuffer;
  private readonly owner: BufferOwner;

  private constructor(
    readonly device: GPUDevice,
    readonly count: number,
    readonly dim: number,
    values: Float32Array,
  ) {
    this.owner = new BufferOwner(device, `dataset ${count}x${dim}`);
    this.data = this.owner.storage('data', values);
    this.perm = this.owner.storage('permutation', Uint32Array.from({ length: count }, (_, i) => i));
  }

  /**
   * Uploads `values` ([count, dim], row-major). Values must lie in [0, 1];
   * with `requireBinary` (no binarization in the gather) they must be 0 or 1;
   * with `realValued` (Gaussian visible units) any finite value goes.
   */
  static upload(device: GPUDevice, values: Float32Array, dim: number, requireBinary = false, realValued = false): GpuDataset {
    checkSize('data dimension', dim);
    if (!(values instanceof Float32Array) || values.length === 0 || values.length % dim !== 0) {
      throw new RangeError(`data has ${values?.length} values, which is not a positive multiple of ${dim} per row`);
    }
    for (let e = 0; e < values.length; e++) {
      const x = values[e];
      if (realValued) {
        if (!Number.isFinite(x)) {
          throw new RangeError(`data row ${Math.floor(e / dim)}, column ${e % dim} is ${x}: values must be finite`);
        }
        continue;
      }
      if (!(x >= 0 && x <= 1)) {
        throw new RangeError(
          `data row ${Math.floor(e / dim)}, column ${e % dim} is ${x}: values must be finite and in [0, 1]` +
            ' (scale images to [0, 1] first)',
        );
      }
      if (requireBinary && x !== 0 && x !== 1) {
        throw new RangeError(
          `data row ${Math.floor(e / dim)}, column ${e % dim} is ${x}: a Bernoulli RBM without binarization ` +
            "needs 0/1 data; pass binarize: 'threshold' or 'stochastic'.",
        );
      }
    }
    return new GpuDataset(device, values.length / dim, dim, values);
  }

  /** Writes the order in which this epoch visits the rows. */
  setPermutation(perm: Uint32Array): void {
    if (perm.length !== this.count) {
      throw new RangeError(`permutation has ${perm.length} entries, the data set ${this.count} rows`);
    }
    writeArray(this.device, this.perm, 0, perm);
  }

  dispose(): void {
    this.owner.dispose();
  }
}
