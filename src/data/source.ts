// Data sets in their compact host form, as the GPU data set (src/rbm/dataset.ts)
// stores them: float32 values, 8-bit intensities (value = byte / 255) or
// binary values (one byte 0/1 each on the host, one bit each on the GPU).
// Environment-neutral: no Node built-ins.
import { columnStats } from './standardize';

/** How a data set's values are stored: float32, 8-bit intensities (byte / 255), or 1 bit per value. */
export type DataFormat = 'f32' | 'u8' | 'bits';

/** 8-bit intensities, row-major [rows, dim]: value = byte / 255 (as float32, Math.fround(byte / 255)). */
export interface ImageBytes {
  readonly format: 'u8';
  readonly bytes: Uint8Array;
}

/** Binary values, row-major [rows, dim], one byte each that must be 0 or 1. */
export interface BinaryBytes {
  readonly format: 'bits';
  readonly bytes: Uint8Array;
}

/**
 * A data set's values, row-major [rows, dim]: float32 (in [0, 1] for Bernoulli
 * units, any finite value for Gaussian ones), 8-bit intensities, or binary bytes.
 */
export type DataSource = Float32Array | ImageBytes | BinaryBytes;

/** u8 images with their shape: [count, height · width] bytes, value = byte / 255. */
export interface ByteImages {
  count: number;
  width: number;
  height: number;
  bytes: Uint8Array;
}

/**
 * The float32 value of byte b, as every part of the engine computes it:
 * U8_VALUES[b] === Math.fround(b / 255) (the gather shader holds the same table).
 */
export const U8_VALUES: Float32Array = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** True for the compact byte sources ({ format: 'u8' | 'bits', bytes }). */
export function isByteSource(s: unknown): s is ImageBytes | BinaryBytes {
  if (s === null || typeof s !== 'object') return false;
  const o = s as { format?: unknown; bytes?: unknown };
  return (o.format === 'u8' || o.format === 'bits') && o.bytes instanceof Uint8Array;
}

/** The format a source is in ('f32' for a Float32Array). */
export function sourceFormat(s: DataSource): DataFormat {
  return s instanceof Float32Array ? 'f32' : s.format;
}

/** How many values a source holds. */
export function sourceLength(s: DataSource): number {
  return s instanceof Float32Array ? s.length : s.bytes.length;
}

/** Throws unless `s` is a DataSource; names what it got. */
export function checkDataSource(name: string, s: unknown): asserts s is DataSource {
  if (s instanceof Float32Array || isByteSource(s)) return;
  const got = s === null ? 'null' : Array.isArray(s) ? 'an array' : ArrayBuffer.isView(s) ? s.constructor.name : typeof s;
  throw new RangeError(
    `${name} must be a Float32Array, { format: 'u8', bytes: Uint8Array } or { format: 'bits', bytes: Uint8Array }, got ${got}`,
  );
}

/** Index of the first byte of a 'bits' source that is not 0 or 1, or -1. */
export function firstNonBinaryByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 1) return i;
  return -1;
}

/**
 * Float32 rows `indices` of a [rows, dim] source (all rows when omitted), as
 * the model sees the values: byte / 255 for 'u8', 0/1 for 'bits'. For the
 * small subsets a caller needs as floats (a test set, a first batch).
 */
export function sourceRows(s: DataSource, dim: number, indices?: ArrayLike<number>): Float32Array<ArrayBuffer> {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  const n = sourceLength(s);
  if (n % dim !== 0) throw new RangeError(`the data has ${n} values, not a multiple of ${dim} per row`);
  const rows = n / dim;
  const count = indices ? indices.length : rows;
  const out = new Float32Array(count * dim);
  const table = s instanceof Float32Array ? undefined : s.format === 'u8' ? U8_VALUES : undefined;
  for (let r = 0; r < count; r++) {
    const src = indices ? indices[r] : r;
    if (!Number.isInteger(src) || src < 0 || src >= rows) throw new RangeError(`row index ${src} is outside 0..${rows - 1}`);
    const from = src * dim;
    if (s instanceof Float32Array) {
      out.set(s.subarray(from, from + dim), r * dim);
    } else if (table) {
      for (let i = 0; i < dim; i++) out[r * dim + i] = table[s.bytes[from + i]];
    } else {
      for (let i = 0; i < dim; i++) out[r * dim + i] = s.bytes[from + i];
    }
  }
  return out;
}

/** The same source restricted to its first `rows` rows (a view, no copy). */
export function sourceHead(s: DataSource, dim: number, rows: number): DataSource {
  const n = rows * dim;
  if (s instanceof Float32Array) return s.subarray(0, n);
  return { format: s.format, bytes: s.bytes.subarray(0, n) } as DataSource;
}

/** Rows `indices` of a byte source as a new source of the same format. */
export function sourceSubset(s: DataSource, dim: number, indices: ArrayLike<number>): DataSource {
  if (s instanceof Float32Array) return sourceRows(s, dim, indices);
  const rows = s.bytes.length / dim;
  const out = new Uint8Array(indices.length * dim);
  for (let r = 0; r < indices.length; r++) {
    const src = indices[r];
    if (!Number.isInteger(src) || src < 0 || src >= rows) throw new RangeError(`row index ${src} is outside 0..${rows - 1}`);
    out.set(s.bytes.subarray(src * dim, (src + 1) * dim), r * dim);
  }
  return { format: s.format, bytes: out } as DataSource;
}

/**
 * Per-column means of a [rows, dim] source with columnMeans's arithmetic
 * (src/rbm/init.ts: float64 sums of the float32 values in row order, divided by
 * the row count), bit for bit, without a float32 copy of byte data.
 */
export function sourceColumnMeans(s: DataSource, dim: number): Float64Array {
  const n = sourceLength(s) / dim;
  const means = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const base = r * dim;
    if (s instanceof Float32Array) for (let i = 0; i < dim; i++) means[i] += s[base + i];
    else if (s.format === 'u8') for (let i = 0; i < dim; i++) means[i] += U8_VALUES[s.bytes[base + i]];
    else for (let i = 0; i < dim; i++) means[i] += s.bytes[base + i];
  }
  for (let i = 0; i < dim; i++) means[i] /= Math.max(1, n);
  return means;
}

/** Float32 rows of u8 images (all when `indices` is omitted): byte / 255. */
export function imageRows(images: ByteImages, indices?: ArrayLike<number>): Float32Array<ArrayBuffer> {
  return sourceRows({ format: 'u8', bytes: images.bytes }, images.width * images.height, indices);
}

/**
 * Per-column mean and std of 8-bit data (value = byte / 255) with the
 * arithmetic of standardize() (src/data/standardize.ts) and without a float32
 * copy of the data: the same mean and std, bit for bit.
 */
export function byteColumnStats(bytes: Uint8Array, dim: number, minStd = 1e-2): { mean: Float32Array; std: Float32Array } {
  return columnStats(bytes, dim, minStd, U8_VALUES);
}
