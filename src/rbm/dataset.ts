// A data set resident on the GPU, read by gather.wgsl to build each
// mini-batch: its values in a compact format, split into shards of whole rows
// (one storage buffer each), plus the epoch's permutation.
//
// Formats: 'u8' (8-bit intensities, value = byte / 255, 4 values per u32 word),
// 'bits' (binary data, 32 values per word, LSB first) and 'f32' (the float32
// bits as given, for real values). A Float32Array whose every value is exactly
// 0 or 1 is stored as 'bits', u8 data whose every byte is 0 or 255 likewise:
// the gather reads the same float32 values either way, so the batches are
// bit-identical to the float32 path's, at 1/32 (1/8) of the memory.
//
// Sharding: a data set larger than one storage binding (maxStorageBufferBindingSize,
// or maxBufferSize when smaller) is split into S shards of consecutive whole rows,
// as equal as the row count allows. Each shard buffer describes itself (format,
// first row, row count, payload offset; see SHARD_HEADER and shaders/gather.wgsl),
// and the trainer encodes one gather dispatch per shard, all with the same dims,
// counter and perm: an invocation whose permuted row lives in another shard
// writes nothing, so every batch row is written by exactly one dispatch. The
// permutation is global (a shuffle of all N rows, shuffledPermutation(N, seed,
// epoch)), and stochastic binarization counts by the row's global element
// index, so a sharded data set yields exactly the batches of an unsharded one.
//
// Upload: each shard buffer is created zero-filled and written with
// queue.writeBuffer straight from the source's memory, 16 MiB at a time
// (8-bit and float32 values need no host copy; binary values are packed first),
// so uploading holds no second copy of the data set on the host.
import { BufferOwner, DeviceLimitError, formatBytes, storageLimit, writeArray } from '../gpu/buffers';
import {
  checkDataSource, firstNonBinaryByte, sourceFormat, sourceLength, type DataFormat, type DataSource, type ImageBytes,
} from '../data/source';
import { checkSize } from './validate';

export type BinarizeMode = 'none' | 'threshold' | 'stochastic';
/** The values a `binarize` option accepts. */
export const BINARIZE_MODES: readonly BinarizeMode[] = ['stochastic', 'threshold', 'none'];

/** The shard header, word by word (shaders/gather.wgsl's H_* and FORMAT_* constants). */
export const SHARD_HEADER = {
  words: 8,
  format: 0,
  firstRow: 1,
  rows: 2,
  nVis: 3,
  payload: 4,
  flags: 5,
  stats: 6,
  /** Word offset of the rows' global ids (streamed blocks, FLAG rowIds). */
  rowIds: 7,
} as const;
/** Format codes in the shard header (gather.wgsl FORMAT_F32, FORMAT_U8, FORMAT_BITS). */
export const FORMAT_CODE: Readonly<Record<DataFormat, number>> = { f32: 0, u8: 1, bits: 2 };
/** Shard header flag bits (gather.wgsl FLAG_STANDARDIZE, FLAG_ROW_IDS). */
export const SHARD_FLAGS = { standardize: 1, rowIds: 2 } as const;

/** Values packed per u32 word in each format. */
export const VALUES_PER_WORD: Readonly<Record<DataFormat, number>> = { f32: 1, u8: 4, bits: 32 };

/** The most values a data set may hold: the gather counts elements (and random draws) with 32-bit integers. */
export const MAX_DATASET_VALUES = 2 ** 32;

/** Per-column standardisation applied in the gather: x ↦ (x − mean) · fround(1 / std), in float32. */
export interface GatherStandardisation {
  mean: Float32Array;
  std: Float32Array;
}

export interface DatasetUploadOptions {
  /** No binarization in the gather (a Bernoulli RBM with binarize 'none'): values must be 0 or 1. */
  requireBinary?: boolean;
  /** Gaussian visible units: any finite value goes (float32 sources). */
  realValued?: boolean;
  /**
   * Standardise each column in the gather (Gaussian units on 8-bit images):
   * x ↦ fround(fround(x − mean) · fround(1 / std)), see standardizeInGather. 'u8' sources only.
   */
  standardize?: GatherStandardisation;
  /** The most bytes per shard buffer (default, and at most, the device's storage limit); for tests and budgets. */
  maxShardBytes?: number;
}

