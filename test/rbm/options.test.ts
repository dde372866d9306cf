// Every option checked up front: a bad enum, type or number is a RangeError
// that names the option, the value and what is allowed, raised before anything
// is allocated or changed (parameters bit-identical, no GPU buffer left over).
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { fitPT, trainPT } from '../../src/rbm/pt-train';
import { GpuDataset } from '../../src/rbm/dataset';
import { BufferOwner } from '../../src/gpu/buffers';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary } from '../helpers/random';

let device: GPUDevice;
let model: RBM;
const V = 6;
const H = 4;
const data = randomBinary(8 * V, 0.4, mulberry32(1));
const ok = { epochs: 1, batchSize: 4, binarize: 'none' as const };

beforeAll(async () => {
  device = await testDevice();
  model = RBM.create(device, { visible: V, hidden: H, seed: 3 });
});

/** Calls `f`, returning what it threw or what its promise rejected with. */
async function failure(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

async function expectRejectedCleanly(call: () => unknown, message: RegExp): Promise<void> {
  const before = await model.readParams();
  const live = BufferOwner.live;
  const e = await failure(call);
  expect(e).toBeInstanceOf(RangeError);
  expect((e as Error).message).toMatch(message);
  expect(BufferOwner.live).toBe(live);
  expect(model.isTraining).toBe(false);
  const after = await model.readParams();
  expect(Array.from(after.W)).toEqual(Array.from(before.W));
  expect(Array.from(after.b)).toEqual(Array.from(before.b));
  expect(Array.from(after.c)).toEqual(Array.from(before.c));
}

const bad = (o: object): Record<string, unknown> => ({ ...ok, ...o });

type FitCase = [string, Record<string, unknown>, RegExp];
const fitCases: FitCase[] = [
  ["binarize: 'bogus'", bad({ binarize: 'bogus' }), /binarize must be one of 'stochastic', 'threshold', 'none', got 'bogus'/],
  ['binarize: 1', bad({ binarize: 1 }), /binarize must be one of .*, got 1/],
  ["momentum: 'bogus'", bad({ momentum: 'bogus' }), /momentum must be a number in \[0, 1\), a function of the epoch or 'hinton', got 'bogus'/],
  ['momentum: 1.5', bad({ momentum: 1.5 }), /momentum at epoch 0 must be below 1, got 1.5/],
  ['momentum: -0.1', bad({ momentum: -0.1 }), /momentum at epoch 0 must be a finite number ≥ 0, got -0.1/],
  ['momentum: () => NaN', bad({ momentum: () => Number.NaN }), /momentum at epoch 0 must be a finite number ≥ 0, got NaN/],
  ["learningRate: 'fast'", bad({ learningRate: 'fast' }), /learningRate must be a number ≥ 0, a function of the epoch, got 'fast'/],
  ['learningRate: NaN', bad({ learningRate: Number.NaN }), /learningRate at epoch 0 must be a finite number ≥ 0, got NaN/],
  ['learningRate: -1', bad({ learningRate: -1 }), /learningRate at epoch 0 must be a finite number ≥ 0, got -1/],
  ['learningRate bad at epoch 7', bad({ epochs: 10, learningRate: (e: number) => (e === 7 ? -1 : 0.1) }), /learningRate at epoch 7 .* got -1/],
  ['k: 0', bad({ k: 0 }), /k must be a positive integer, got 0/],
  ['k: 1.5', bad({ k: 1.5 }), /k must be a positive integer, got 1.5/],
  ['k: 10001 (past the RNG stream registry)', bad({ k: 10_001 }), /k must be at most 10000, got 10001/],
  ["k: '2'", bad({ k: '2' }), /k must be a positive integer, got '2'/],
  ["persistent: 'yes'", bad({ persistent: 'yes' }), /persistent must be true or false, got 'yes'/],
  ['batchSize: 0', bad({ batchSize: 0 }), /batchSize must be a positive integer, got 0/],
  ['batchSize: 2.5', bad({ batchSize: 2.5 }), /batchSize must be a positive integer, got 2.5/],
  ['batchSize: NaN', bad({ batchSize: Number.NaN }), /batchSize must be a positive integer, got NaN/],
  ['batchSize: 9 > rows', bad({ batchSize: 9 }), /8 rows, fewer than one batch of 9/],
  ['epochs: 0', bad({ epochs: 0 }), /epochs must be a positive integer, got 0/],
  ['epochs: -3', bad({ epochs: -3 }), /epochs must be a positive integer, got -3/],
  ['epochs: Infinity', bad({ epochs: Number.POSITIVE_INFINITY }), /epochs must be a positive integer, got Infinity/],
  ['epochs: 1.5', bad({ epochs: 1.5 }), /epochs must be a positive integer, got 1.5/],
  ['updatesPerSubmit: 0', bad({ updatesPerSubmit: 0 }), /updatesPerSubmit must be a positive integer, got 0/],
  ['updatesPerSubmit: 1.5', bad({ updatesPerSubmit: 1.5 }), /updatesPerSubmit must be a positive integer, got 1.5/],
  ['threshold: NaN', bad({ binarize: 'threshold', threshold: Number.NaN }), /threshold must be a finite number, got NaN/],
  ['seed: 1.5', bad({ seed: 1.5 }), /seed must be an integer \(it is used modulo 2\^32\), got 1.5/],
  ["seed: 'x'", bad({ seed: 'x' }), /seed must be an integer .*, got 'x'/],
  ['weightDecay: -1', bad({ weightDecay: -1 }), /weightDecay must be a finite number ≥ 0, got -1/],
  ['sparsityTarget: 1', bad({ sparsityTarget: 1 }), /sparsityTarget must be a finite number in \[0, 1\), got 1/],
  ['sparsityTarget: 0', bad({ sparsityTarget: 0, sparsityCost: 0.1 }), /sparsityTarget must be above 0/],
  ['sparsityTarget without sparsityCost', bad({ sparsityTarget: 0.1 }), /sparsityTarget has no effect without sparsityCost/],
  ['sparsityCost: NaN', bad({ sparsityCost: Number.NaN }), /sparsityCost must be a finite number ≥ 0, got NaN/],
  ['sparsityDecay: 1.5', bad({ sparsityDecay: 1.5 }), /sparsityDecay must be a finite number in \[0, 1\), got 1.5/],
  ["onEpoch: 'x'", bad({ onEpoch: 'x' }), /onEpoch must be a function, got 'x'/],
  ['onProgress: 5', bad({ onProgress: 5 }), /onProgress must be a function, got 5/],
  ["snapshots: 'no'", bad({ snapshots: 'no' }), /snapshots must be true or false, got 'no'/],
  ["signal: 'stop'", bad({ signal: 'stop' }), /signal must be an AbortSignal, got 'stop'/],
];

describe('fit / train options', () => {
  it.each(fitCases)('fit(%s) is a RangeError naming it; nothing changed or leaked', async (_, options, message) => {
    await expectRejectedCleanly(() => model.fit(data, options as never), message);
  });

  it.each(fitCases)('train(%s).result rejects the same way', async (_, options, message) => {
    await expectRejectedCleanly(() => model.train(data, options as never).result, message);
  });

  it('null options', async () => {
    await expectRejectedCleanly(() => model.fit(data, null as never), /training options must be an object, got null/);
  });

  it("a Gaussian model refuses binarization other than 'none'", async () => {
    const g = RBM.create(device, { visible: V, hidden: H, visibleType: 'gaussian' });
    const live = BufferOwner.live;
    await expect(g.fit(data, { ...ok, binarize: 'threshold' })).rejects.toThrow(/Gaussian RBM trains on real values/);
    expect(BufferOwner.live).toBe(live);
    g.dispose();
  });
});

type PTCase = [string, Record<string, unknown>, RegExp];
const ptCases: PTCase[] = [
  ["binarize: 'bogus'", bad({ binarize: 'bogus' }), /binarize must be one of 'stochastic', 'threshold', 'none', got 'bogus'/],
  ['replicas: 1', bad({ replicas: 1 }), /replicas must be an integer ≥ 2, got 1/],
  ['replicas: 2.5', bad({ replicas: 2.5 }), /replicas must be an integer ≥ 2, got 2.5/],
  ['betas: [0.5, 1]', bad({ betas: [0.5, 1] }), /betas\[0\] must be 1/],
  ['betaMin: 2', bad({ betaMin: 2 }), /betaMin must be a number in \[0, 1\], got 2/],
  ['swapEvery: 0', bad({ swapEvery: 0 }), /swapEvery must be a positive integer, got 0/],
  ['sweepsPerUpdate: NaN', bad({ sweepsPerUpdate: Number.NaN }), /sweepsPerUpdate must be a positive integer, got NaN/],
  ['sweepsPerUpdate: 1.5', bad({ sweepsPerUpdate: 1.5 }), /sweepsPerUpdate must be a positive integer, got 1.5/],
  ['chainSeed: 1.5', bad({ chainSeed: 1.5 }), /chainSeed must be an integer/],
  ["momentum: 'bogus'", bad({ momentum: 'bogus' }), /momentum must be .* or 'hinton', got 'bogus'/],
  ['epochs: 0', bad({ epochs: 0 }), /epochs must be a positive integer, got 0/],
];

describe('fitPT / trainPT options', () => {
  it.each(ptCases)('fitPT(%s) is a RangeError naming it; nothing changed or leaked', async (_, options, message) => {
    await expectRejectedCleanly(() => fitPT(model, data, options as never), message);
  });

  it.each(ptCases.slice(0, 3))('trainPT(%s).result rejects the same way', async (_, options, message) => {
    await expectRejectedCleanly(() => trainPT(model, data, options as never).result, message);
  });
});

const tile = { wgCols: 16, wgRows: 4, threadRows: 8, tileK: 16, shared: false };
type TrainerCase = [string, Record<string, unknown>, RegExp];
const trainerCases: TrainerCase[] = [
  ["tile: 'fast'", { batchSize: 2, tile: 'fast' }, /tile must be 'auto', a tile shape .*, got 'fast'/],
  ['tile.wgCols: 0', { batchSize: 2, tile: { ...tile, wgCols: 0 } }, /tile.wgCols must be a positive integer, got 0/],
  ["tile.shared: 'yes'", { batchSize: 2, tile: { ...tile, shared: 'yes' } }, /tile.shared must be true or false, got 'yes'/],
  ['tile.threadRows: 9', { batchSize: 2, tile: { ...tile, threadRows: 9 } }, /threadRows must be an integer in 1..8, got 9/],
  ['tile 64×64 workgroup', { batchSize: 2, tile: { ...tile, wgCols: 64, wgRows: 64 } }, /tile: a 64×64 workgroup exceeds this device's limits/],
  ['tile.update missing', { batchSize: 2, tile: { hidden: tile, visible: tile } }, /tile.update must be a tile shape/],
  ['k: -1', { batchSize: 2, k: -1 }, /k must be a positive integer, got -1/],
  ['metricsCapacity: 0', { batchSize: 2, metricsCapacity: 0 }, /metricsCapacity must be a positive integer, got 0/],
  ["metrics: 'on'", { batchSize: 2, metrics: 'on' }, /metrics must be true or false, got 'on'/],
  ["persistent: 1", { batchSize: 2, persistent: 1 }, /persistent must be true or false, got 1/],
  ['batchSize: NaN', { batchSize: Number.NaN }, /batchSize must be a positive integer, got NaN/],
];

describe('TrainerOptions', () => {
  it.each(trainerCases)('createTrainer(%s) is a RangeError naming it', async (_, options, message) => {
    await expectRejectedCleanly(() => model.createTrainer(options as never), message);
  });

  it("bindDataset(binarize: 'bogus') names the option and the allowed values", async () => {
    const t = await model.createTrainer({ batchSize: 2 });
    const ds = GpuDataset.upload(device, data, V);
    const live = BufferOwner.live;
    expect(() => t.bindDataset(ds, { binarize: 'bogus' as never })).toThrow(
      /binarize must be one of 'stochastic', 'threshold', 'none', got 'bogus'/,
    );
    expect(() => t.bindDataset(ds, { binarize: 'none', seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(BufferOwner.live).toBe(live);
    ds.dispose();
    t.dispose();
  });
});

type CreateCase = [string, Record<string, unknown>, RegExp];
const createCases: CreateCase[] = [
  ["visibleType: 'binary'", { visibleType: 'binary' }, /visibleType must be one of 'bernoulli', 'gaussian', 'potts', got 'binary'/],
  ['seed: NaN', { seed: Number.NaN }, /seed must be an integer .*, got NaN/],
  ['weightScale: -1', { weightScale: -1 }, /weightScale must be a finite number ≥ 0, got -1/],
  ['visibleMarginals: 3 values', { visibleMarginals: [0.5, 0.5, 0.5] }, /visibleMarginals must hold one value per visible unit \(6\), got 3 values/],
  ['visibleMarginals: 1.5', { visibleMarginals: [0.5, 0.5, 1.5, 0.5, 0.5, 0.5] }, /visibleMarginals\[2\] is 1.5: Bernoulli marginals lie in \[0, 1\]/],
  ["params: 'x'", { params: 'x' }, /params must be \{ W, b, c \}/],
];

describe('RBMOptions', () => {
  it.each(createCases)('RBM.create(%s) is a RangeError naming it; nothing allocated', (_, options, message) => {
    const live = BufferOwner.live;
    expect(() => RBM.create(device, { visible: V, hidden: H, ...options } as never)).toThrow(message);
    expect(() => RBM.create(device, { visible: V, hidden: H, ...options } as never)).toThrow(RangeError);
    expect(BufferOwner.live).toBe(live);
  });
});

type SampleCase = [string, Record<string, unknown>, RegExp];
const sampleCases: SampleCase[] = [
  ["init: 'zeros'", { chains: 2, steps: 1, init: 'zeros' }, /init must be 'noise' or a Float32Array .*, got 'zeros'/],
  ['chains: 0', { chains: 0, steps: 1 }, /chains must be a positive integer, got 0/],
  ['steps: 1.5', { chains: 2, steps: 1.5 }, /steps must be a positive integer, got 1.5/],
  ['keepEvery: 0', { chains: 2, steps: 2, keepEvery: 0 }, /keepEvery must be a positive integer, got 0/],
  ['stepsPerSubmit: -1', { chains: 2, steps: 2, stepsPerSubmit: -1 }, /stepsPerSubmit must be a positive integer, got -1/],
  ['seed: 0.5', { chains: 2, steps: 2, seed: 0.5 }, /seed must be an integer/],
  ["clamp: 'x'", { chains: 2, steps: 2, clamp: 'x' }, /clamp must be \{ mask, values \}/],
];

describe('SampleOptions / ChainOptions', () => {
  it.each(sampleCases)('sample(%s) is a RangeError naming it', async (_, options, message) => {
    await expectRejectedCleanly(() => model.sample(options as never), message);
  });

  it.each(sampleCases.filter(([, o]) => !('steps' in o && (o.steps as number) % 1 !== 0) && !('keepEvery' in o) && !('stepsPerSubmit' in o)))(
    'createChains(%s) is a RangeError naming it',
    async (_, options, message) => {
      await expectRejectedCleanly(() => model.createChains(options as never), message);
    },
  );
});
