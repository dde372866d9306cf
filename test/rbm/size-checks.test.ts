// Derived sizes are checked before anything is allocated or any random number
// drawn: sampling, tempering, AIS and the mean-field maps refuse sizes the
// device (per-buffer limit) or the host memory budget cannot hold, with an
// error that names the options to lower and carries the sizes for a CLI.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { parallelTempering, TemperedChains } from '../../src/rbm/tempering';
import { sample } from '../../src/rbm/sampler';
import { ais, reverseAis } from '../../src/rbm/ais';
import {
  BufferOwner, checkHostFactors, checkStorageFactors, describeSizeLimit, DeviceLimitError, formatBytes, HostMemoryError,
  hostMemoryBudget, setHostMemoryBudget, storageLimit,
} from '../../src/gpu/buffers';
import { testDevice } from '../helpers/device';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

const defaultBudget = hostMemoryBudget();
afterEach(() => setHostMemoryBudget(defaultBudget));

/** Runs `f`, expecting a size error of `type` thrown before any GPU buffer was made. */
async function expectSizeError<T extends Error>(type: new (...a: never[]) => T, f: () => Promise<unknown>): Promise<T> {
  const before = BufferOwner.live;
  const e = await f().then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(type);
  expect(BufferOwner.live).toBe(before);
  return e as T;
}

describe('size helpers', () => {
  it('formats bytes and names the options to lower (or raise)', () => {
    expect(formatBytes(627_200_000)).toBe('627 MB');
    expect(formatBytes(134_217_728)).toBe('134 MB');
    expect(formatBytes(512)).toBe('512 bytes');
    const text = describeSizeLimit(
      {
        kind: 'gpu', label: 'kept samples', bytes: 627_200_000, limit: 134_217_728,
        factors: [{ value: 50, what: 'kept steps', option: 'keepEvery', raise: true }, { value: 20000, option: 'chains' }, { value: 784, what: 'visible units' }],
      },
      (o) => `--${o}`,
    );
    expect(text).toBe(
      '50 kept steps × --chains 20000 × 784 visible units needs 627 MB of GPU storage (kept samples) but this device allows 134 MB per buffer; ' +
        'raise --keepEvery or lower --chains',
    );
  });

  it('checkStorageFactors and checkHostFactors throw with the sizes attached', () => {
    const limit = storageLimit(device).bytes;
    expect(() => checkStorageFactors(device, 'x', [{ value: Math.floor(limit / 4) }])).not.toThrow();
    try {
      checkStorageFactors(device, 'x', [{ value: Math.floor(limit / 4) + 1, option: 'rows' }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DeviceLimitError);
      expect((e as DeviceLimitError).size).toMatchObject({ kind: 'gpu', limit, factors: [{ option: 'rows' }] });
      expect((e as Error).message).toMatch(/lower rows/);
    }
    setHostMemoryBudget(1000);
    expect(() => checkHostFactors('y', [{ value: 250 }])).not.toThrow();
    expect(() => checkHostFactors('y', [{ value: 251, option: 'chains' }])).toThrow(HostMemoryError);
    expect(() => setHostMemoryBudget(0)).toThrow(RangeError);
  });
});

describe('library entry points check sizes first', () => {
  it('parallelTempering: replicas × chains × V over the device limit fails before noise or buffers', async () => {
    const model = RBM.create(device, { visible: 784, hidden: 8, seed: 1 });
    try {
      // 1000 × 20000 × 784 × 4 bytes = 62.7 GB: over every device's per-buffer limit.
      const e = await expectSizeError(DeviceLimitError, () => parallelTempering(model, { chains: 20000, replicas: 1000, steps: 10 }));
      expect(e.message).toMatch(/^chains 20000 × replicas 1000 × 784 visible units needs 62\.7 GB of GPU storage .*lower chains or replicas/);
      expect(e.size?.factors.map((f) => f.option)).toEqual(['chains', 'replicas', undefined]);
      await expectSizeError(DeviceLimitError, () => TemperedChains.create(model, { chains: 20000, replicas: 1000 }));
    } finally {
      model.dispose();
    }
  });

  it('sample: kept steps × chains × V is checked before the chains are made', async () => {
    const model = RBM.create(device, { visible: 1000, hidden: 4, seed: 1 });
    try {
      const limit = storageLimit(device).bytes;
      // Enough kept steps to pass the per-buffer limit by one step.
      const kept = Math.floor(limit / (10 * 1000 * 4)) + 1;
      const e = await expectSizeError(DeviceLimitError, () => sample(model, { chains: 10, steps: kept, keepEvery: 1 }));
      expect(e.message).toMatch(/kept steps × chains 10 × 1000 visible units needs .* \(kept samples\).*raise keepEvery or lower chains/);
      // The host budget: two readback arrays of kept × chains × V float32.
      setHostMemoryBudget(2 * 100 * 10 * 1000 * 4 - 1);
      const h = await expectSizeError(HostMemoryError, () => model.sample({ chains: 10, steps: 100, keepEvery: 1 }));
      expect(h.message).toMatch(/2 arrays × 100 kept steps × chains 10 × 1000 visible units needs 8 MB of host memory/);
    } finally {
      model.dispose();
    }
  });

  it('createChains: chains × V over the device limit fails before the noise is drawn', async () => {
    const model = RBM.create(device, { visible: 1000, hidden: 4, seed: 1 });
    try {
      const chains = Math.floor(storageLimit(device).bytes / 4000) + 1;
      const e = await expectSizeError(DeviceLimitError, () => model.createChains({ chains }));
      expect(e.message).toMatch(new RegExp(`^chains ${chains} × 1000 visible units needs .*lower chains`));
    } finally {
      model.dispose();
    }
  });

  it('ais / reverseAis: runs × V and the β schedule are checked before anything is made', async () => {
    const model = RBM.create(device, { visible: 1000, hidden: 4, seed: 1 });
    const data = new Float32Array(2 * 1000).fill(1);
    try {
      const runs = Math.floor(storageLimit(device).bytes / 4000) + 1;
      const e = await expectSizeError(DeviceLimitError, () => ais(model, { data, runs, betas: 10 }));
      expect(e.message).toMatch(new RegExp(`^runs ${runs} × 1000 visible units .*lower runs`));
      const betas = Math.floor(storageLimit(device).bytes / 4) + 1;
      const s = await expectSizeError(DeviceLimitError, () => ais(model, { data, runs: 2, betas }));
      expect(s.message).toMatch(new RegExp(`^betas ${betas} needs .*\\(AIS schedule\\).*lower betas`));
      await expectSizeError(DeviceLimitError, () => reverseAis(model, { data, runs, betas: 10 }));
      setHostMemoryBudget(1000);
      await expectSizeError(HostMemoryError, () => reverseAis(model, { data, runs: 100, betas: 10 }));
    } finally {
      model.dispose();
    }
  });

  it('transform / reconstruct: rows × units over the host budget fail before any GPU work', async () => {
    const model = RBM.create(device, { visible: 10, hidden: 4, seed: 1 });
    try {
      setHostMemoryBudget(100);
      const e = await expectSizeError(HostMemoryError, () => model.reconstruct(new Float32Array(10 * 10)));
      expect(e.message).toMatch(/10 rows of data × 14 visible \+ hidden units needs 560 bytes of host memory/);
    } finally {
      model.dispose();
    }
  });
});