/** One shard: consecutive whole rows [firstRow, firstRow + rows) in one storage buffer. */
export interface DataShard {
  readonly buffer: GPUBuffer;
  readonly firstRow: number;
  readonly rows: number;
  /** Bytes of the buffer (header, statistics and packed values). */
  readonly bytes: number;
}

/** The float32 value the gather computes for x standardised with (mean, std): fround(fround(x − mean) · fround(1 / std)). */
export function standardizeInGather(x: number, mean: number, std: number): number {
  return Math.fround(Math.fround(x - mean) * Math.fround(1 / std));
}

/**
 * The shard layout for `rows` rows of `dim` values in `format`: words before
 * the payload (header, statistics, `idWords` row ids), and in all.
 */
export function shardWords(format: DataFormat, dim: number, rows: number, statsWords: number, idWords = 0): { payload: number; total: number } {
  const payload = SHARD_HEADER.words + statsWords + idWords;
  return { payload, total: payload + Math.ceil((rows * dim) / VALUES_PER_WORD[format]) };
}

/**
 * Writes a shard header (and the standardisation statistics after it) into
 * `head`, whose first words are the header; `rowIds`: the rows' global ids
 * follow the statistics (streamed blocks).
 */
export function fillShardHeader(
  head: Uint32Array, format: DataFormat, dim: number, firstRow: number, rows: number,
  standardize: GatherStandardisation | undefined, rowIds: boolean,
): void {
  const statsWords = standardize ? 2 * dim : 0;
  head[SHARD_HEADER.format] = FORMAT_CODE[format];
  head[SHARD_HEADER.firstRow] = firstRow;
  head[SHARD_HEADER.rows] = rows;
  head[SHARD_HEADER.nVis] = dim;
  head[SHARD_HEADER.payload] = SHARD_HEADER.words + statsWords + (rowIds ? rows : 0);
  head[SHARD_HEADER.flags] = (standardize ? SHARD_FLAGS.standardize : 0) | (rowIds ? SHARD_FLAGS.rowIds : 0);
  if (standardize) {
    head[SHARD_HEADER.stats] = SHARD_HEADER.words;
    const f = new Float32Array(head.buffer, head.byteOffset + SHARD_HEADER.words * 4, 2 * dim);
    f.set(standardize.mean);
    for (let i = 0; i < dim; i++) f[dim + i] = 1 / standardize.std[i];
  }
  if (rowIds) head[SHARD_HEADER.rowIds] = SHARD_HEADER.words + statsWords;
}

/**
 * What a trainer's gather reads (trainer.bindDataset): the resident GpuDataset,
 * or a StreamedDataset (src/rbm/streamed-dataset.ts) whose two block buffers
 * the epoch loop refills.
 */
export interface GatherData {
  readonly count: number;
  readonly dim: number;
  readonly format: DataFormat;
  /** The permutation buffer the gather reads (global rows, or positions for a streamed data set). */
  readonly perm: GPUBuffer;
  /** One buffer per gather dispatch. */
  gatherData(): readonly GPUBuffer[];
  /** A streamed data set's batch size (its blocks hold whole batches); absent: any batch size. */
  readonly batchSize?: number;
  /** Bytes held on the GPU. */
  readonly gpuBytes: number;
  /** Sets the order in which this epoch visits the rows (a permutation of all rows). */
  setPermutation(perm: Uint32Array): void;
  dispose(): void;
}

/** A checked source: its row count and the format it is stored in on the GPU. */
export interface CheckedSource {
  count: number;
  format: DataFormat;
  /** Words of standardisation statistics per shard (0 without standardize). */
  statsWords: number;
}

/** Checks a source as GpuDataset.upload does (sizes, values, standardisation) and picks its GPU format; allocates nothing. */
export function checkSource(source: DataSource, dim: number, o: DatasetUploadOptions): CheckedSource {
  checkSize('data dimension', dim);
  checkDataSource('data', source);
  const n = sourceLength(source);
  if (n === 0 || n % dim !== 0) {
    throw new RangeError(`data has ${n} values, which is not a positive multiple of ${dim} per row`);
  }
  const count = n / dim;
  if (n > MAX_DATASET_VALUES) {
    throw new RangeError(
      `data has ${count} rows × ${dim} values = ${n} values; the gather counts values with 32-bit integers, so a data set ` +
        `holds at most ${MAX_DATASET_VALUES} (${Math.floor(MAX_DATASET_VALUES / dim)} rows of ${dim}): train on parts of it`,
    );
  }
  const format = chooseFormat(source, dim, o);
  if (o.standardize) checkStandardisation(o.standardize, dim, format);
  return { count, format, statsWords: o.standardize ? 2 * dim : 0 };
}

