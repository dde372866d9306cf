// Training on a sharded and on a compact (u8) data set gives bit-identical
// parameters to training on one float32 buffer: the trainer gathers from
// every shard (one dispatch each) through the same global permutation.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { GpuDataset } from '../../src/rbm/dataset';
import { shuffledPermutation } from '../../src/data/split';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

const V = 13;
const N = 41;
const B = 5;

async function trainOn(ds: GpuDataset, binarize: 'stochastic' | 'threshold'): Promise<Uint32Array> {
  const model = RBM.create(device, { visible: V, hidden: 7, seed: 3 });
  const t = await model.createTrainer({ batchSize: B, k: 2 });
  t.bindDataset(ds, { binarize, seed: 11 });
  t.setHyperparameters({ learningRate: 0.1, momentum: 0.5 });
  for (let epoch = 0; epoch < 2; epoch++) {
    t.startEpoch(epoch, shuffledPermutation(N, 11, epoch));
    const enc = device.createCommandEncoder();
    t.encodeUpdates(enc, Math.floor(N / B));
    device.queue.submit([enc.finish()]);
  }
  const p = await model.readParams();
  t.dispose();
  model.dispose();
  const all = new Float32Array(p.W.length + p.b.length + p.c.length);
  all.set(p.W);
  all.set(p.b, p.W.length);
  all.set(p.c, p.W.length + p.b.length);
  return new Uint32Array(all.buffer);
}

describe('training on sharded and compact data sets', () => {
  it.each(['stochastic', 'threshold'] as const)('%s: f32 one buffer = f32 sharded = u8 = u8 sharded, bit for bit', async (mode) => {
    const r = mulberry32(7);
    const bytes = Uint8Array.from({ length: N * V }, () => Math.floor(r() * 256));
    const floats = Float32Array.from(bytes, (b) => b / 255);
    const sets = [
      GpuDataset.upload(device, floats, V),
      GpuDataset.upload(device, floats, V, { maxShardBytes: 400 }),
      GpuDataset.upload(device, { format: 'u8', bytes }, V),
      GpuDataset.upload(device, { format: 'u8', bytes }, V, { maxShardBytes: 100 }),
    ];
    expect(sets.map((s) => s.shards.length)).toEqual([1, 6, 1, 9]);
    const want = Array.from(await trainOn(sets[0], mode));
    for (const ds of sets.slice(1)) expect(Array.from(await trainOn(ds, mode))).toEqual(want);
    for (const ds of sets) ds.dispose();
  });
});

describe('model.fit on compact data (with fit taking a DataSource)', () => {
  it.each([false, true])('persistent %s: u8 bytes train exactly as their float32 values', async (persistent) => {
    const r = mulberry32(9);
    const bytes = Uint8Array.from({ length: N * V }, () => Math.floor(r() * 256));
    const floats = Float32Array.from(bytes, (b) => b / 255);
    const run = async (data: Float32Array | { format: 'u8'; bytes: Uint8Array }): Promise<number[]> => {
      const model = RBM.create(device, { visible: V, hidden: 6, seed: 5 });
      await model.fit(data, { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: B, k: 1, persistent, chains: B, learningRate: 0.1, seed: 4 });
      const p = await model.readParams();
      model.dispose();
      return Array.from(new Uint32Array(Float32Array.from([...p.W, ...p.b, ...p.c]).buffer));
    };
    expect(await run({ format: 'u8', bytes })).toEqual(await run(floats));
  });
});
