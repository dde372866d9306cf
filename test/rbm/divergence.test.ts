// Divergence and concurrent runs: a run whose parameters or metrics stop being
// finite stops, puts back the last finite snapshot and rejects with a
// DivergenceError; a second run on a training model is refused with
// ModelBusyError; huge epoch counts start at once or are refused up front.
import { beforeAll, describe, expect, it } from 'vitest';
import { RBM, ModelBusyError } from '../../src/rbm/model';
import { DivergenceError, FiniteMonitor } from '../../src/rbm/divergence';
import { fitPT, trainPT } from '../../src/rbm/pt-train';
import { BufferOwner } from '../../src/gpu/buffers';
import { DivergenceError as PublicDivergenceError, ModelBusyError as PublicModelBusyError } from '../../src/index';
import { takeGPUErrors, testDevice } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

const V = 6;
const H = 4;

function allFinite(...arrays: Float32Array[]): boolean {
  return arrays.every((a) => a.every((x) => Number.isFinite(x)));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (e: unknown) => e,
  );
}

describe('divergence', () => {
  it('exports DivergenceError and ModelBusyError from the package entry', () => {
    expect(PublicDivergenceError).toBe(DivergenceError);
    expect(PublicModelBusyError).toBe(ModelBusyError);
  });

  it('a Gaussian model with learningRate 50 diverges: DivergenceError, model back on the finite snapshot, nothing leaked', async () => {
    const live = BufferOwner.live;
    const data = randomNormal(40 * V, 1.5, mulberry32(3));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 2, visibleType: 'gaussian', weightScale: 0.1 });
    const initial = await model.readParams();
    const epochsSeen: number[] = [];
    const error = await rejection(
      model.fit(data, {
        epochs: 200, batchSize: 4, learningRate: 50, momentum: 0.9, updatesPerSubmit: 3,
        onEpoch: (e) => {
          epochsSeen.push(e.epoch);
        },
      }),
    );
    expect(error).toBeInstanceOf(DivergenceError);
    const e = error as DivergenceError;
    expect(e.name).toBe('DivergenceError');
    expect(e.learningRate).toBe(50);
    expect(e.suggestedLearningRate).toBe(5);
    expect(e.message).toMatch(/diverged in epoch \d+ \(by update \d+\)/);
    expect(e.message).toMatch(/lower the learning rate, e\.g\. to 5 \(it was 50\)/i);
    expect(['parameters', 'metric']).toContain(e.nonFinite);
    expect(e.counts.parameters + e.counts.velocities + e.counts.metrics).toBeGreaterThan(0);
    expect(e.update).toBeGreaterThan(0);
    expect(e.update).toBeLessThan(200 * 10);
    // The snapshot is the last completed epoch before the one that diverged (−1: the initial parameters).
    expect(e.snapshot.epoch).toBeLessThan(e.epoch);
    expect(e.snapshot.epoch).toBe(epochsSeen.length > 0 ? epochsSeen[epochsSeen.length - 1] : -1);
    expect(allFinite(e.snapshot.W, e.snapshot.b, e.snapshot.c)).toBe(true);
    if (e.snapshot.epoch === -1) expect(Array.from(e.snapshot.W)).toEqual(Array.from(initial.W));
    const after = await model.readParams();
    expect(allFinite(after.W, after.b, after.c)).toBe(true);
    expect(Array.from(after.W)).toEqual(Array.from(e.snapshot.W));
    expect(Array.from(after.b)).toEqual(Array.from(e.snapshot.b));
    expect(Array.from(after.c)).toEqual(Array.from(e.snapshot.c));
    console.log(`Gaussian, learning rate 50: ${e.message} (epochs completed: ${epochsSeen.length})`);
    // The lock is released: the model takes new parameters and trains again after the divergence.
    expect(model.isTraining).toBe(false);
    model.writeParams(initial);
    const ok = await model.fit(data, { epochs: 1, batchSize: 4, learningRate: 1e-3 });
    expect(ok.reconError.every(Number.isFinite)).toBe(true);
    model.dispose();
    expect(BufferOwner.live).toBe(live);
    expect(await takeGPUErrors()).toEqual([]);
  });

  it('with snapshots: false the model goes back to the parameters it started from', async () => {
    const data = randomNormal(40 * V, 1.5, mulberry32(4));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 5, visibleType: 'gaussian', weightScale: 0.1 });
    const initial = await model.readParams();
    const e = (await rejection(
      model.fit(data, { epochs: 200, batchSize: 4, learningRate: 50, momentum: 0.9, snapshots: false }),
    )) as DivergenceError;
    expect(e).toBeInstanceOf(DivergenceError);
    expect(e.snapshot.epoch).toBe(-1);
    const after = await model.readParams();
    expect(Array.from(after.W)).toEqual(Array.from(initial.W));
    expect(Array.from(after.b)).toEqual(Array.from(initial.b));
    expect(Array.from(after.c)).toEqual(Array.from(initial.c));
    model.dispose();
  });

  it('a sane run does not raise it; snapshots on or off, the parameters are bit-identical', async () => {
    const data = randomNormal(40 * V, 1, mulberry32(6));
    const run = async (snapshots: boolean): Promise<{ W: Float32Array; recon: number[] }> => {
      const model = RBM.create(device, { visible: V, hidden: H, seed: 7, visibleType: 'gaussian' });
      const r = await model.fit(data, { epochs: 3, batchSize: 4, learningRate: 0.01, snapshots, updatesPerSubmit: 4 });
      const { W } = await model.readParams();
      model.dispose();
      return { W, recon: r.reconError };
    };
    const a = await run(true);
    const b = await run(false);
    expect(a.recon.every(Number.isFinite)).toBe(true);
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(a.recon).toEqual(b.recon);
  });

  it('a Bernoulli model with an absurd learning rate diverges too (CD and PT)', async () => {
    const data = randomBinary(20 * V, 0.4, mulberry32(8));
    for (const pt of [false, true]) {
      const live = BufferOwner.live;
      const model = RBM.create(device, { visible: V, hidden: H, seed: 9 });
      const o = { ...LEGACY_FIT_OPTIONS, epochs: 50, batchSize: 4, learningRate: 1e38, momentum: 0.9, binarize: 'none' as const };
      const t0 = performance.now();
      const e = (await rejection(pt ? fitPT(model, data, { ...o, replicas: 3 }) : model.fit(data, o))) as DivergenceError;
      console.log(`Bernoulli${pt ? ' PT' : ''}, learning rate 1e38 (${(performance.now() - t0).toFixed(0)} ms): ${e.message}`);
      expect(e).toBeInstanceOf(DivergenceError);
      expect(e.message).toMatch(/e\.g\. to 1e\+37/);
      const after = await model.readParams();
      expect(allFinite(after.W, after.b, after.c)).toBe(true);
      expect(Array.from(after.W)).toEqual(Array.from(e.snapshot.W));
      model.dispose();
      expect(BufferOwner.live).toBe(live);
    }
  });

  it('finite_check counts NaN and ±Infinity in W, b, c, velocities and metrics, and nothing in finite ones', async () => {
    // W longer than the scan's grid (256 workgroups × 256), so the grid-stride loop is exercised.
    const model = RBM.create(device, { visible: 3, hidden: 30_000, seed: 1 });
    const n = 3 * 30_000;
    const owner = new BufferOwner(device, 'finite check test');
    const metrics = owner.storage('metrics', new Float32Array(6));
    const monitor = await FiniteMonitor.create(model, metrics, 5);
    const check = async (): Promise<unknown> => {
      const enc = device.createCommandEncoder();
      const probe = monitor.encode(enc);
      device.queue.submit([enc.finish()]);
      return monitor.read(probe);
    };
    expect(await check()).toEqual({ parameters: 0, velocities: 0, metrics: 0 });
    const W = new Float32Array(n);
    W[0] = Number.NaN;
    W[n - 1] = Number.POSITIVE_INFINITY;
    W[70_000] = 3.4e38; // large but finite
    device.queue.writeBuffer(model.W, 0, W);
    device.queue.writeBuffer(model.c, 4 * 29_999, new Float32Array([Number.NEGATIVE_INFINITY]));
    device.queue.writeBuffer(model.bVel, 4, new Float32Array([Number.NaN]));
    device.queue.writeBuffer(metrics, 4 * 4, new Float32Array([Number.NaN]));
    device.queue.writeBuffer(metrics, 4 * 5, new Float32Array([Number.NaN])); // past metricCount: ignored
    expect(await check()).toEqual({ parameters: 3, velocities: 1, metrics: 1 });
    expect(await check()).toEqual({ parameters: 3, velocities: 1, metrics: 1 }); // cleared between checks
    monitor.dispose();
    owner.dispose();
    model.dispose();
  });
});