/** Throws unless this device can hold the permutation of `count` rows in one buffer. */
export function checkPermutationFits(device: GPUDevice, count: number): void {
  const limit = storageLimit(device);
  if (4 * count > limit.bytes) {
    throw new DeviceLimitError(
      `the permutation of ${count} rows needs ${formatBytes(4 * count)} of GPU storage but this device allows ` +
        `${formatBytes(limit.bytes)} per buffer (${limit.name}); train on at most ${Math.floor(limit.bytes / 4)} rows at a time`,
    );
  }
}

/** Bytes a resident GpuDataset of this source would hold on the GPU (shards and permutation), and its shards. */
export function residentBytes(device: GPUDevice, s: CheckedSource, dim: number, maxShardBytes?: number): { bytes: number; shards: number } {
  const rowsPerShard = shardRows(device, s.format, dim, s.count, s.statsWords, maxShardBytes);
  let bytes = 4 * s.count;
  let shards = 0;
  for (let first = 0; first < s.count; first += rowsPerShard, shards++) {
    bytes += 4 * shardWords(s.format, dim, Math.min(rowsPerShard, s.count - first), s.statsWords).total;
  }
  return { bytes, shards };
}

export class GpuDataset implements GatherData {
  readonly perm: GPUBuffer;
  /** The shards in row order; bind one gather per shard (see gatherData). */
  readonly shards: readonly DataShard[];
  private readonly owner: BufferOwner;

  private constructor(
    readonly device: GPUDevice,
    readonly count: number,
    readonly dim: number,
    /** How the values are stored on the GPU. */
    readonly format: DataFormat,
    source: DataSource,
    rowsPerShard: number,
    standardize: GatherStandardisation | undefined,
  ) {
    this.owner = new BufferOwner(device, `dataset ${count}x${dim}`);
    const shards: DataShard[] = [];
    try {
      const statsWords = standardize ? 2 * dim : 0;
      const nShards = Math.ceil(count / rowsPerShard);
      for (let s = 0; s < nShards; s++) {
        const firstRow = s * rowsPerShard;
        const rows = Math.min(rowsPerShard, count - firstRow);
        const { payload, total } = shardWords(format, dim, rows, statsWords);
        const label = nShards === 1 ? 'data' : `data shard ${s} of ${nShards}`;
        // Zero-filled; the header (and statistics) and the values are written into it from the source as it is.
        const buffer = this.owner.storage(label, total * 4);
        const head = new Uint32Array(payload);
        fillShardHeader(head, format, dim, firstRow, rows, standardize, false);
        writeArray(device, buffer, 0, head);
        writeValues(device, buffer, payload * 4, source, format, firstRow * dim, rows * dim);
        shards.push({ buffer, firstRow, rows, bytes: total * 4 });
      }
      this.shards = shards;
      this.perm = this.owner.storage('permutation', Uint32Array.from({ length: count }, (_, i) => i));
    } catch (e) {
      this.owner.dispose();
      throw e;
    }
  }

  /**
   * Uploads `source` ([count, dim], row-major): a Float32Array, or compact
   * bytes ({ format: 'u8', bytes }: value = byte / 255; { format: 'bits', bytes }:
   * 0/1 bytes). Values must lie in [0, 1]; with `requireBinary` (no
   * binarization in the gather) they must be 0 or 1; with `realValued`
   * (Gaussian visible units) any finite value goes. The positional booleans
   * (requireBinary, realValued) are the older form of the options.
   */
  static upload(
    device: GPUDevice,
    source: DataSource,
    dim: number,
    options: DatasetUploadOptions | boolean = {},
    realValued = false,
  ): GpuDataset {
    const o = uploadOptions(options, realValued);
    return GpuDataset.uploadChecked(device, source, dim, checkSource(source, dim, o), o);
  }

  /** upload() for a source checkSource() has checked with the same options (no second pass over the values). */
  static uploadChecked(device: GPUDevice, source: DataSource, dim: number, checked: CheckedSource, o: DatasetUploadOptions): GpuDataset {
    const { count, format, statsWords } = checked;
    const rowsPerShard = shardRows(device, format, dim, count, statsWords, o.maxShardBytes);
    checkPermutationFits(device, count);
    return new GpuDataset(device, count, dim, format, source, rowsPerShard, o.standardize);
  }

