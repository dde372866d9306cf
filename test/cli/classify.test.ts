// `transform` and `classify` end to end on the built CLI: a tiny model trained
// on 500 bundled digits, its features written as .npy (header, shape, values
// equal to the library's transform of the same rows, labels in the same
// order), and the softmax regression on features and on raw pixels (both well
// above chance), with IDX label files and their errors.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { binarizeThreshold } from '../../src/data/binarize';
import { splitDataset } from '../../src/data/split';
import { readNpy } from '../../src/data/npy';
import { testDevice } from '../helpers/device';
import { buildCli, lastJson, runCli, expectCleanFailure } from './helpers';

let dir: string;
let model: string;
/** Not the default seed: transform and classify must take the split seed from the model file. */
const SEED = 3;
const HIDDEN = 16;
const TEST_COUNT = 2000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-classify-'));
  model = join(dir, 'tiny.safetensors');
  await buildCli();
  const r = await runCli(['train', '--limit', '500', '--hidden', String(HIDDEN), '--epochs', '1', '--seed', String(SEED), '--out', model, '--json']);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The .npy header dict and the data bytes after it. */
function npyParts(bytes: Uint8Array): { header: string; data: Uint8Array } {
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const length = bytes[8] | (bytes[9] << 8);
  expect((10 + length) % 64).toBe(0);
  return { header: new TextDecoder().decode(bytes.subarray(10, 10 + length)), data: bytes.subarray(10 + length) };
}

/** Writes u8 IDX files: images [count, 28, 28] and labels [count]. */
async function writeIdx(path: string, dims: number[], body: Uint8Array): Promise<void> {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, 0x0800 + dims.length, false);
  dims.forEach((d, i) => header.setUint32(4 + 4 * i, d, false));
  const bytes = new Uint8Array(header.byteLength + body.length);
  bytes.set(new Uint8Array(header.buffer), 0);
  bytes.set(body, header.byteLength);
  await writeFile(path, bytes);
}