describe('one run at a time', () => {
  it('a second train/fit/trainPT/fitPT on a training model rejects with ModelBusyError; the lock is released after', async () => {
    const data = randomBinary(40 * V, 0.4, mulberry32(10));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 11 });
    const before = await model.readParams();
    const first = model.train(data, { ...LEGACY_FIT_OPTIONS, epochs: 1000, batchSize: 4, binarize: 'none', updatesPerSubmit: 2 });
    expect(model.isTraining).toBe(true);
    const o = { ...LEGACY_FIT_OPTIONS, epochs: 1, batchSize: 4, binarize: 'none' as const };
    for (const second of [
      () => model.train(data, o).result,
      () => model.fit(data, o),
      () => trainPT(model, data, o).result,
      () => fitPT(model, data, o),
    ]) {
      const e = await rejection(second());
      expect(e).toBeInstanceOf(ModelBusyError);
      expect((e as Error).message).toBe(
        'this model is already training; await or cancel the first run before starting another',
      );
    }
    expect(() => model.writeParams(before)).toThrow(ModelBusyError);
    // Sampling while training is allowed (documented in model.ts): it sees whole updates.
    const s = await model.sample({ chains: 2, steps: 2 });
    expect(s.samples.length).toBe(2 * V);
    first.cancel();
    const r = await first.result;
    expect(r.cancelled).toBe(true);
    expect(model.isTraining).toBe(false);
    // Released after a cancel, after a failure and after a normal end.
    await expect(model.fit(data, { ...o, onEpoch: () => Promise.reject(new Error('boom')) })).rejects.toThrow('boom');
    expect(model.isTraining).toBe(false);
    await model.fit(data, o);
    await fitPT(model, data, { ...o, replicas: 2 });
    expect(model.isTraining).toBe(false);
    model.dispose();
  });
});