  /**
   * The one data buffer of an unsharded data set (what a single gather binds as `data`).
   * Throws for a sharded one: bind each of gatherData() instead.
   */
  get data(): GPUBuffer {
    if (this.shards.length !== 1) {
      throw new Error(
        `this data set is split over ${this.shards.length} buffers (shards); bind one gather per buffer of gatherData() and dispatch each`,
      );
    }
    return this.shards[0].buffer;
  }

  /**
   * The buffers the gather reads, one per shard: bind a gather group
   * `{ dims, counter, perm, data, vis }` per buffer (same dims, counter, perm,
   * vis) and dispatch all of them for every update, in any order.
   */
  gatherData(): readonly GPUBuffer[] {
    return this.shards.map((s) => s.buffer);
  }

  /** Bytes the data set holds on the GPU (all shards and the permutation). */
  get gpuBytes(): number {
    return this.shards.reduce((t, s) => t + s.bytes, 0) + 4 * this.count;
  }

  /** Writes the order in which this epoch visits the rows (a permutation of all rows, whatever the sharding). */
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

/** The options object of GpuDataset.upload's older positional form (requireBinary, realValued). */
export function uploadOptions(options: DatasetUploadOptions | boolean, realValued = false): DatasetUploadOptions {
  return typeof options === 'boolean' ? { requireBinary: options, realValued } : { realValued, ...options };
}

// Validates the values and picks the storage format: 'bits' whenever every
// value is exactly 0 or 1 (float32 bits 0x00000000 / 0x3f800000, bytes 0 / 255
// for 'u8'), since the gather then reads the very same float32 values.
function chooseFormat(source: DataSource, dim: number, o: DatasetUploadOptions): DataFormat {
  const format = sourceFormat(source);
  if (source instanceof Float32Array) {
    checkFloatValues(source, dim, o);
    return allZeroOne(source) ? 'bits' : 'f32';
  }
  const bytes = source.bytes;
  if (format === 'bits') {
    const bad = firstNonBinaryByte(bytes);
    if (bad >= 0) {
      throw new RangeError(`binary data row ${Math.floor(bad / dim)}, column ${bad % dim} is ${bytes[bad]}: 'bits' data must be 0 or 1`);
    }
    return 'bits';
  }
  let zeroOr255 = true;
  for (let e = 0; e < bytes.length; e++) {
    const b = bytes[e];
    if (b !== 0 && b !== 255) {
      if (o.requireBinary) {
        throw new RangeError(
          `data row ${Math.floor(e / dim)}, column ${e % dim} is ${b}/255: a Bernoulli RBM without binarization ` +
            "needs 0/1 data; pass binarize: 'threshold' or 'stochastic'.",
        );
      }
      zeroOr255 = false;
      break;
    }
  }
  return zeroOr255 && !o.standardize ? 'bits' : 'u8';
}

function checkFloatValues(values: Float32Array, dim: number, o: DatasetUploadOptions): void {
  if (o.standardize) throw new RangeError('standardize (in the gather) is for u8 data; standardise float32 data before uploading it');
  for (let e = 0; e < values.length; e++) {
    const x = values[e];
    if (o.realValued) {
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
    if (o.requireBinary && x !== 0 && x !== 1) {
      throw new RangeError(
        `data row ${Math.floor(e / dim)}, column ${e % dim} is ${x}: a Bernoulli RBM without binarization ` +
          "needs 0/1 data; pass binarize: 'threshold' or 'stochastic'.",
      );
    }
  }
}

// Exactly +0 or 1 (not −0, whose sign the float32 path would carry into a batch).
function allZeroOne(values: Float32Array): boolean {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let e = 0; e < bits.length; e++) if (bits[e] !== 0 && bits[e] !== 0x3f800000) return false;
  return true;
}

function checkStandardisation(s: GatherStandardisation, dim: number, format: DataFormat): void {
  if (format !== 'u8') throw new RangeError(`standardize (in the gather) is for u8 data, not ${format}`);
  for (const [name, a] of [['mean', s.mean], ['std', s.std]] as const) {
    if (!(a instanceof Float32Array) || a.length !== dim) {
      throw new RangeError(`standardize.${name} must be a Float32Array of ${dim} values (one per column), got ${a?.length}`);
    }
  }
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(s.mean[i])) throw new RangeError(`standardize.mean[${i}] is ${s.mean[i]}; it must be finite`);
    const r = Math.fround(1 / s.std[i]);
    if (!(s.std[i] > 0) || !Number.isFinite(r) || r === 0) {
      throw new RangeError(`standardize.std[${i}] is ${s.std[i]}; it must be positive, with a finite float32 inverse`);
    }
  }
}

