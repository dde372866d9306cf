// The CLI's data: the bundled MNIST digits ("mnist"), an IDX images file or a
// 2-D .npy array (either optionally gzipped), with their image shape. Files are
// read incrementally into their compact form (8-bit pixels stay one byte each;
// see src/data/read-data.ts), never as a whole-file buffer plus a float32 copy.
// Every failure becomes a one-line CliError naming the file, what is wrong with
// it, and what to pass instead.
import {
  IDX_MAX_BYTES, IdxFormatError, idxToByteImages, NpyFormatError, readDataStream, sourceHead, sourceRows, sourceSubset, splitDataset,
} from '../index';
import type { DataSource, IdxData, ImageDataset, LabeledImages, NpyData } from '../index';
import { loadBundledMnistNode } from '../node';
import { CliError, messageOf } from './errors';
import { openInput, useCliHostBudget } from './read-input';

/** How many of the 10,000 bundled digits are held out as the default test set. */
export const MNIST_TEST_COUNT = 2000;

export interface Images {
  count: number;
  width: number;
  height: number;
  /**
   * Row-major [count, width * height] float32 values as the model sees them
   * (pixels in [0, 1]). Made from `data` on first use and kept: a float32 copy
   * of the whole set, so code that can take `data` should.
   */
  readonly pixels: Float32Array;
  /**
   * The values as read, in compact form: 8-bit intensities ({ format: 'u8' }:
   * IDX images, the bundled digits, .npy uint8), binary ({ format: 'bits' }:
   * .npy bool or 0/1 uint8) or float32 (.npy float32/float64). What
   * GpuDataset.upload takes as it is.
   */
  readonly data: DataSource;
  /** The pixels as bytes when the data is 8-bit (data.format === 'u8'): value = byte / 255. */
  readonly bytes?: Uint8Array;
}

/** Images over `data` ([count, width · height]); `pixels` is computed when first read. */
export function makeImages(count: number, width: number, height: number, data: DataSource): Images {
  let pixels: Float32Array | undefined = data instanceof Float32Array ? data : undefined;
  return {
    count,
    width,
    height,
    data,
    bytes: data instanceof Float32Array || data.format !== 'u8' ? undefined : data.bytes,
    get pixels(): Float32Array {
      pixels ??= sourceRows(data, width * height);
      return pixels;
    },
  };
}

export interface LoadedData {
  train: Images;
  /** The held-out set: --test, or the bundled digits' test split. */
  test?: Images;
  /** A short description for messages and the model's metadata. */
  source: string;
}

const DATA_HINT =
  'pass --data mnist for the bundled digits, an IDX images file (*-images-idx3-ubyte, optionally .gz) or a 2-D .npy array (uint8, bool, float32 or float64)';

/**
 * The largest data file read: the largest data section plus its header, and
 * room for gzip's worst-case growth of incompressible data (5 bytes per 64 KiB
 * block, well under 1 MiB at this size).
 */
export const IDX_FILE_MAX_BYTES = IDX_MAX_BYTES + 4 + 16 + 2 ** 20;

/**
 * The most data bytes a file may declare: while training, a value takes
 * about 5 bytes (its byte as read, and the float32 copy `pixels` is while the
 * trainer takes float32 rows), so a fifth of the host memory budget, never
 * over IDX_MAX_BYTES.
 */
export function maxImageBytes(): number {
  return Math.min(IDX_MAX_BYTES, Math.floor(useCliHostBudget() / 5));
}

/** Width × height for `columns` values of a .npy row: a square when columns is a perfect square, else one row. */
export function npyImageShape(columns: number): { width: number; height: number } {
  const side = Math.round(Math.sqrt(columns));
  return side * side === columns ? { width: side, height: side } : { width: columns, height: 1 };
}

function imagesFromIdx(idx: IdxData): Images {
  const im = idxToByteImages(idx);
  return makeImages(im.count, im.width, im.height, { format: 'u8', bytes: im.bytes });
}

