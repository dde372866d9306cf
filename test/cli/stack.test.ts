// `train --stack` end to end on the built CLI: a tiny 784-16-8 stack trained
// greedily on 500 bundled digits, read back by the library (per-layer records),
// its features from `transform` equal to the library's up-pass of the same
// thresholded rows, `classify` well above chance on them, `sample` from the top
// reproducible for a seed, and the command-line errors of stacks.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBMStack } from '../../src/rbm/stack';
import { STACK_FILE_FORMAT } from '../../src/rbm/stack-file';
import { encodeSafetensors } from '../../src/rbm/safetensors';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { binarizeThreshold } from '../../src/data/binarize';
import { splitDataset } from '../../src/data/split';
import { readNpy } from '../../src/data/npy';
import { testDevice } from '../helpers/device';
import { readTrainSettings } from '../../src/cli/train';
import { readStackSettings } from '../../src/cli/train-stack';
import { buildCli, expectCleanFailure, lastJson, runCli } from './helpers';

let dir: string;
let model: string;
let trainRun: Awaited<ReturnType<typeof runCli>>;
const SEED = 3;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-stack-'));
  model = join(dir, 'stack.safetensors');
  await buildCli();
  trainRun = await runCli(['train', '--stack', '16,8', '--limit', '500', '--epochs', '1,2', '--seed', String(SEED), '--out', model, '--json']);
  expect(trainRun.code, trainRun.stderr).toBe(0);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('train --stack', () => {
  it('trains each layer for its epochs and writes one stack file the library reads', async () => {
    const j = lastJson(trainRun);
    expect(j.stack).toEqual([784, 16, 8]);
    expect(j.layers).toBe(2);
    expect(j.epochs).toEqual([1, 2]);
    expect((j.recon_error as number[][]).map((e) => e.length)).toEqual([1, 2]);
    expect(trainRun.stderr).toMatch(/layer 2\/2 \(16-8\) epoch 2\/2/);
    const device = await testDevice();
    const loaded = RBMStack.fromSafetensors(device, new Uint8Array(await readFile(model)));
    try {
      expect(loaded.stack.sizes).toEqual([784, 16, 8]);
      expect(loaded.metadata.format).toBe(STACK_FILE_FORMAT);
      expect(loaded.imageShape).toEqual({ width: 28, height: 28 });
      expect(loaded.layerMetadata.map((m) => m.epochs)).toEqual(['1', '2']);
      expect(loaded.layerMetadata[1].trained_on).toMatch(/P\(h\|v\) of layer 0/);
      expect(loaded.stack.layers.map((m) => m.seed)).toEqual([SEED, SEED + 1]);
    } finally {
      loaded.stack.dispose();
    }
  });

  it.each([
    [['--stack', '500,abc'], /--stack 500,abc: entry 2 \("abc"\) is not a positive integer.*--stack 500,500/],
    [['--stack', ''], /--stack needs a comma-separated list of positive integers/],
    [['--stack', '500,0'], /entry 2 \("0"\) is not a positive integer/],
    [['--stack', '16,8', '--visible', 'gaussian'], /binary \(bernoulli\) visible units only.*drop --visible gaussian/],
    [['--stack', '16,8', '--hidden', '20'], /--stack gives every hidden layer's size.*drop --hidden/],
    [['--stack', '16,8', '--pt'], /drop --pt/],
    [['--stack', '16,8', '--resume', 'x.ckpt'], /not supported with --stack yet; drop --resume/],
    [['--stack', '16,8', '--epochs', '1,2,3'], /--epochs 1,2,3 lists 3 values for 2 layers/],
    // CD-k and the plain gradient are flags now that a stack takes train's defaults (PCD-1, centered).
    [['--stack', '16,8', '--cd', '--chains', '10'], /--chains only applies to --pcd/],
    [['--stack', '16,8', '--cd', '--pcd'], /--cd and --pcd are two different negative phases/],
    [['--stack', '16,8', '--no-centered', '--centering-rate', '0.1'], /--centering-rate only applies to centered gradients; add --centered/],
    [['--stack', '16,8', '--lr-schedule', 'cosine'], /--lr-schedule must be one of constant, linear/],
  ])('refuses %j with one clear line (exit 2)', async (args, message) => {
    const r = await runCli(['train', ...args, '--out', join(dir, 'never.safetensors')]);
    expectCleanFailure(r, 2, message);
  });

  it("takes train's newer settings for every layer: centered gradients and a linear rate", async () => {
    const out = join(dir, 'centered.safetensors');
    const r = await runCli(['train', '--stack', '8,4', '--limit', '200', '--epochs', '1', '--centered', '--lr-schedule', 'linear', '--pcd', '--batch', '20', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ stack: [784, 8, 4], method: 'pcd', lr_schedule: 'linear', centering_rate: 0.01 });
    const device = await testDevice();
    const loaded = RBMStack.fromSafetensors(device, new Uint8Array(await readFile(out)));
    try {
      expect(loaded.layerMetadata.map((m) => [m.centered, m.lr_schedule, m.pcd])).toEqual([['true', 'linear', 'true'], ['true', 'linear', 'true']]);
    } finally {
      loaded.stack.dispose();
    }
  });

  it("every layer takes train's defaults (PCD-1, batch 20, lr 0.1 decaying linearly, no momentum, centered)", () => {
    const single = readTrainSettings({ out: 'm.safetensors' });
    const stack = readStackSettings({ stack: '16,8', out: 'm.safetensors' });
    const shared = ['data', 'binarize', 'batch', 'k', 'pcd', 'chains', 'lr', 'lrSchedule', 'momentum', 'centered', 'weightDecay', 'seed', 'sampleSteps'] as const;
    for (const key of shared) expect(stack[key], key).toEqual(single[key]);
    expect(stack).toMatchObject({ hidden: [16, 8], epochs: [single.epochs, single.epochs], batch: 20, pcd: true, lrSchedule: 'linear', momentum: 0, centered: 0.01 });
  });

  it('train --help lists --stack', async () => {
    const r = await runCli(['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--stack H1,H2/);
  });
});

describe('transform, classify and sample of a stack', () => {
  it("transform writes the stack's up-pass of the thresholded digits, equal to the library's; --depth picks the layers", async () => {
    const N = 60;
    const out = join(dir, 'f.npy');
    const r = await runCli(['transform', model, '--limit', String(N), '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ stack: [784, 16, 8], depth: 2, hidden: 8, shape: [N, 8] });
    const npy = await readNpy(new Uint8Array(await readFile(out)));
    expect([npy.rows, npy.columns]).toEqual([N, 8]);

    const { images } = await loadBundledMnistNode();
    const V = 784;
    const rows = Array.from(splitDataset(images.count, 2000, SEED).train).slice(0, N);
    const pixels = new Float32Array(N * V);
    rows.forEach((i, r) => pixels.set(images.pixels.subarray(i * V, (i + 1) * V), r * V));
    const device = await testDevice();
    const loaded = RBMStack.fromSafetensors(device, new Uint8Array(await readFile(model)));
    try {
      const want = await loaded.stack.features(binarizeThreshold(pixels, 0.5));
      expect(npy.source).toEqual(want);
      const d1 = join(dir, 'f1.npy');
      const r1 = await runCli(['transform', model, '--limit', String(N), '--depth', '1', '--out', d1]);
      expect(r1.code, r1.stderr).toBe(0);
      expect((await readNpy(new Uint8Array(await readFile(d1)))).source).toEqual(await loaded.stack.features(binarizeThreshold(pixels, 0.5), 1));
    } finally {
      loaded.stack.dispose();
    }
    expectCleanFailure(await runCli(['transform', model, '--depth', '3', '--out', join(dir, 'x.npy')]), 2, /has 2 layer\(s\) \(784-16-8\); give at most --depth 2/);
  });

  it('classify trains the softmax on the top features, far above chance', async () => {
    const r = await runCli(['classify', model, '--limit', '500', '--test-limit', '500', '--epochs', '10', '--features-only', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j).toMatchObject({ stack: [784, 16, 8], depth: 2, hidden: 8 });
    // Chance is 10 % (the majority class about 11 %).
    expect(j.accuracy_features as number).toBeGreaterThan(0.3);
    expect(j.accuracy_features as number).toBeGreaterThan(2 * (j.majority_accuracy as number));
  });

  it('sample draws from the top RBM and passes down: the same PNG for the same seed; --pt is refused', async () => {
    const a = join(dir, 'a.png');
    const b = join(dir, 'b.png');
    for (const out of [a, b]) {
      const r = await runCli(['sample', model, '--chains', '4', '--steps', '10', '--keep-every', '5', '--seed', '9', '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(lastJson(r)).toMatchObject({ stack: [784, 16, 8], kept: 2, chains: 4 });
    }
    expect(await readFile(a)).toEqual(await readFile(b));
    expectCleanFailure(await runCli(['sample', model, '--pt', '--out', join(dir, 'c.png')]), 2, /is a stack of RBMs.*drop --pt/);
  });

  it('eval and inpaint, which take one RBM, name a stack file as such (exit 1)', async () => {
    expectCleanFailure(await runCli(['eval', model, '--limit', '100']), 1, /is a stack of RBMs \(train --stack\).*use transform, classify or sample/);
    expectCleanFailure(await runCli(['inpaint', model, '--index', '0', '--out', join(dir, 'i.png')]), 1, /is a stack of RBMs/);
  });

  it('a malformed stack file is one clear line naming the tensor (exit 1)', async () => {
    const bad = join(dir, 'bad.safetensors');
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((x, y) => x * y, 1)) });
    await writeFile(bad, encodeSafetensors(
      { 'layer0.W': t([784, 16]), 'layer0.b': t([784]), 'layer0.c': t([16]), 'layer1.W': t([16, 9]), 'layer1.b': t([16]), 'layer1.c': t([8]) },
      { format: STACK_FILE_FORMAT, stack_version: '1', layers: '784,16,8' },
    ));
    const r = await runCli(['classify', bad, '--limit', '100', '--test-limit', '100']);
    expectCleanFailure(r, 1, /bad\.safetensors: tensor "layer1\.W" has shape \[16, 9\]; metadata "layers" 784,16,8 needs \[16, 8\]/);
  });
});
