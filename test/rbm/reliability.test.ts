// Bad input, device limits, device loss, disposal, and a soak: clear errors,
// nothing changed, nothing leaked, nothing hangs.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { BufferOwner, DeviceLimitError, DisposedError } from '../../src/gpu/buffers';
import { DeviceLostError } from '../../src/gpu/lost';
import { rbmFromSafetensors, rbmToSafetensors } from '../../src/rbm/model-file';
import { freshDevice, testDevice } from '../helpers/device';
import { mulberry32, randomBinary } from '../helpers/random';
import v8 from 'node:v8';
import vm from 'node:vm';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

describe('device limits', () => {
  it('a model over maxStorageBufferBindingSize names the limit and the size asked for', () => {
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const hidden = Math.ceil(limit / 4 / 1000) + 1;
    const before = BufferOwner.live;
    expect(() => RBM.create(device, { visible: 1000, hidden })).toThrow(DeviceLimitError);
    expect(() => RBM.create(device, { visible: 1000, hidden })).toThrow(new RegExp(`needs ${1000 * hidden * 4} bytes.*is ${limit} bytes`));
    expect(BufferOwner.live).toBe(before);
  });

  it('a batch over the limits fails at trainer creation and leaves the model as it was', async () => {
    const model = RBM.create(device, { visible: 784, hidden: 8 });
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const batchSize = Math.ceil(limit / (2 * 784 * 4)) + 1;
    const live = BufferOwner.live;
    await expect(model.createTrainer({ batchSize, tile: { wgCols: 16, wgRows: 4, threadRows: 8, tileK: 16, shared: false } })).rejects.toThrow(/vis needs \d+ bytes but this device's max\w+ is \d+ bytes/);
    expect(BufferOwner.live).toBe(live);
    model.dispose();
  });

  it('a batch needing more workgroups than maxComputeWorkgroupsPerDimension names that limit', async () => {
    const max = device.limits.maxComputeWorkgroupsPerDimension;
    const tile = { wgCols: 16, wgRows: 16, threadRows: 4, tileK: 16, shared: true }; // 64 rows per workgroup
    const batchSize = max * 64 + 1;
    const model = RBM.create(device, { visible: 1, hidden: 1 });
    const live = BufferOwner.live;
    await expect(model.createTrainer({ batchSize, tile, metrics: false })).rejects.toThrow(
      new RegExp(`needs ${max + 1} workgroups in one dimension but this device's maxComputeWorkgroupsPerDimension is ${max}`),
    );
    expect(BufferOwner.live).toBe(live);
    model.dispose();
  });
});

describe('bad sizes and values', () => {
  it.each([
    [{ visible: 0, hidden: 3 }, /visible must be a positive integer, got 0/],
    [{ visible: 4, hidden: -1 }, /hidden must be a positive integer, got -1/],
    [{ visible: 2.5, hidden: 3 }, /visible must be a positive integer/],
    [{ visible: 2, hidden: 2, params: { W: new Float32Array([0, 0, Number.NaN, 0]), b: new Float32Array(2), c: new Float32Array(2) } }, /parameter W holds NaN at index 2/],
    [{ visible: 2, hidden: 2, params: { W: new Float32Array(3), b: new Float32Array(2), c: new Float32Array(2) } }, /W must be a Float32Array of 4 values, got 3/],
  ])('RBM.create(%o) fails clearly', (options, message) => {
    expect(() => RBM.create(device, options)).toThrow(message);
  });

  it('trainer and sampler reject NaN, Infinity and zero sizes, leaving parameters bit-identical', async () => {
    const model = RBM.create(device, { visible: 5, hidden: 3, seed: 4 });
    const before = await model.readParams();
    const t = await model.createTrainer({ batchSize: 2 });
    expect(() => t.update(new Float32Array(10), { learningRate: 0.1, momentum: Number.POSITIVE_INFINITY })).toThrow(/momentum must be a finite number/);
    expect(() => t.update(new Float32Array(10), { learningRate: -1 })).toThrow(/learningRate must be a finite number ≥ 0/);
    expect(() => t.update(new Float32Array(10).fill(Number.NaN), { learningRate: 0.1 })).toThrow(/not binary.*NaN/);
    await expect(model.createTrainer({ batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(model.createTrainer({ batchSize: 2, k: 0 })).rejects.toThrow(/k must be a positive integer/);
    await expect(model.freeEnergy(new Float32Array([0, 1, Number.NaN, 0, 1]))).rejects.toThrow(/holds NaN at index 2/);
    await expect(model.fit(new Float32Array(10).fill(Number.NaN), { epochs: 1, batchSize: 2 })).rejects.toThrow(/must be finite and in \[0, 1\]/);
    const after = await model.readParams();
    expect(Array.from(after.W)).toEqual(Array.from(before.W));
    expect(Array.from(after.b)).toEqual(Array.from(before.b));
    expect(Array.from(after.c)).toEqual(Array.from(before.c));
    t.dispose();
    model.dispose();
  });
});

describe('disposal', () => {
  it('a disposed model says so on every call', async () => {
    const model = RBM.create(device, { visible: 4, hidden: 2 });
    model.dispose();
    await expect(model.readParams()).rejects.toThrow(DisposedError);
    await expect(model.freeEnergy(new Float32Array(4))).rejects.toThrow(/disposed; create a new one/);
    expect(() => model.train(new Float32Array(8), { epochs: 1, batchSize: 2 })).toThrow(DisposedError);
    await expect(model.sample({ chains: 1, steps: 1 })).rejects.toThrow(DisposedError);
    await expect(model.createTrainer({ batchSize: 1 })).rejects.toThrow(DisposedError);
  });

  it('100 create/train/dispose cycles leak no GPU buffer', async () => {
    const start = BufferOwner.live;
    const data = randomBinary(4 * 9, 0.5, mulberry32(1));
    for (let i = 0; i < 100; i++) {
      const model = RBM.create(device, { visible: 9, hidden: 4, seed: i });
      const t = await model.createTrainer({ batchSize: 4 });
      t.update(data, { learningRate: 0.1 });
      t.dispose();
      model.dispose();
    }
    await device.queue.onSubmittedWorkDone();
    expect(BufferOwner.live).toBe(start);
  });
});

describe('device loss', () => {
  it('rejects the training promise with DeviceLostError carrying the last epoch, and never hangs', async () => {
    const lost = await freshDevice();
    const V = 64;
    const data = randomBinary(400 * V, 0.3, mulberry32(2));
    const model = RBM.create(lost, { visible: V, hidden: 16, seed: 3 });
    const run = model.train(data, {
      ...LEGACY_FIT_OPTIONS, epochs: 1000, batchSize: 10, binarize: 'none', updatesPerSubmit: 5,
      onEpoch: (e) => {
        if (e.epoch === 1) lost.destroy();
      },
    });
    const error = await run.result.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLostError);
    const e = error as DeviceLostError;
    expect(e.message).toMatch(/GPU device was lost \(destroyed/);
    expect(e.snapshot?.epoch).toBe(1);
    // The last completed parameters can still be saved and reloaded.
    const file = rbmToSafetensors({ visible: V, hidden: 16, W: e.snapshot!.W, b: e.snapshot!.b, c: e.snapshot!.c });
    expect(rbmFromSafetensors(file).W).toEqual(e.snapshot!.W);
    // Later calls fail at once with the same error instead of hanging.
    await expect(model.readParams()).rejects.toThrow(DeviceLostError);
    expect(() => model.train(data, { epochs: 1, batchSize: 10 })).toThrow(DeviceLostError);
  });
});

describe('soak', () => {
  it('20,000 updates keep GPU buffers and heap flat', async () => {
    const V = 16;
    const data = randomBinary(400 * V, 0.4, mulberry32(9));
    const model = RBM.create(device, { visible: V, hidden: 8 });
    const buffersBefore = BufferOwner.live;
    // Collected before both readings, so the bound measures what is kept, not when V8 last ran.
    collectGarbage();
    const heapBefore = process?.memoryUsage?.().heapUsed ?? 0;
    let buffersDuring = 0;
    const r = await model.fit(data, {
      ...LEGACY_FIT_OPTIONS, epochs: 200, batchSize: 4, binarize: 'none', updatesPerSubmit: 100,
      onEpoch: (e) => {
        if (e.epoch === 100) buffersDuring = BufferOwner.live;
      },
    });
    expect(r.updates).toBe(20_000);
    const buffersAfter = BufferOwner.live;
    collectGarbage();
    const heapAfter = process?.memoryUsage?.().heapUsed ?? 0;
    console.log(
      `soak: 20,000 updates in ${r.seconds.toFixed(1)} s; live GPU buffers ${buffersBefore} → ${buffersDuring} (mid-run) → ${buffersAfter}; ` +
        `heap ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(buffersAfter).toBe(buffersBefore);
    expect(heapAfter - heapBefore).toBeLessThan(8 * 2 ** 20);
    model.dispose();
  }, 600_000);
});

/** A full garbage collection (V8's gc(), exposed for this call only). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