function imagesFromNpy(npy: NpyData): Images {
  const { width, height } = npyImageShape(npy.columns);
  return makeImages(npy.rows, width, height, npy.source);
}

/**
 * Reads one data file (IDX images or a 2-D .npy array, optionally gzipped);
 * `flag` names the option it came from. A regular file is size-checked before
 * it is read; any input is read incrementally: its header is checked (and its
 * dimensions against the host memory budget) before anything is allocated, the
 * values go straight into one array of the declared size, and reading stops as
 * soon as the input runs past what the header declares (so a gzip bomb or
 * /dev/zero stops early).
 */
export async function readImagesFile(path: string, flag: string): Promise<Images> {
  const limits = { maxBytes: maxImageBytes(), maxReason: 'more values than this machine\'s memory budget for data allows (about 5 bytes per value within a quarter of its memory)' };
  const kind = /\.npy(\.gz)?$/i.test(path) ? 'a .npy file' : 'an IDX file';
  const input = await openInput(path, { label: `${flag} ${path}`, hint: DATA_HINT, maxBytes: IDX_FILE_MAX_BYTES, kind });
  try {
    const file = await readDataStream(input.chunks, { ...limits, size: input.size });
    return file.kind === 'idx' ? imagesFromIdx(file.idx) : imagesFromNpy(file.npy);
  } catch (e) {
    if (e instanceof IdxFormatError || e instanceof NpyFormatError) throw new CliError(`${flag} ${path}: ${e.message.replace(/\.$/, '')}`);
    throw e;
  } finally {
    await input.chunks.return(undefined);
  }
}

// The bundled digits as bytes (their pixels are byte / 255), falling back to float32 if they are not.
function eightBit(images: ImageDataset): DataSource {
  const bytes = Uint8Array.from(images.pixels, (x) => Math.round(x * 255));
  for (let e = 0; e < bytes.length; e++) if (Math.fround(bytes[e] / 255) !== images.pixels[e]) return images.pixels;
  return { format: 'u8', bytes };
}

function subset(data: DataSource, width: number, height: number, indices: ArrayLike<number>): Images {
  return makeImages(indices.length, width, height, sourceSubset(data, width * height, indices));
}

/** The first `n` rows (all when n is undefined or larger); a view, no copy. */
export function firstRows(images: Images, n: number | undefined): Images {
  if (n === undefined || n >= images.count) return images;
  return makeImages(n, images.width, images.height, sourceHead(images.data, images.width * images.height, n));
}

export interface LoadOptions {
  /** "mnist" or a path to an IDX images file or a .npy array. */
  data: string;
  /** An IDX images file or .npy array to evaluate on; for "mnist" the default is the held-out split. */
  test?: string;
  /** Fixes the mnist train/test split. */
  seed: number;
  /** Keep only the first `limit` training images (after the split). */
  limit?: number;
}

/** Loads the training (or evaluation) images and the test set. */
export async function loadData(o: LoadOptions): Promise<LoadedData> {
  let train: Images;
  let test: Images | undefined;
  let source: string;
  if (o.data === 'mnist') {
    let bundled: LabeledImages;
    try {
      bundled = await loadBundledMnistNode();
    } catch (e) {
      throw new CliError(messageOf(e));
    }
    // Split by seed: the bundled file is sorted by digit, the split is shuffled.
    const split = splitDataset(bundled.images.count, MNIST_TEST_COUNT, o.seed);
    const { width, height } = bundled.images;
    const all = eightBit(bundled.images);
    train = subset(all, width, height, split.train);
    test = subset(all, width, height, split.test);
    source = 'mnist';
  } else {
    train = await readImagesFile(o.data, '--data');
    source = o.data;
  }
  if (o.test !== undefined) {
    test = await readImagesFile(o.test, '--test');
    if (test.width !== train.width || test.height !== train.height) {
      throw new CliError(
        `--test ${o.test}: its images are ${test.width}×${test.height} but the --data images are ${train.width}×${train.height}; pass test images of the same size`,
      );
    }
  }
  return { train: firstRows(train, o.limit), test, source };
}