describe('huge epoch counts', () => {
  it('epochs = 2^31 − 1 with one batch per epoch starts at once (no per-epoch schedule scan) and cancels cleanly', async () => {
    const data = randomBinary(4 * V, 0.4, mulberry32(12));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 13 });
    let calls = 0;
    const run = model.train(data, {
      ...LEGACY_FIT_OPTIONS, epochs: 2147483647, batchSize: 4, binarize: 'none',
      learningRate: (e) => {
        calls++;
        return 0.01 / (1 + e);
      },
      onEpoch: (e) => {
        if (e.epoch === 2) run.cancel();
      },
    });
    const r = await run.result;
    expect(r.cancelled).toBe(true);
    expect(r.epochs.length).toBe(3);
    // The function schedule was called for the first PRECHECKED_EPOCHS epochs up front, and then per epoch.
    expect(calls).toBeLessThan(2000);
    model.dispose();
  });

  it('a function schedule that turns bad after the pre-checked epochs stops with a RangeError, keeping the completed epochs', async () => {
    const data = randomBinary(4 * V, 0.4, mulberry32(14));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 15 });
    const live = BufferOwner.live;
    let afterEpoch: Float32Array | undefined;
    const bad = 1003;
    const e = await rejection(
      model.fit(data, {
        ...LEGACY_FIT_OPTIONS, epochs: 1010, batchSize: 4, binarize: 'none', updatesPerSubmit: 1,
        learningRate: (ep) => (ep === bad ? Number.NaN : 0.05),
        onEpoch: async (s) => {
          if (s.epoch === bad - 1) afterEpoch = (await model.readParams()).W;
        },
      }),
    );
    expect(e).toBeInstanceOf(RangeError);
    expect((e as Error).message).toMatch(/learningRate at epoch 1003 must be a finite number/);
    expect(Array.from((await model.readParams()).W)).toEqual(Array.from(afterEpoch!));
    expect(model.isTraining).toBe(false);
    expect(BufferOwner.live).toBe(live);
    model.dispose();
  }, 120_000);

  it('epochs × batches past 2^32 − 1 RNG steps is refused up front, naming epochs', async () => {
    const data = randomBinary(12 * V, 0.4, mulberry32(16));
    const model = RBM.create(device, { visible: V, hidden: H, seed: 17 });
    const before = await model.readParams();
    const live = BufferOwner.live;
    await expect(model.fit(data, { epochs: 2147483647, batchSize: 4, binarize: 'none' })).rejects.toThrow(
      /epochs = 2147483647 is too many: 2147483647 epochs × 3 updates per epoch = 6442450941 RNG steps.*at most 1431655765 epochs/,
    );
    // PT: the tempered chains' counter moves sweepsPerUpdate times per update.
    await expect(fitPT(model, data, { epochs: 1431655765, batchSize: 4, binarize: 'none', sweepsPerUpdate: 3 })).rejects.toThrow(
      /epochs = 1431655765 is too many: 1431655765 epochs × 3 updates per epoch × 3 sweeps per update/,
    );
    expect(BufferOwner.live).toBe(live);
    expect(model.isTraining).toBe(false);
    expect(Array.from((await model.readParams()).W)).toEqual(Array.from(before.W));
    model.dispose();
  });
});
