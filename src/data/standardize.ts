// Per-feature standardisation for Gaussian visible units (unit variance model).

export interface Standardized {
  data: Float32Array;
  mean: Float32Array;
  std: Float32Array;
}

/** Columns of [n, dim] to zero mean, unit variance; constant columns keep std 1. */
export function standardize(values: Float32Array, dim: number, minStd = 1e-2): Standardized {
  const n = values.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${values.length} values are not a positive multiple of ${dim}`);
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dim; i++) {
      const x = values[r * dim + i];
      mean[i] += x;
      sq[i] += x * x;
    }
  }
  const m = new Float32Array(dim);
  const s = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    m[i] = mean[i] / n;
    const variance = Math.max(0, sq[i] / n - (mean[i] / n) ** 2);
    s[i] = Math.sqrt(variance) >= minStd ? Math.sqrt(variance) : 1;
  }
  return { data: applyStandardize(values, m, s), mean: m, std: s };
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
