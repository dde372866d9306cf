// Per-feature standardisation for Gaussian visible units (unit variance model).

export interface Standardized {
  data: Float32Array;
  mean: Float32Array;
  std: Float32Array;
}

/** Columns of [n, dim] to zero mean, unit variance; constant columns keep std 1. */
export function standardize(values: Float32Array, dim: number, minStd = 1e-2): Standardized {
  const { mean, std } = columnStats(values, dim, minStd);
  return { data: applyStandardize(values, mean, std), mean, std };
}

/**
 * Per-column mean and std of [n, dim] values (std below minStd becomes 1),
 * summed in float64 in row order. `table` maps stored codes to values (8-bit
 * data: byte → byte / 255), so compact data needs no float32 copy and gets the
 * same statistics, bit for bit.
 */
export function columnStats(
  values: ArrayLike<number>,
  dim: number,
  minStd = 1e-2,
  table?: ArrayLike<number>,
): { mean: Float32Array; std: Float32Array } {
  const n = values.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${values.length} values are not a positive multiple of ${dim}`);
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const base = r * dim;
    for (let i = 0; i < dim; i++) {
      const x = table ? table[values[base + i]] : values[base + i];
      sum[i] += x;
      sq[i] += x * x;
    }
  }
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    mean[i] = sum[i] / n;
    const sd = Math.sqrt(Math.max(0, sq[i] / n - (sum[i] / n) ** 2));
    std[i] = sd >= minStd ? sd : 1;
  }
  return { mean, std };
}

export function applyStandardize(values: Float32Array, mean: Float32Array, std: Float32Array): Float32Array {
  const dim = mean.length;
  return values.map((x, e) => (x - mean[e % dim]) / std[e % dim]);
}

/** Back to the data's own scale (for showing samples as images). */
export function unstandardize(values: Float32Array, mean: Float32Array, std: Float32Array): Float32Array {
  const dim = mean.length;
  return values.map((x, e) => x * std[e % dim] + mean[e % dim]);
}
