// Training data larger than a GPU memory budget (docs/streaming.md): the data
// set stays on the host in its compact form and the GPU holds two block
// buffers of R rows (R a multiple of the batch size). Each epoch, block t is
// rows [t·R, t·R + R) of the epoch's order (shuffledPermutation, the same as
// resident training), gathered on the host and written with queue.writeBuffer
// into buffer t % 2, whose header says firstRow = t·R and rows; the GPU's perm
// is the identity over positions, so the unchanged gather reads position p of
// the epoch from the block that holds it. Each block also carries its rows'
// global ids (FLAG rowIds), which stochastic binarization counts by: the
// batches are bit-identical to resident training's in every binarize mode.
//
// Ordering (WebGPU §queue timeline): writeBuffer is a queue operation, ordered
// after every command buffer submitted before it and before every one
// submitted after it. The loop (fit.ts) never lets a submit straddle two
// blocks and calls submitted(first) after each submit: when the first chunk of
// block t is submitted, every chunk of block t − 1 has been, so block t + 1
// may go into buffer (t + 1) % 2 = (t − 1) % 2 then — the host gathers it
// while the GPU trains on block t — and it lands before block t + 1's first
// chunk, submitted later. setPermutation (at the epoch's start, after the
// previous epoch's last submit) writes block 0.
import { BufferOwner, DeviceLimitError, formatBytes, storageLimit } from '../gpu/buffers';
import type { DataFormat, DataSource } from '../data/source';
import {
  checkPermutationFits, checkSource, fillShardHeader, GpuDataset, residentBytes, SHARD_HEADER, shardWords, uploadOptions, writeInChunks,
  type CheckedSource, type DatasetUploadOptions, type GatherData, type GatherStandardisation,
} from './dataset';
import { checkSize, OptionError } from './validate';

/**
 * The default GPU budget for a training set: 1 GiB. WebGPU cannot tell how
 * much memory an adapter has, so a budget cannot be derived; 1 GiB keeps every
 * bundled and MNIST-sized set resident (60000 × 784 as u8 is 47 MB, as bits
 * 5.9 MB), fits beside the model on integrated GPUs and 2 GB cards, and is
 * where the host's per-block gather is already far from the bottleneck.
 */
export const DEFAULT_DATA_BUDGET_BYTES = 2 ** 30;

/** Where a training set lives: resident (all rows on the GPU) or streamed through two blocks. */
export type DataPlacement =
  | { kind: 'resident'; gpuBytes: number; shards: number }
  | { kind: 'streamed'; gpuBytes: number; blockRows: number; blocksPerEpoch: number; residentBytes: number };

/** Bytes of one streamed block buffer of `rows` rows (header, statistics, row ids, packed values). */
export function blockBytes(s: Pick<CheckedSource, 'format' | 'statsWords'>, dim: number, rows: number): number {
  return 4 * shardWords(s.format, dim, rows, s.statsWords, rows).total;
}

/**
 * Decides where a checked source of `dim` columns trains with batches of
 * `batchSize` under `budget` bytes: resident when it fits, else streamed with
 * the largest R (a multiple of batchSize, at most the epoch's rows) whose two
 * blocks and the permutation fit. Throws, before anything is allocated, when
 * two blocks of one batch do not.
 */
export function planDataPlacement(
  device: GPUDevice, s: CheckedSource, dim: number, batchSize: number, budget: number, maxShardBytes?: number,
): DataPlacement {
  checkDataBudget(budget);
  checkSize('batchSize', batchSize);
  const { bytes: resident, shards } = residentBytes(device, s, dim, maxShardBytes);
  if (resident <= budget) return { kind: 'resident', gpuBytes: resident, shards };
  const batches = Math.floor(s.count / batchSize);
  if (batches < 1) throw new RangeError(`the data set has ${s.count} rows, fewer than one batch of ${batchSize}`);
  checkPermutationFits(device, s.count);
  const limit = storageLimit(device);
  const total = (k: number): number => 2 * blockBytes(s, dim, k * batchSize) + 4 * s.count;
  const one = blockBytes(s, dim, batchSize);
  if (one > limit.bytes) {
    throw new DeviceLimitError(
      `one batch of ${batchSize} rows of ${dim} values (${s.format}) needs ${formatBytes(one)} in one GPU buffer, but this device allows ` +
        `${formatBytes(limit.bytes)} per buffer (${limit.name}); lower batchSize`,
    );
  }
  if (total(1) > budget) {
    throw new OptionError(
      `dataBudgetBytes = ${budget} (${formatBytes(budget)}) is too small: the data set (${s.count} rows × ${dim}, ${s.format}) needs ` +
        `${formatBytes(resident)} on the GPU, and streaming it needs at least ${total(1)} bytes (two blocks of one batch of ` +
        `${batchSize} rows, ${formatBytes(one)} each, plus the permutation of ${s.count} rows, ${formatBytes(4 * s.count)}); ` +
        `raise dataBudgetBytes to at least ${total(1)}, or lower batchSize`,
      ['dataBudgetBytes', 'batchSize'],
    );
  }
  // The largest k in [1, batches] with total(k) within the budget and one block within a buffer (both grow with k).
  let lo = 1;
  let hi = batches;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (total(mid) <= budget && blockBytes(s, dim, mid * batchSize) <= limit.bytes) lo = mid;
    else hi = mid - 1;
  }
  const blockRows = lo * batchSize;
  return { kind: 'streamed', gpuBytes: total(lo), blockRows, blocksPerEpoch: Math.ceil(batches / lo), residentBytes: resident };
}

