// The data sets the page trains on: the bundled MNIST digits, or an IDX
// images file (plain or .gz) dropped on the page. Each is split once into a
// training set and a held-out test set.
import {
  IdxFormatError, idxToByteImages, loadBundledMnist, MNIST_IMAGES_ASSET, MNIST_LABELS_ASSET, readIdx, sourceHead, sourceRows, sourceSubset,
  splitDataset, type DataSource,
} from '../src/index';
import imagesUrl from '../assets/mnist-digits-images-idx3-ubyte.gz?url';
import labelsUrl from '../assets/mnist-digits-labels-idx1-ubyte.gz?url';

export interface DemoData {
  name: string;
  width: number;
  height: number;
  /**
   * [nTrain, V] intensities in [0, 1]: a dropped IDX file stays 8-bit (1 byte
   * per pixel on the host and the GPU), so a 60,000-image set costs 47 MB, not 188.
   */
  train: DataSource;
  /** [nTest, V]. */
  test: Float32Array;
  nTrain: number;
  nTest: number;
  /** Labels of the test rows when the data set has them. */
  testLabels?: Uint8Array;
}

const ASSET_URLS: Record<string, string> = {
  [MNIST_IMAGES_ASSET]: imagesUrl,
  [MNIST_LABELS_ASSET]: labelsUrl,
};

async function fetchBytes(name: string): Promise<Uint8Array> {
  const url = ASSET_URLS[name];
  if (!url) throw new Error(`unknown asset ${name}`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not fetch ${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Images as the page keeps them: float32 pixels or 8-bit ones (value = byte / 255). */
interface Images {
  count: number;
  width: number;
  height: number;
  pixels: DataSource;
}

/** Splits off a test set (at most `testSize`, at most a fifth of the rows), fixed by seed. */
export function splitImages(name: string, images: Images, testSize: number, seed: number, labels?: Uint8Array): DemoData {
  const V = images.width * images.height;
  const nTest = Math.max(1, Math.min(testSize, Math.floor(images.count / 5)));
  const { train, test } = splitDataset(images.count, nTest, seed);
  return {
    name,
    width: images.width,
    height: images.height,
    train: sourceSubset(images.pixels, V, train),
    test: sourceRows(images.pixels, V, test),
    nTrain: train.length,
    nTest: test.length,
    testLabels: labels ? Uint8Array.from(test, (i) => labels[i]) : undefined,
  };
}

export async function loadBundled(testSize: number, seed: number): Promise<DemoData> {
  const { images, labels } = await loadBundledMnist(fetchBytes);
  return splitImages(`MNIST digits (bundled, ${images.count.toLocaleString('en-US')})`, images, testSize, seed, labels);
}

/** Most rows kept from a dropped file (the standard training sets have 60,000). */
export const MAX_ROWS = 60000;

export async function loadIdxFile(file: File, testSize: number, seed: number): Promise<DemoData> {
  const idx = await readIdx(new Uint8Array(await file.arrayBuffer()));
  if (idx.dims.length === 1) {
    throw new IdxFormatError(`${file.name} is a labels file (${idx.dims[0]} labels); drop the matching *-images-idx3-ubyte file instead.`);
  }
  const images = idxToByteImages(idx);
  if (images.width * images.height > 4096) {
    throw new IdxFormatError(`${file.name} has ${images.width}×${images.height} images; this page handles up to 64×64.`);
  }
  if (images.count < 10) throw new IdxFormatError(`${file.name} has only ${images.count} images; need at least 10.`);
  const count = Math.min(images.count, MAX_ROWS);
  const V = images.width * images.height;
  const pixels = sourceHead({ format: 'u8', bytes: images.bytes }, V, count);
  const kept = count < images.count ? `first ${count.toLocaleString('en-US')} of ${images.count.toLocaleString('en-US')}` : count.toLocaleString('en-US');
  return splitImages(`${file.name} (${kept} images, ${images.width}×${images.height})`, { ...images, count, pixels }, testSize, seed);
}

/** Rows `start..start+count` (wrapping) of [n, V] data. */
export function rows(data: Float32Array, V: number, start: number, count: number): Float32Array {
  const n = data.length / V;
  const out = new Float32Array(count * V);
  for (let r = 0; r < count; r++) out.set(data.subarray(((start + r) % n) * V, ((start + r) % n + 1) * V), r * V);
  return out;
}

export function threshold(data: Float32Array, t = 0.5): Float32Array {
  return data.map((x) => (x > t ? 1 : 0));
}

/** Keeps the first `n` training rows (0 or more than there are: all). */
export function limitTrain(data: DemoData, n: number): DemoData {
  if (n <= 0 || n >= data.nTrain) return data;
  const V = data.width * data.height;
  return { ...data, train: sourceHead(data.train, V, n), nTrain: n, name: `${data.name}, ${n.toLocaleString('en-US')} used for training` };
}