// Rows per shard: as many whole rows as one buffer holds, then spread evenly over the shards needed.
function shardRows(device: GPUDevice, format: DataFormat, dim: number, count: number, statsWords: number, maxShardBytes?: number): number {
  const limit = storageLimit(device);
  let bytes = limit.bytes;
  if (maxShardBytes !== undefined) {
    if (!Number.isInteger(maxShardBytes) || maxShardBytes < 1) {
      throw new RangeError(`maxShardBytes must be a positive integer, got ${maxShardBytes}`);
    }
    bytes = Math.min(bytes, maxShardBytes);
  }
  const words = Math.floor(bytes / 4) - SHARD_HEADER.words - statsWords;
  const fit = words > 0 ? Math.floor((words * VALUES_PER_WORD[format]) / dim) : 0;
  if (fit < 1) {
    const one = shardWords(format, dim, 1, statsWords).total * 4;
    const hint = format === 'f32' ? 'pass 8-bit images as { format: \'u8\', bytes } (1 byte per value), or use fewer columns' : 'use fewer columns';
    throw new DeviceLimitError(
      `one data row of ${dim} values (${format}) needs ${formatBytes(one)} of GPU storage but ` +
        `${maxShardBytes !== undefined && maxShardBytes < limit.bytes ? `the shard limit is ${formatBytes(bytes)}` : `this device allows ${formatBytes(bytes)} per buffer (${limit.name})`}; ${hint}`,
    );
  }
  const shards = Math.ceil(count / fit);
  return Math.ceil(count / shards);
}

/** Bytes per queue.writeBuffer call when uploading values (bounds any one staging copy the implementation makes). */
const WRITE_CHUNK = 1 << 24;

/** Writes `bytes` bytes of `data` from its byte `byteOffset` at byte `at` of `buffer`, WRITE_CHUNK at a time. */
export function writeInChunks(device: GPUDevice, buffer: GPUBuffer, at: number, data: ArrayBufferView, byteOffset: number, bytes: number): void {
  for (let done = 0; done < bytes; done += WRITE_CHUNK) {
    device.queue.writeBuffer(buffer, at + done, data.buffer as ArrayBuffer, data.byteOffset + byteOffset + done, Math.min(WRITE_CHUNK, bytes - done));
  }
}

// Writes values [from, from + n) of the source in `format` at byte `offset` of a zeroed buffer:
// float32 and 8-bit values straight from the source's memory (in chunks), binary values packed 32 per word.
function writeValues(device: GPUDevice, buffer: GPUBuffer, offset: number, source: DataSource, format: DataFormat, from: number, n: number): void {
  const write = (at: number, data: ArrayBufferView, byteOffset: number, bytes: number): void =>
    writeInChunks(device, buffer, at, data, byteOffset, bytes);
  if (format === 'f32') {
    write(offset, source as Float32Array, 4 * from, 4 * n);
    return;
  }
  if (format === 'u8') {
    // Little-endian words: value l of the shard is bits 8·(l % 4) of word l / 4, i.e. the bytes in order.
    const bytes = (source as ImageBytes).bytes;
    const whole = n - (n % 4); // not n & ~3: a shard may hold 2^31 or more values
    write(offset, bytes, from, whole);
    if (whole < n) {
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(from + whole, from + n));
      device.queue.writeBuffer(buffer, offset + whole, tail);
    }
    return;
  }
  const words = new Uint32Array(Math.ceil(n / 32));
  if (source instanceof Float32Array) {
    for (let j = 0; j < n; j++) if (source[from + j] === 1) words[j >>> 5] |= 1 << (j & 31);
  } else {
    // Bytes 0/1 ('bits'), or u8 bytes 0/255.
    const bytes = source.bytes;
    for (let j = 0; j < n; j++) if (bytes[from + j] !== 0) words[j >>> 5] |= 1 << (j & 31);
  }
  write(offset, words, 0, words.byteLength);
}