function checkDataBudget(budget: number): void {
  if (!Number.isSafeInteger(budget) || budget < 1) {
    throw new OptionError(`dataBudgetBytes must be a positive whole number of bytes, got ${budget}`, ['dataBudgetBytes']);
  }
}

export interface TrainingDataOptions extends DatasetUploadOptions {
  /** Rows per batch: a streamed block holds a whole number of batches. */
  batchSize: number;
  /** GPU bytes the data set may take (default DEFAULT_DATA_BUDGET_BYTES); beyond it, it is streamed. */
  dataBudgetBytes?: number;
}

/**
 * A training set on the GPU within a budget: resident (GpuDataset) when it
 * fits, else a StreamedDataset. The source is checked once; a budget too
 * small to stream is a RangeError before anything is allocated.
 */
export function uploadTrainingData(
  device: GPUDevice, source: DataSource, dim: number, options: TrainingDataOptions,
): { dataset: GpuDataset | StreamedDataset; placement: DataPlacement } {
  const o = uploadOptions(options);
  const checked = checkSource(source, dim, o);
  const placement = planDataPlacement(device, checked, dim, options.batchSize, options.dataBudgetBytes ?? DEFAULT_DATA_BUDGET_BYTES, o.maxShardBytes);
  const dataset = placement.kind === 'resident'
    ? GpuDataset.uploadChecked(device, source, dim, checked, o)
    : new StreamedDataset(device, source, dim, checked, options.batchSize, placement.blockRows, o.standardize);
  return { dataset, placement };
}

/**
 * Two block buffers of `blockRows` rows that the epoch loop refills from the
 * host source (see the file comment for the protocol). Bind it to a trainer
 * like a GpuDataset; then, each epoch: trainer.startEpoch (block 0 goes up),
 * submits of whole updates that never cross a block end (updatesLeftInBlock),
 * and submitted(first) after each submit.
 */
export class StreamedDataset implements GatherData {
  readonly count: number;
  readonly format: DataFormat;
  readonly perm: GPUBuffer;
  readonly blocks: readonly [GPUBuffer, GPUBuffer];
  /** Rows visited per epoch: whole batches (the last count % batchSize rows of each epoch's order are left out, as resident). */
  readonly epochRows: number;
  readonly blocksPerEpoch: number;
  private readonly owner: BufferOwner;
  /** One block's words (header, statistics, row ids, values), reused: writeBuffer copies at the call. */
  private readonly staging: Uint32Array;
  private order?: Uint32Array;

  constructor(
    readonly device: GPUDevice,
    private readonly source: DataSource,
    readonly dim: number,
    checked: CheckedSource,
    readonly batchSize: number,
    readonly blockRows: number,
    private readonly standardize?: GatherStandardisation,
  ) {
    if (blockRows < batchSize || blockRows % batchSize !== 0) {
      throw new RangeError(`blockRows (${blockRows}) must be a positive multiple of batchSize (${batchSize})`);
    }
    this.count = checked.count;
    this.format = checked.format;
    this.epochRows = Math.floor(this.count / batchSize) * batchSize;
    this.blocksPerEpoch = Math.ceil(this.epochRows / blockRows);
    const bytes = blockBytes(checked, dim, blockRows);
    this.owner = new BufferOwner(device, `streamed dataset ${this.count}x${dim}`);
    try {
      this.blocks = [this.owner.storage('data block 0', bytes), this.owner.storage('data block 1', bytes)];
      this.perm = this.owner.storage('positions', Uint32Array.from({ length: this.count }, (_, i) => i));
      this.staging = new Uint32Array(bytes / 4);
    } catch (e) {
      this.owner.dispose();
      throw e;
    }
  }

