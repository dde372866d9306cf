// The GPU softmax regression against a float64 reference written here (the
// same model and momentum step, replayed over the same mini-batches), plus
// convergence on a separable set, determinism and argument checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftmaxClassifier, softmaxEpochBatches, softmaxLearningRate, SOFTMAX_DEFAULTS, STD_FLOOR } from '../../src/rbm/classifier';
import type { SoftmaxSchedule } from '../../src/rbm/classifier';
import { testDevice, takeGPUErrors } from '../helpers/device';
import { mulberry32, randomNormal } from '../helpers/random';

let device: GPUDevice;
const made: SoftmaxClassifier[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(async () => {
  made.forEach((c) => c.dispose());
  expect(await takeGPUErrors()).toEqual([]);
});

function classifier(inputs: number, classes: number): SoftmaxClassifier {
  const c = new SoftmaxClassifier(device, { inputs, classes });
  made.push(c);
  return c;
}

// ---- float64 reference ----

interface Hyper {
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

class RefSoftmax {
  readonly W: Float64Array;
  readonly b: Float64Array;
  private readonly vW: Float64Array;
  private readonly vb: Float64Array;

  constructor(
    readonly D: number,
    readonly K: number,
    W: ArrayLike<number>,
    b: ArrayLike<number>,
  ) {
    this.W = Float64Array.from(W);
    this.b = Float64Array.from(b);
    this.vW = new Float64Array(D * K);
    this.vb = new Float64Array(K);
  }

  probs(x: ArrayLike<number>, row: number): Float64Array {
    const { D, K } = this;
    const z = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s = this.b[k];
      for (let d = 0; d < D; d++) s += x[row * D + d] * this.W[d * K + k];
      z[k] = s;
    }
    const m = Math.max(...z);
    let total = 0;
    for (let k = 0; k < K; k++) total += Math.exp(z[k] - m);
    return z.map((v) => Math.exp(v - m) / total);
  }

  /** One momentum step on the rows `batch`. */
  step(x: ArrayLike<number>, y: ArrayLike<number>, batch: ArrayLike<number>, h: Hyper): void {
    const { D, K } = this;
    const gW = new Float64Array(D * K);
    const gb = new Float64Array(K);
    for (let m = 0; m < batch.length; m++) {
      const r = batch[m];
      const p = this.probs(x, r);
      for (let k = 0; k < K; k++) {
        const e = p[k] - (y[r] === k ? 1 : 0);
        gb[k] += e;
        for (let d = 0; d < D; d++) gW[d * K + k] += e * x[r * D + d];
      }
    }
    for (let u = 0; u < D * K; u++) {
      const g = gW[u] / batch.length + h.weightDecay * this.W[u];
      this.vW[u] = h.momentum * this.vW[u] - h.learningRate * g;
      this.W[u] += this.vW[u];
    }
    for (let k = 0; k < K; k++) {
      this.vb[k] = h.momentum * this.vb[k] - (h.learningRate * gb[k]) / batch.length;
      this.b[k] += this.vb[k];
    }
  }

  /** Mean cross-entropy + (weightDecay / 2)·‖W‖². */
  objective(x: ArrayLike<number>, y: ArrayLike<number>, n: number, weightDecay: number): number {
    let loss = 0;
    for (let r = 0; r < n; r++) loss -= Math.log(this.probs(x, r)[y[r]]);
    let w2 = 0;
    for (const w of this.W) w2 += w * w;
    return loss / n + (weightDecay / 2) * w2;
  }
}

/** Largest |gpu − ref| relative to the reference's scale (max |ref|, at least 1). */
function scaledError(gpu: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(gpu.length).toBe(ref.length);
  let scale = 1;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(gpu[i] - ref[i]) / scale;
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

function randomProblem(D: number, K: number, N: number, seed: number) {
  const rand = mulberry32(seed);
  const x = randomNormal(N * D, 1, rand);
  const y = Uint8Array.from({ length: N }, () => Math.floor(rand() * K));
  const W = randomNormal(D * K, 0.3, rand);
  const b = randomNormal(K, 0.3, rand);
  return { x, y, W, b };
}

const HYPER: Hyper = { learningRate: 0.2, momentum: 0.7, weightDecay: 0.01 };
/** The GPU steps themselves, on the inputs as given. */
const RAW = { ...HYPER, standardize: false } as const;

describe('softmax regression steps match the float64 reference', () => {
  // Odd sizes: nothing a multiple of a workgroup or a vector width.
  const D = 13;
  const K = 3;
  const N = 37;

  it('one full-batch step: W and b within float32 tolerance, and the loss goes down', async () => {
    const { x, y, W, b } = randomProblem(D, K, N, 11);
    const c = classifier(D, K);
    c.writeParams({ W, b });
    const ref = new RefSoftmax(D, K, W, b);
    const before = ref.objective(x, y, N, HYPER.weightDecay);
    const r = await c.fit(x, y, { ...RAW, epochs: 1, batchSize: N, warmStart: true });
    expect(r.steps).toBe(1);
    ref.step(x, y, Array.from({ length: N }, (_, i) => i), HYPER);
    const got = await c.readParams();
    expect(scaledError(got.W, ref.W)).toBeLessThan(2e-6);
    expect(scaledError(got.b, ref.b)).toBeLessThan(2e-6);
    // The step moved the parameters well beyond float32 noise.
    expect(scaledError(got.W, W)).toBeGreaterThan(1e-3);
    expect(ref.objective(x, y, N, HYPER.weightDecay)).toBeLessThan(before);
    // The GPU's own evaluation agrees on the cross-entropy.
    const refAfter = new RefSoftmax(D, K, got.W, got.b);
    const e = await c.evaluate(x, y);
    expect(e.loss).toBeCloseTo(refAfter.objective(x, y, N, 0), 5);
  });

  it.each([
    { name: 'mini-batches with a short last batch', batchSize: 10, shardRows: undefined, schedule: 'linear' as SoftmaxSchedule },
    { name: 'inputs split into shards of 16 rows', batchSize: 6, shardRows: 16, schedule: 'linear' as SoftmaxSchedule },
    { name: 'a constant learning rate', batchSize: 8, shardRows: undefined, schedule: 'constant' as SoftmaxSchedule },
  ])('three epochs of $name', async ({ batchSize, shardRows, schedule }) => {
    const { x, y, W, b } = randomProblem(D, K, N, 23);
    const c = classifier(D, K);
    c.writeParams({ W, b });
    const ref = new RefSoftmax(D, K, W, b);
    const seed = 5;
    const epochs = 3;
    const objective = [ref.objective(x, y, N, HYPER.weightDecay)];
    let steps = 0;
    for (let e = 0; e < epochs; e++) {
      const learningRate = schedule === 'linear' ? HYPER.learningRate * (1 - e / epochs) : HYPER.learningRate;
      expect(softmaxLearningRate(HYPER.learningRate, schedule, e, epochs)).toBe(learningRate);
      for (const batch of softmaxEpochBatches(N, batchSize, seed, e, shardRows)) {
        ref.step(x, y, batch, { ...HYPER, learningRate });
        steps++;
      }
      objective.push(ref.objective(x, y, N, HYPER.weightDecay));
    }
    const r = await c.fit(x, y, { ...RAW, epochs, batchSize, seed, schedule, warmStart: true, maxShardRows: shardRows });
    expect(r.steps).toBe(steps);
    expect(r.shards).toBe(shardRows ? Math.ceil(N / shardRows) : 1);
    const got = await c.readParams();
    expect(scaledError(got.W, ref.W)).toBeLessThan(1e-5);
    expect(scaledError(got.b, ref.b)).toBeLessThan(1e-5);
    expect(objective[epochs]).toBeLessThan(objective[0]);
  });

  it('every epoch visits every row once, in batches of batchSize', () => {
    for (const shardRows of [undefined, 16, 5]) {
      const batches = softmaxEpochBatches(N, 10, 3, 2, shardRows);
      const seen = batches.flatMap((q) => Array.from(q)).sort((p, q) => p - q);
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
      for (const q of batches) expect(q.length).toBeLessThanOrEqual(10);
    }
    expect(softmaxEpochBatches(N, 10, 3, 0)).not.toEqual(softmaxEpochBatches(N, 10, 3, 1));
  });

  it('predictProba is the softmax of x·W + b', async () => {
    const { x, W, b } = randomProblem(D, K, N, 31);
    const c = classifier(D, K);
    c.writeParams({ W, b });
    const p = await c.predictProba(x);
    const ref = new RefSoftmax(D, K, W, b);
    const want = Array.from({ length: N }, (_, r) => Array.from(ref.probs(x, r))).flat();
    expect(scaledError(p, want)).toBeLessThan(1e-6);
    const predicted = await c.predict(x);
    for (let r = 0; r < N; r++) {
      const row = want.slice(r * K, r * K + K);
      expect(predicted[r]).toBe(row.indexOf(Math.max(...row)));
    }
  });
});

describe('standardised fitting', () => {
  // Columns of very different spreads and offsets, one of them constant.
  const D = 7;
  const K = 3;
  const N = 41;
  function problem() {
    const { x, y } = randomProblem(D, K, N, 61);
    const spread = [1, 0.01, 30, 1e-3, 0, 2, 0.5];
    const offset = [0, 0.5, -4, 0.3, 0.7, 10, 0];
    for (let r = 0; r < N; r++) for (let d = 0; d < D; d++) x[r * D + d] = offset[d] + spread[d] * x[r * D + d];
    return { x, y };
  }
  /** (x − mean)/std per column, a std under STD_FLOOR × the RMS std raised to it: written here, independently. */
  function standardise(x: Float32Array): Float32Array {
    const mean = new Array<number>(D).fill(0);
    const std = new Array<number>(D).fill(0);
    for (let i = 0; i < x.length; i++) mean[i % D] += x[i] / N;
    for (let i = 0; i < x.length; i++) std[i % D] += (x[i] - mean[i % D]) ** 2 / N;
    const rms = Math.sqrt(std.reduce((p, v) => p + v, 0) / D);
    const scale = std.map((v) => Math.max(Math.sqrt(v), STD_FLOOR * rms));
    return x.map((v, i) => (v - mean[i % D]) / scale[i % D]);
  }

  it('equals a raw fit on standardised columns, folded into W and b for the raw inputs', async () => {
    const { x, y } = problem();
    const options = { epochs: 3, batchSize: 9, seed: 2 };
    const folded = classifier(D, K);
    await folded.fit(x, y, options);
    const direct = classifier(D, K);
    const xs = standardise(x);
    await direct.fit(xs, y, { ...options, standardize: false });
    // The same model: probabilities of the raw rows from one, of the standardised rows from the other.
    expect(scaledError(await folded.predictProba(x), await direct.predictProba(xs))).toBeLessThan(1e-5);
    const before = await direct.evaluate(xs, y);
    expect((await folded.evaluate(x, y)).loss).toBeCloseTo(before.loss, 4);
    // A warm start continues from the folded parameters: the same as continuing the direct fit.
    await folded.fit(x, y, { ...options, warmStart: true });
    await direct.fit(xs, y, { ...options, standardize: false, warmStart: true });
    expect(scaledError(await folded.predictProba(x), await direct.predictProba(xs))).toBeLessThan(1e-5);
  });

  it('learns from features that hardly vary as well as from the same features spread out', async () => {
    const { x, y } = problem();
    const xs = standardise(x);
    const tiny = xs.map((v) => 0.45 + 0.02 * v);
    const a = classifier(D, K);
    const b = classifier(D, K);
    await a.fit(tiny, y, { epochs: 5, batchSize: 8 });
    await b.fit(xs, y, { epochs: 5, batchSize: 8 });
    expect(scaledError(await a.predictProba(tiny), await b.predictProba(xs))).toBeLessThan(1e-4);
  });
});

describe('softmax regression training', () => {
  it('separates well-separated classes perfectly with the defaults, from zeros', async () => {
    // K Gaussian blobs in D dimensions, centres 6 apart along different axes.
    const D = 20;
    const K = 4;
    const N = 240;
    const rand = mulberry32(7);
    const noise = randomNormal(N * D, 1, rand);
    const x = new Float32Array(N * D);
    const y = new Uint8Array(N);
    for (let r = 0; r < N; r++) {
      y[r] = r % K;
      for (let d = 0; d < D; d++) x[r * D + d] = noise[r * D + d] + (d === 3 * y[r] ? 6 : 0);
    }
    const c = classifier(D, K);
    const start = await c.evaluate(x, y);
    expect(start.loss).toBeCloseTo(Math.log(K), 5); // W = 0: every class equally likely
    const r = await c.fit(x, y, { epochs: 10, batchSize: 32 });
    expect(r.steps).toBe(10 * Math.ceil(N / 32));
    const e = await c.evaluate(x, y);
    expect(e.accuracy).toBe(1);
    expect(e.correct).toBe(N);
    expect(e.loss).toBeLessThan(0.1);
    expect(await c.accuracy(x, y)).toBe(1);
  });

  it('is deterministic given the seed, and the seed matters', async () => {
    const D = 9;
    const K = 5;
    const { x, y } = randomProblem(D, K, 53, 41);
    const c = classifier(D, K);
    const options = { epochs: 2, batchSize: 8, seed: 3 };
    await c.fit(x, y, options);
    const first = await c.readParams();
    await c.fit(x, y, options); // starts again from zeros
    const again = await c.readParams();
    expect(again.W).toEqual(first.W);
    expect(again.b).toEqual(first.b);
    await c.fit(x, y, { ...options, seed: 4 });
    expect((await c.readParams()).W).not.toEqual(first.W);
  });

  it('has the documented defaults', () => {
    expect(SOFTMAX_DEFAULTS).toEqual({
      epochs: 20, batchSize: 100, learningRate: 0.1, momentum: 0.9, weightDecay: 3e-3, schedule: 'linear', standardize: true, seed: 1,
    });
  });
});

describe('softmax regression arguments', () => {
  it('refuses bad sizes, labels and options with the value and the fix', async () => {
    expect(() => new SoftmaxClassifier(device, { inputs: 0, classes: 3 })).toThrow(/inputs must be a positive integer/);
    expect(() => new SoftmaxClassifier(device, { inputs: 4, classes: 1 })).toThrow(/classes must be an integer in 2\.\.256/);
    expect(() => new SoftmaxClassifier(device, { inputs: 4, classes: 257 })).toThrow(/2\.\.256/);
    const c = classifier(4, 3);
    const x = new Float32Array(8);
    await expect(c.fit(x, [0, 3])).rejects.toThrow(/label 3 at row 1 is not a class index in 0\.\.2/);
    await expect(c.fit(x, [0, 1, 2])).rejects.toThrow(/labels has 3 entries but the features have 2 rows/);
    await expect(c.fit(x, [0, 1.5])).rejects.toThrow(/label 1.5 at row 1/);
    await expect(c.fit(new Float32Array(7), [0, 1])).rejects.toThrow(/rows × 4 inputs, got 7 values/);
    await expect(c.fit(x, [0, 1], { momentum: 1 })).rejects.toThrow(/momentum must be a finite number in \[0, 1\)/);
    await expect(c.fit(x, [0, 1], { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(c.fit(x, [0, 1], { schedule: 'cosine' as never })).rejects.toThrow(/schedule must be one of 'linear', 'constant'/);
    await expect(c.fit(Float32Array.of(0, 0, NaN, 0, 0, 0, 0, 0), [0, 1])).rejects.toThrow(/features holds NaN at index 2/);
    expect(() => c.writeParams({ W: new Float32Array(11), b: new Float32Array(3) })).toThrow(/inputs × classes = 12/);
  });

  it('reports divergence instead of returning non-finite weights', async () => {
    const D = 6;
    const K = 3;
    const { x, y } = randomProblem(D, K, 30, 3);
    for (let i = 0; i < x.length; i++) x[i] *= 1e4;
    const c = classifier(D, K);
    await expect(c.fit(x, y, { learningRate: 1e6, momentum: 0.99, epochs: 5, batchSize: 5, standardize: false })).rejects.toThrow(
      /diverged.*lower learningRate/,
    );
  });

  it('refuses use after dispose', async () => {
    const c = new SoftmaxClassifier(device, { inputs: 2, classes: 2 });
    c.dispose();
    await expect(c.predict(new Float32Array(2))).rejects.toThrow(/disposed/);
  });
});