describe('transform', () => {
  it('writes P(h|v) of the training digits as float32 [N, H] .npy, equal to the library transform, with their labels', async () => {
    const out = join(dir, 'features.npy');
    const labelsOut = join(dir, 'labels.npy');
    const N = 300;
    const r = await runCli(['transform', model, '--data', 'mnist', '--limit', String(N), '--out', out, '--labels-out', labelsOut, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = lastJson(r);
    expect(json).toMatchObject({ command: 'transform', count: N, hidden: HIDDEN, shape: [N, HIDDEN], split: 'train', seed: SEED, out });

    const bytes = new Uint8Array(await readFile(out));
    const { header, data } = npyParts(bytes);
    expect(header.trimEnd()).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${HIDDEN}), }`);
    expect(data.length).toBe(N * HIDDEN * 4);
    const features = (await readNpy(bytes)).source as Float32Array;

    // The same rows through the library: the bundled digits, split by the model's seed, thresholded at 0.5.
    const mnist = await loadBundledMnistNode();
    const split = splitDataset(mnist.images.count, TEST_COUNT, SEED);
    const rows = split.train.subarray(0, N);
    const pixels = new Float32Array(N * 784);
    rows.forEach((src, i) => pixels.set(mnist.images.pixels.subarray(src * 784, (src + 1) * 784), i * 784));
    const device = await testDevice();
    const { model: rbm } = RBM.fromSafetensors(device, new Uint8Array(await readFile(model)));
    try {
      const want = await rbm.transform(binarizeThreshold(pixels, 0.5));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(features[i] - want[i]));
      expect(worst).toBeLessThan(1e-6);
    } finally {
      rbm.dispose();
    }

    const labels = npyParts(new Uint8Array(await readFile(labelsOut)));
    expect(labels.header.trimEnd()).toBe(`{'descr': '|u1', 'fortran_order': False, 'shape': (${N},), }`);
    expect(Array.from(labels.data)).toEqual(Array.from(rows, (i) => mnist.labels[i]));
  });

  it('transforms an IDX file in file order, and refuses mnist-only flags for it', async () => {
    const mnist = await loadBundledMnistNode();
    const count = 7;
    const images = join(dir, 'seven-images-idx3-ubyte');
    await writeIdx(images, [count, 28, 28], Uint8Array.from(mnist.images.pixels.subarray(0, count * 784), (x) => Math.round(x * 255)));
    const out = join(dir, 'seven.npy');
    const r = await runCli(['transform', model, '--data', images, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ count, shape: [count, HIDDEN] });
    expect(npyParts(new Uint8Array(await readFile(out))).header).toContain(`'shape': (${count}, ${HIDDEN})`);
    expectCleanFailure(await runCli(['transform', model, '--data', images, '--out', out, '--labels-out', join(dir, 'x.npy')]), 2, /--labels-out applies to --data mnist only/);
    expectCleanFailure(await runCli(['transform', model, '--data', 'mnist']), 2, /transform needs --out/);
    expectCleanFailure(await runCli(['transform', model, '--out', model]), 2, /--out .* is the same file as the input MODEL/);
  });
});

describe('classify', () => {
  it('reports test accuracy on features and on raw pixels, both far above chance', async () => {
    const r = await runCli(['classify', model, '--limit', '1000', '--test-limit', '500', '--epochs', '10', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = lastJson(r);
    expect(json).toMatchObject({ command: 'classify', count: 1000, test_count: 500, classes: 10, hidden: HIDDEN, epochs: 10, seed: SEED });
    const features = json.accuracy_features as number;
    const pixels = json.accuracy_pixels as number;
    // Chance is 10 %; even 16 features of one epoch on 500 digits carry much of the class.
    expect(features).toBeGreaterThan(0.4);
    expect(pixels).toBeGreaterThan(0.75);
    expect(json.majority_accuracy as number).toBeLessThan(0.2);
    expect(r.stderr).toMatch(/features \(16 hidden units\)\s+test accuracy/);
    expect(r.stderr).toMatch(/raw pixels \(784 values\)\s+test accuracy/);
    // Deterministic: the same command gives the same numbers.
    const again = lastJson(await runCli(['classify', model, '--limit', '1000', '--test-limit', '500', '--epochs', '10', '--json', '--features-only']));
    expect(again.accuracy_features).toBe(features);
    expect(again.accuracy_pixels).toBeUndefined();
  });

  it('takes IDX images and labels files, and says what is wrong with them in one line', async () => {
    const mnist = await loadBundledMnistNode();
    const bytes = Uint8Array.from(mnist.images.pixels, (x) => Math.round(x * 255));
    // Digits spread evenly over the file (it is sorted by class): 400 for training, 200 others for testing.
    const pick = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + Math.floor((i * mnist.images.count) / n));
    const write = async (name: string, idx: number[]) => {
      const body = new Uint8Array(idx.length * 784);
      idx.forEach((src, i) => body.set(bytes.subarray(src * 784, (src + 1) * 784), i * 784));
      await writeIdx(join(dir, `${name}-images-idx3-ubyte`), [idx.length, 28, 28], body);
      await writeIdx(join(dir, `${name}-labels-idx1-ubyte`), [idx.length], Uint8Array.from(idx, (i) => mnist.labels[i]));
    };
    await write('train', pick(0, 400));
    await write('test', pick(2, 200));
    const files = (name: string) => [join(dir, `${name}-images-idx3-ubyte`), join(dir, `${name}-labels-idx1-ubyte`)];
    const [trainImages, trainLabels] = files('train');
    const [testImages, testLabels] = files('test');
    const base = ['classify', model, '--data', trainImages, '--labels', trainLabels, '--test', testImages, '--test-labels', testLabels, '--epochs', '5'];

    const r = await runCli([...base, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = lastJson(r);
    expect(json).toMatchObject({ count: 400, test_count: 200, classes: 10, data: trainImages, test: testImages });
    expect(json.accuracy_pixels as number).toBeGreaterThan(0.5);

    // Mismatched counts, a label beyond --classes, an images file given as labels, missing files and flags.
    const [otherImages] = files('test');
    expectCleanFailure(
      await runCli(['classify', model, '--data', otherImages, '--labels', trainLabels, '--test', testImages, '--test-labels', testLabels]),
      1,
      /--labels .*train-labels-idx1-ubyte holds 400 labels but --data .* has 200 images/,
    );
    expectCleanFailure(await runCli([...base, '--classes', '5']), 1, /label [5-9] \(image \d+\) is not below --classes 5; raise --classes/);
    expectCleanFailure(
      await runCli(['classify', model, '--data', trainImages, '--labels', trainImages, '--test', testImages, '--test-labels', testLabels]),
      1,
      /--labels .*: expected IDX labels \(u8 with one dimension/,
    );
    expectCleanFailure(await runCli(['classify', model, '--data', trainImages, '--test', testImages, '--test-labels', testLabels]), 2, /needs --labels FILE/);
    expectCleanFailure(await runCli(['classify', model, '--data', trainImages, '--labels', trainLabels]), 2, /needs test images/);
    expectCleanFailure(await runCli(['classify', model, '--labels', trainLabels]), 2, /bundled digits .* carry their own labels/);
    expectCleanFailure(await runCli([...base.slice(0, -2), '--test-labels', join(dir, 'missing')]), 1, /--test-labels .*missing: cannot read it \(no such file\)/);
  });

  it('lists its options in --help, and the main help lists both commands', async () => {
    const r = await runCli(['classify', '--help']);
    expect(r.code).toBe(0);
    for (const f of ['--data', '--labels', '--test', '--test-labels', '--limit', '--classes', '--epochs', '--batch', '--lr', '--momentum', '--l2', '--json']) {
      expect(r.stdout).toContain(f);
    }
    const t = await runCli(['transform', '--help']);
    for (const f of ['--data', '--split', '--limit', '--out', '--labels-out']) expect(t.stdout).toContain(f);
    const main = await runCli(['--help']);
    expect(main.stdout).toMatch(/\n {2}transform /);
    expect(main.stdout).toMatch(/\n {2}classify /);
  });
});