  gatherData(): readonly GPUBuffer[] {
    return this.blocks;
  }

  get gpuBytes(): number {
    return 2 * this.staging.byteLength + 4 * this.count;
  }

  /** Takes the epoch's order (a permutation of all rows) and writes block 0. */
  setPermutation(perm: Uint32Array): void {
    this.owner.assertLive();
    if (perm.length !== this.count) {
      throw new RangeError(`permutation has ${perm.length} entries, the data set ${this.count} rows`);
    }
    this.order = perm;
    this.writeBlock(0);
  }

  /** Updates from epoch update `update` to the end of its block: the most one submit may hold. */
  updatesLeftInBlock(update: number): number {
    const end = Math.min((Math.floor((update * this.batchSize) / this.blockRows) + 1) * this.blockRows, this.epochRows);
    return end / this.batchSize - update;
  }

  /** After the submit of updates starting at epoch update `first`: at block t's first, writes block t + 1. */
  submitted(first: number): void {
    const row = first * this.batchSize;
    if (row % this.blockRows !== 0) return;
    const next = row / this.blockRows + 1;
    if (next < this.blocksPerEpoch) this.writeBlock(next);
  }

  /** Gathers block t of the epoch's order into the staging words and writes it into buffer t % 2. */
  private writeBlock(t: number): void {
    const order = this.order;
    if (!order) throw new Error('streamed data set: setPermutation before the first block');
    const V = this.dim;
    const first = t * this.blockRows;
    const rows = Math.min(this.blockRows, this.epochRows - first);
    const words = this.staging;
    fillShardHeader(words, this.format, V, first, rows, this.standardize, true);
    const idsAt = words[SHARD_HEADER.rowIds];
    const ids = words.subarray(idsAt, idsAt + rows);
    ids.set(order.subarray(first, first + rows));
    const payload = words[SHARD_HEADER.payload];
    const used = payload + packRows(this.source, this.format, V, ids, words, payload);
    writeInChunks(this.device, this.blocks[t % 2], 0, words, 0, 4 * used);
  }

  dispose(): void {
    this.owner.dispose();
  }
}

/**
 * Packs rows `ids` of `source` ([·, V]) consecutively in `format` into `words`
 * from word `at` (value l at bit/byte/word l, as gather.wgsl reads it);
 * returns the words written.
 */
export function packRows(source: DataSource, format: DataFormat, V: number, ids: Uint32Array, words: Uint32Array, at: number): number {
  const n = ids.length * V;
  if (format === 'f32') {
    const out = new Float32Array(words.buffer, words.byteOffset + 4 * at, n);
    const src = source as Float32Array;
    for (let r = 0; r < ids.length; r++) out.set(src.subarray(ids[r] * V, ids[r] * V + V), r * V);
    return n;
  }
  const used = Math.ceil(n / (format === 'u8' ? 4 : 32));
  const out = words.subarray(at, at + used);
  out.fill(0);
  if (format === 'u8') {
    const bytes = new Uint8Array(words.buffer, words.byteOffset + 4 * at, 4 * used);
    const src = (source as { bytes: Uint8Array }).bytes;
    for (let r = 0; r < ids.length; r++) bytes.set(src.subarray(ids[r] * V, ids[r] * V + V), r * V);
    return used;
  }
  // Binary values (0/1 floats, 0/1 bytes, or u8 bytes 0/255), 32 per word, LSB first; one monomorphic loop per source type.
  if (source instanceof Float32Array) packBits(source, V, ids, out, 1);
  else packBits(source.bytes, V, ids, out, 0);
  return used;
}

// Row after row into one bit stream, a word accumulated in a local: `on` is the value of a set bit
// (1 for float32 0/1 values), or 0 for bytes, where any non-zero byte (1, or 255 for u8) is set.
function packBits<A extends Float32Array | Uint8Array>(src: A, V: number, ids: Uint32Array, out: Uint32Array, on: number): void {
  let word = 0;
  let bit = 0;
  let w = 0;
  for (let r = 0; r < ids.length; r++) {
    const from = ids[r] * V;
    for (let i = 0; i < V; i++) {
      const x = src[from + i];
      if (on === 1 ? x === 1 : x !== 0) word |= 1 << bit;
      if (++bit === 32) {
        out[w++] = word;
        word = 0;
        bit = 0;
      }
    }
  }
  if (bit > 0) out[w] = word;
}
