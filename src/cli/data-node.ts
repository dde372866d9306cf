// The CLI's data: the bundled MNIST digits ("mnist") or any IDX images file,
// as [0,1] pixel rows with their image shape. Every failure becomes a one-line
// CliError naming the file, what is wrong with it, and what to pass instead.
import { gatherRows, IDX_MAX_BYTES, idxDeclaredSize, IdxFormatError, idxImagesToDataset, isGzip, readIdx, splitDataset } from '../index';
import type { ImageDataset, LabeledImages } from '../index';
import { loadBundledMnistNode } from '../node';
import { CliError, messageOf } from './errors';
import { readInput, useCliHostBudget } from './read-input';

/** How many of the 10,000 bundled digits are held out as the default test set. */
export const MNIST_TEST_COUNT = 2000;

export interface Images {
  count: number;
  width: number;
  height: number;
  /** Row-major [count, width * height] in [0, 1]. */
  pixels: Float32Array;
}

export interface LoadedData {
  train: Images;
  /** The held-out set: --test, or the bundled digits' test split. */
  test?: Images;
  /** A short description for messages and the model's metadata. */
  source: string;
}

const IDX_HINT = 'pass --data mnist for the bundled digits or an IDX images file (*-images-idx3-ubyte, optionally .gz)';

/**
 * The largest IDX file read: the largest data section plus its header, and
 * room for gzip's worst-case growth of incompressible data (5 bytes per 64 KiB
 * block, well under 1 MiB at this size).
 */
export const IDX_FILE_MAX_BYTES = IDX_MAX_BYTES + 4 + 16 + 2 ** 20;

/**
 * The most pixel bytes an images file may declare: while it is read a u8 pixel
 * takes about 8 bytes (the inflated chunks, their join, the parsed copy and the
 * float32 pixel), so an eighth of the host memory budget, never over IDX_MAX_BYTES.
 */
export function maxImageBytes(): number {
  return Math.min(IDX_MAX_BYTES, Math.floor(useCliHostBudget() / 8));
}

/**
 * Reads one IDX images file; `flag` names the option it came from. A regular
 * file is size-checked before it is read; a pipe or device is read as it
 * arrives and refused as soon as its header is not IDX or it runs past what the
 * header declares. The header's dimensions are checked against the host memory
 * budget before anything is allocated or inflated, so a gzip bomb stops early.
 */
export async function readImagesFile(path: string, flag: string): Promise<Images> {
  const limits = { maxBytes: maxImageBytes(), maxReason: 'more pixels than this machine\'s memory budget for images allows (about 8 bytes per pixel within a quarter of its memory)' };
  try {
    const bytes = await readInput(path, {
      label: `${flag} ${path}`,
      hint: IDX_HINT,
      maxBytes: IDX_FILE_MAX_BYTES,
      kind: 'an IDX file',
      // A gzipped stream declares nothing up front; gunzip bounds it by the inflated header instead.
      declaredSize: (head) => (head.length >= 2 && isGzip(head) ? undefined : idxDeclaredSize(head, limits)),
    });
    return idxImagesToDataset(await readIdx(bytes, limits));
  } catch (e) {
    if (e instanceof IdxFormatError) throw new CliError(`${flag} ${path}: ${e.message.replace(/\.$/, '')}`);
    throw e;
  }
}

function subset(images: ImageDataset | Images, indices: ArrayLike<number>): Images {
  const dim = images.width * images.height;
  return { count: indices.length, width: images.width, height: images.height, pixels: gatherRows(images.pixels, dim, indices) };
}

/** The first `n` rows (all when n is undefined or larger). */
export function firstRows(images: Images, n: number | undefined): Images {
  if (n === undefined || n >= images.count) return images;
  const dim = images.width * images.height;
  return { ...images, count: n, pixels: images.pixels.slice(0, n * dim) };
}

export interface LoadOptions {
  /** "mnist" or a path to an IDX images file. */
  data: string;
  /** An IDX images file to evaluate on; for "mnist" the default is the held-out split. */
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
    train = subset(bundled.images, split.train);
    test = subset(bundled.images, split.test);
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
