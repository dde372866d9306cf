// Stacked RBMs (src/rbm/stack.ts, src/rbm/stack-file.ts): greedy training
// (layer 2 learns exactly layer 1's P(h|v), replayed with the library's own
// RBM), features as the composition of per-layer transforms, the down-pass
// against a CPU σ(hWᵀ + b), sampling shapes and seeds, the stack file's
// round trip and its errors, and a quality check on the bundled digits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { RBMStack } from '../../src/rbm/stack';
import {
  isStackSafetensors, stackFromSafetensors, stackToSafetensors, STACK_FILE_FORMAT, STACK_FILE_VERSION,
} from '../../src/rbm/stack-file';
import { encodeSafetensors, SafetensorsFormatError, type Tensor } from '../../src/rbm/safetensors';
import { rbmToSafetensors } from '../../src/rbm/model-file';
import { columnMeans } from '../../src/rbm/init';
import { SoftmaxClassifier } from '../../src/rbm/classifier';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { splitDataset } from '../../src/data/split';
import { binarizeThreshold } from '../../src/data/binarize';
import type { FitOptions } from '../../src/rbm/fit';
import { testDevice, takeGPUErrors } from '../helpers/device';
import { mulberry32 } from '../helpers/random';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
const made: { dispose(): void }[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(async () => {
  made.forEach((m) => m.dispose());
  expect(await takeGPUErrors()).toEqual([]);
});

function keep<T extends { dispose(): void }>(x: T): T {
  made.push(x);
  return x;
}

/** Rows of a few noisy binary prototypes: structure a small RBM can learn. */
function patterns(rows: number, V: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const protos = Array.from({ length: 4 }, () => Float32Array.from({ length: V }, () => (rand() < 0.5 ? 1 : 0)));
  const out = new Float32Array(rows * V);
  for (let r = 0; r < rows; r++) {
    const p = protos[r % protos.length];
    for (let i = 0; i < V; i++) out[r * V + i] = rand() < 0.9 ? p[i] : 1 - p[i];
  }
  return out;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const FIT: FitOptions = { ...LEGACY_FIT_OPTIONS, epochs: 3, batchSize: 16, learningRate: 0.1 };

describe('greedy training', () => {
  it("trains layer 2 on exactly layer 1's P(h|v): replaying it with plain RBMs gives bit-identical parameters", async () => {
    const data = patterns(64, 16, 3);
    const fit: FitOptions = { ...LEGACY_FIT_OPTIONS, epochs: 3, batchSize: 16, learningRate: 0.1 };
    const stack = keep(RBMStack.create(device, { sizes: [16, 8, 6], seed: 5 }));
    const starts: number[] = [];
    const result = await stack.fit(data, { layers: fit, onLayerStart: (i) => void starts.push(i.layer) });
    expect(starts).toEqual([0, 1]);
    expect(result.layers).toHaveLength(2);
    expect(result.cancelled).toBe(false);

    // The same training with the library's RBM directly: layer 1 on the data, layer 2 on its P(h|v).
    const ref0 = keep(RBM.create(device, { visible: 16, hidden: 8, seed: 5 }));
    await ref0.fit(data, fit);
    const features = await ref0.transform(data);
    const ref1 = keep(RBM.create(device, { visible: 8, hidden: 6, seed: 6, visibleMarginals: columnMeans(features, 64, 8) }));
    await ref1.fit(features, { ...fit, binarize: 'stochastic' });

    const [s0, s1, r0, r1] = await Promise.all([stack.layers[0].readParams(), stack.layers[1].readParams(), ref0.readParams(), ref1.readParams()]);
    expect(s0.W).toEqual(r0.W);
    expect(s1.W).toEqual(r1.W);
    expect(s1.b).toEqual(r1.b);
    expect(s1.c).toEqual(r1.c);

    // A different input to layer 2 (thresholded features) would have given different parameters: the check can fail.
    const other = keep(RBM.create(device, { visible: 8, hidden: 6, seed: 6, visibleMarginals: columnMeans(features, 64, 8) }));
    await other.fit(binarizeThreshold(features, 0.5), { ...fit, binarize: 'stochastic' });
    expect((await other.readParams()).W).not.toEqual(s1.W);
  });

  it('`from` trains only the layers above it, on the up-pass through the trained ones below', async () => {
    const data = patterns(64, 24, 9);
    const stack = keep(RBMStack.create(device, { sizes: [24, 12, 8], seed: 2 }));
    await stack.fit(data, { layers: (l) => ({ ...LEGACY_FIT_OPTIONS, epochs: l === 0 ? 3 : 2, batchSize: 16, learningRate: 0.1 }) });
    const [bottom, top] = await Promise.all([stack.layers[0].readParams(), stack.layers[1].readParams()]);
    const seen: number[] = [];
    const again = await stack.fit(data, { layers: { ...LEGACY_FIT_OPTIONS, epochs: 1, batchSize: 16 }, from: 1, onLayerStart: (i) => void seen.push(i.layer) });
    expect(seen).toEqual([1]);
    expect(again.layers).toHaveLength(1);
    expect((await stack.layers[0].readParams()).W).toEqual(bottom.W);
    expect((await stack.layers[1].readParams()).W).not.toEqual(top.W);
  });

  it('a signal stops the stack: no layer after the one it stopped is trained', async () => {
    const data = patterns(64, 16, 5);
    const stack = keep(RBMStack.create(device, { sizes: [16, 8, 4], seed: 8 }));
    const before = await stack.layers[1].readParams();
    const stop = new AbortController();
    const r = await stack.fit(data, { layers: FIT, signal: stop.signal, onLayerEnd: () => stop.abort() });
    expect(r.cancelled).toBe(true);
    expect(r.layers).toHaveLength(1);
    expect((await stack.layers[1].readParams()).W).toEqual(before.W);
    const none = await stack.fit(data, { layers: FIT, signal: AbortSignal.abort() });
    expect(none).toMatchObject({ cancelled: true, layers: [] });
  });

  it('rejects bad options before training', async () => {
    const stack = keep(RBMStack.create(device, { sizes: [16, 8], seed: 1 }));
    await expect(stack.fit(new Float32Array(15), { layers: FIT })).rejects.toThrow(/whole number of rows of visible=16/);
    await expect(stack.fit(new Float32Array(16), { layers: FIT, from: 1 })).rejects.toThrow(/from must be below the stack's depth 1/);
    expect(() => RBMStack.create(device, { sizes: [16] })).toThrow(/at least two/);
    expect(() => RBMStack.create(device, { sizes: [16, 0] })).toThrow(/sizes\[1\] must be a positive integer/);
  });
});

describe('features and the down-pass', () => {
  it('features equal the composition of the per-layer transforms, at every depth', async () => {
    const stack = keep(RBMStack.create(device, { sizes: [20, 10, 7, 5], seed: 11, weightScale: 0.5 }));
    const data = patterns(33, 20, 4);
    const h1 = await stack.layers[0].transform(data);
    const h2 = await stack.layers[1].transform(h1);
    const h3 = await stack.layers[2].transform(h2);
    expect(await stack.features(data)).toEqual(h3);
    expect(await stack.features(data, 2)).toEqual(h2);
    expect(await stack.features(data, 1)).toEqual(h1);
    expect(await stack.features(data, 0)).toEqual(data);
    // Byte sources go through the same values (bits: 0/1).
    const bits = { format: 'bits' as const, bytes: Uint8Array.from(data) };
    expect(await stack.features(bits)).toEqual(h3);
    await expect(stack.features(data, 4)).rejects.toThrow(/depth must be at most the stack's 3 layers/);
  });

  it('the down-pass is σ(hWᵀ + b) of each layer', async () => {
    const stack = keep(RBMStack.create(device, { sizes: [9, 6], seed: 3, weightScale: 1 }));
    const rand = mulberry32(1);
    const h = Float32Array.from({ length: 4 * 6 }, () => rand());
    const got = await stack.down(0, h);
    const { W, b } = await stack.layers[0].readParams();
    for (let r = 0; r < 4; r++) {
      for (let i = 0; i < 9; i++) {
        let x = b[i];
        for (let j = 0; j < 6; j++) x += h[r * 6 + j] * W[i * 6 + j];
        expect(got[r * 9 + i]).toBeCloseTo(sigmoid(x), 5);
      }
    }
  });
});

describe('sampling', () => {
  it('returns [kept, chains, visible] means, the same for the same seed, other ones for another', async () => {
    const stack = keep(RBMStack.create(device, { sizes: [12, 8, 5], seed: 4, weightScale: 1 }));
    const a = await stack.sample({ chains: 3, steps: 10, keepEvery: 5, seed: 7 });
    expect(a.kept).toBe(2);
    expect(a.chains).toBe(3);
    expect(a.probabilities).toHaveLength(2 * 3 * 12);
    expect(a.top.samples).toHaveLength(2 * 3 * 8);
    expect(a.probabilities.every((p) => p >= 0 && p <= 1)).toBe(true);
    // The bottom means are the down-pass of the top RBM's visible samples.
    expect(a.probabilities).toEqual(await stack.down(0, a.top.samples));
    const b = await stack.sample({ chains: 3, steps: 10, keepEvery: 5, seed: 7 });
    expect(b.probabilities).toEqual(a.probabilities);
    const c = await stack.sample({ chains: 3, steps: 10, keepEvery: 5, seed: 8 });
    expect(c.top.samples).not.toEqual(a.top.samples);
    await expect(stack.sample({ chains: 0, steps: 1 })).rejects.toThrow(/chains must be a positive integer/);
  });
});

describe('a Gaussian bottom layer', () => {
  it('trains on real values, feeds binary layers above, samples real values and saves its standardisation', async () => {
    const rand = mulberry32(12);
    const V = 10;
    const data = Float32Array.from({ length: 64 * V }, (_, e) => (e % V < 5 ? 1 : -1) * (Math.floor(e / V) % 2 ? 1 : -1) + 0.3 * (rand() - 0.5));
    const stack = keep(RBMStack.create(device, { sizes: [V, 6, 4], seed: 3, visibleType: 'gaussian' }));
    expect(stack.layers.map((m) => m.visibleType)).toEqual(['gaussian', 'bernoulli']);
    const r = await stack.fit(data, { layers: (l) => ({ ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: 16, learningRate: l === 0 ? 0.005 : 0.1 }) });
    expect(r.layers).toHaveLength(2);
    const s = await stack.sample({ chains: 3, steps: 4, seed: 1 });
    expect(s.probabilities.some((x) => x < 0 || x > 1)).toBe(true);
    const mean = new Float32Array(V).fill(0.5);
    const std = new Float32Array(V).fill(0.25);
    const bytes = await stack.toSafetensors({}, { standardisation: { mean, std } });
    const loaded = RBMStack.fromSafetensors(device, bytes);
    keep(loaded.stack);
    expect(loaded.stack.visibleType).toBe('gaussian');
    expect(loaded.standardisation).toEqual({ mean, std });
    expect(await loaded.stack.features(data)).toEqual(await stack.features(data));
  });
});

describe('the stack file', () => {
  it('round-trips bit-identically, with metadata and per-layer records', async () => {
    const stack = keep(RBMStack.create(device, { sizes: [10, 7, 4], seed: 21, weightScale: 0.3 }));
    const layerMetadata = [{ epochs: '3', seed: '21' }, { epochs: '5', seed: '22' }];
    const bytes = await stack.toSafetensors({ note: 'x', width: '5', height: '2', seed: '21' }, { layerMetadata });
    expect(isStackSafetensors(bytes)).toBe(true);
    const loaded = RBMStack.fromSafetensors(device, bytes);
    keep(loaded.stack);
    expect(loaded.stack.sizes).toEqual([10, 7, 4]);
    expect(loaded.layerMetadata).toEqual(layerMetadata);
    expect(loaded.imageShape).toEqual({ width: 5, height: 2 });
    expect(loaded.metadata.format).toBe(STACK_FILE_FORMAT);
    expect(loaded.metadata.stack_version).toBe(String(STACK_FILE_VERSION));
    expect(loaded.metadata.layers).toBe('10,7,4');
    expect(loaded.stack.layers.map((m) => m.seed)).toEqual([21, 22]);
    for (let l = 0; l < 2; l++) expect(await loaded.stack.layers[l].readParams()).toEqual(await stack.layers[l].readParams());
    const again = await loaded.stack.toSafetensors({ note: 'x', width: '5', height: '2', seed: '21' }, { layerMetadata });
    expect(again).toEqual(bytes);
  });

  it('reads a single-RBM file as a one-layer stack; RBM.fromSafetensors refuses a stack file by name', async () => {
    const rand = mulberry32(2);
    const W = Float32Array.from({ length: 6 * 3 }, () => rand() - 0.5);
    const single = rbmToSafetensors({ visible: 6, hidden: 3, W, b: new Float32Array(6), c: new Float32Array(3), metadata: { seed: '4' } });
    expect(isStackSafetensors(single)).toBe(false);
    const loaded = RBMStack.fromSafetensors(device, single);
    keep(loaded.stack);
    expect(loaded.singleRbm).toBe(true);
    expect(loaded.stack.sizes).toEqual([6, 3]);
    expect((await loaded.stack.layers[0].readParams()).W).toEqual(W);
    const stackBytes = stackToSafetensors({ sizes: [6, 3], layers: [{ W, b: new Float32Array(6), c: new Float32Array(3) }] });
    expect(() => RBM.fromSafetensors(device, stackBytes)).toThrow(/no tensor "W" \(found: layer0\.W/);
  });

  describe('malformed files are errors that name the problem', () => {
    const V = 4;
    const H = 3;
    const H2 = 2;
    const t = (shape: number[], fill = 0.1): Tensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });
    const good = (): Record<string, Tensor> => ({
      'layer0.W': t([V, H]), 'layer0.b': t([V]), 'layer0.c': t([H]),
      'layer1.W': t([H, H2]), 'layer1.b': t([H]), 'layer1.c': t([H2]),
    });
    const meta = (extra: Record<string, string> = {}): Record<string, string> => ({
      format: STACK_FILE_FORMAT, stack_version: '1', layers: `${V},${H},${H2}`, ...extra,
    });
    const read = (tensors: Record<string, Tensor>, m: Record<string, string>) => () => stackFromSafetensors(encodeSafetensors(tensors, m));

    it('accepts the well-formed file', () => {
      const f = stackFromSafetensors(encodeSafetensors(good(), meta()));
      expect(f.sizes).toEqual([V, H, H2]);
      expect(f.visibleType).toBe('bernoulli');
    });
    it.each([
      ['a missing tensor', () => { const g = good(); delete (g as Record<string, Tensor>)['layer1.c']; return read(g, meta()); }, /no tensor "layer1\.c"/],
      ['a wrong shape', () => read({ ...good(), 'layer1.W': t([H, 5]) }, meta()), /"layer1\.W" has shape \[3, 5\].*needs \[3, 2\]/],
      ['an undeclared layer', () => read({ ...good(), 'layer2.W': t([H2, 2]) }, meta()), /"layer2\.W" that metadata "layers" 4,3,2 does not declare/],
      ['non-numeric sizes', () => read(good(), meta({ layers: '4,abc,2' })), /entry 1 \("abc"\) is not a positive integer/],
      ['one size', () => read(good(), meta({ layers: '4' })), /at least two unit counts/],
      ['no format', () => read(good(), { stack_version: '1', layers: '4,3,2' }), /"format" is missing.*"webgpu-rbm-stack"/],
      ['a newer version', () => read(good(), meta({ stack_version: '2' })), /stack version 2, newer than this reader \(version 1\); update webgpu-rbm/],
      ['no version', () => read(good(), { format: STACK_FILE_FORMAT, layers: '4,3,2' }), /"stack_version" is missing/],
      ['a non-finite weight', () => read({ ...good(), 'layer0.W': t([V, H], NaN) }, meta()), /"layer0\.W" holds NaN.*finite/],
      ['an unknown bottom unit', () => read(good(), meta({ visible: 'potts' })), /"visible" is "potts".*"bernoulli" or "gaussian"/],
      ['layer records of the wrong count', () => read(good(), meta({ layer_metadata: '[{}]' })), /array of 2 objects \(one per layer\), got 1 entries/],
      ['neither W nor layer0.W', () => read({ X: t([2]) }, {}), /neither tensor "W" \(a single RBM\) nor "layer0\.W".*found: X/],
    ])('%s', (_, make, message) => {
      const f = make();
      expect(f).toThrow(SafetensorsFormatError);
      expect(f).toThrow(message);
    });
  });
});

describe('quality on the bundled digits', () => {
  it('2-layer features classify held-out digits far better than chance', async () => {
    const { images, labels } = await loadBundledMnistNode();
    const V = images.width * images.height;
    const split = splitDataset(images.count, 1000, 1);
    const train = Array.from(split.train).slice(0, 3000);
    const test = Array.from(split.test);
    const rows = (idx: number[]): Float32Array => {
      const out = new Float32Array(idx.length * V);
      idx.forEach((i, r) => out.set(images.pixels.subarray(i * V, (i + 1) * V), r * V));
      return binarizeThreshold(out, 0.5);
    };
    const trainX = rows(train);
    const testX = rows(test);
    const stack = keep(RBMStack.create(device, { sizes: [V, 64, 32], seed: 1 }));
    const r = await stack.fit(trainX, { layers: { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: 50, learningRate: 0.1 } });
    const e = r.layers[1].reconError;
    expect(e[e.length - 1]).toBeLessThan(e[0]);
    const f = await stack.features(trainX);
    const g = await stack.features(testX);
    const clf = keep(new SoftmaxClassifier(device, { inputs: 32, classes: 10 }));
    await clf.fit(f, Uint8Array.from(train, (i) => labels[i]), { epochs: 10 });
    const acc = (await clf.evaluate(g, Uint8Array.from(test, (i) => labels[i]))).accuracy;
    // Chance is 10 % (the largest class about 11 %); 32 features two layers up still separate the digits.
    expect(acc).toBeGreaterThan(0.6);
  });
});
