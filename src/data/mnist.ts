// The bundled default data set: 10,000 MNIST digits shipped as two gzipped
// IDX files in assets/ (built by scripts/build-mnist-asset.mjs, ordered digit
// by digit). Environment-neutral: the caller supplies the bytes (fetch in the
// browser, fs in Node — see src/data/assets-node.ts).
import { IdxFormatError, idxImagesToDataset, readIdx } from './idx';
import type { ImageDataset } from './idx';

export const MNIST_IMAGES_ASSET = 'mnist-digits-images-idx3-ubyte.gz';
export const MNIST_LABELS_ASSET = 'mnist-digits-labels-idx1-ubyte.gz';

export interface LabeledImages {
  images: ImageDataset;
  labels: Uint8Array<ArrayBuffer>;
}

/** Decodes an images file and a labels file (IDX, plain or gzipped) and checks that they agree. */
export async function labeledImagesFromIdx(imageBytes: Uint8Array, labelBytes: Uint8Array, classes = 10): Promise<LabeledImages> {
  const images = idxImagesToDataset(await readIdx(imageBytes));
  const idx = await readIdx(labelBytes);
  if (idx.type !== 'u8' || idx.dims.length !== 1) {
    throw new IdxFormatError(
      `expected u8 labels with dims [count], got ${idx.type} [${idx.dims.join(', ')}]; pass an *-labels-idx1-ubyte file.`,
    );
  }
  const labels = idx.data;
  if (labels.length !== images.count) {
    throw new IdxFormatError(`${images.count} images but ${labels.length} labels; the two files are from different data sets.`);
  }
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) throw new IdxFormatError(`label ${labels[bad]} at index ${bad} is outside 0..${classes - 1}.`);
  return { images, labels };
}

/** Loads the bundled digits; `fetchBytes(name)` returns the raw bytes of asset file `name`. */
export async function loadBundledMnist(fetchBytes: (name: string) => Promise<Uint8Array>): Promise<LabeledImages> {
  const [imageBytes, labelBytes] = await Promise.all([fetchBytes(MNIST_IMAGES_ASSET), fetchBytes(MNIST_LABELS_ASSET)]);
  return labeledImagesFromIdx(imageBytes, labelBytes);
}
