// GpuContext: one per device, holding the pipeline cache (keyed by the code),
// buffer accounting, error scopes and loss watching (a fresh error per call).
import { describe, expect, it } from 'vitest';
import { BufferOwner, readBuffer } from '../../src/gpu/buffers';
import { GpuContext, GpuScopeError, PromiseCache } from '../../src/gpu/context';
import { getKernel, KERNELS, PIPELINE_CACHE } from '../../src/gpu/kernels';
import { assertDeviceAlive, DeviceLostError, raceLoss } from '../../src/gpu/lost';
import { GpuContext as PublicGpuContext } from '../../src/index';
import { freshDevice, testDevice } from '../helpers/device';

describe('GpuContext', () => {
  it('is one object per device, with its limits, features and adapter name', async () => {
    const device = await testDevice();
    const ctx = GpuContext.of(device);
    expect(GpuContext.of(device)).toBe(ctx);
    expect(ctx.device).toBe(device);
    expect(ctx.limits).toBe(device.limits);
    expect(ctx.features).toBe(device.features);
    // The test device came from acquireDevice, which names the adapter.
    expect(typeof ctx.adapterName).toBe('string');
    expect(PublicGpuContext).toBe(GpuContext);
    const other = await freshDevice();
    try {
      expect(GpuContext.of(other)).not.toBe(ctx);
    } finally {
      other.destroy();
    }
  });

  it('caches a pipeline per spec and code: the same spec hits, different code misses', async () => {
    const device = await testDevice();
    const ctx = GpuContext.of(device);
    const a = await getKernel(device, KERNELS.clamp());
    expect(await getKernel(device, KERNELS.clamp())).toBe(a);
    expect(await getKernel(ctx, KERNELS.clamp())).toBe(a);
    expect(ctx.cache(PIPELINE_CACHE).size).toBeGreaterThan(0);
    // Same name, entry point, constants and bindings; different code: its own pipeline.
    const spec = KERNELS.clamp();
    const variant = { ...spec, code: spec.code + '\n// a variant\n' };
    const b = await getKernel(device, variant);
    expect(b).not.toBe(a);
    expect(b.pipeline).not.toBe(a.pipeline);
    expect(b.spec.code).toBe(variant.code);
    expect(await getKernel(device, variant)).toBe(b);
  });

  it('counts the bytes BufferOwner allocates, up and down', async () => {
    const device = await testDevice();
    const ctx = GpuContext.of(device);
    const bytes0 = ctx.allocatedBytes;
    const buffers0 = ctx.allocatedBuffers;
    const owner = new BufferOwner(device, 'accounting');
    const s = owner.storage('s', 1000);
    expect(ctx.allocatedBytes).toBe(bytes0 + 1000);
    const u = owner.uniform('u', new ArrayBuffer(20)); // rounded up to 32
    expect(ctx.allocatedBytes).toBe(bytes0 + 1032);
    expect(ctx.allocatedBuffers).toBe(buffers0 + 2);
    expect(owner.liveBytes).toBe(1032);
    // An owner made from the context counts in the same place.
    const viaContext = new BufferOwner(ctx, 'accounting (context)');
    expect(viaContext.device).toBe(device);
    viaContext.storage('t', new Float32Array(3)); // 12 bytes: at least 16 allocated
    expect(ctx.allocatedBytes).toBe(bytes0 + 1048);
    expect(ctx.peakAllocatedBytes).toBeGreaterThanOrEqual(bytes0 + 1048);
    owner.release(s);
    expect(ctx.allocatedBytes).toBe(bytes0 + 48);
    owner.release(u);
    owner.release(u); // a second release changes nothing
    expect(ctx.allocatedBytes).toBe(bytes0 + 16);
    viaContext.dispose();
    owner.dispose();
    expect(ctx.allocatedBytes).toBe(bytes0);
    expect(ctx.allocatedBuffers).toBe(buffers0);
  });

  it('turns a GPU error inside an error scope into a GpuScopeError, and passes results through', async () => {
    const device = await testDevice();
    const ctx = GpuContext.of(device);
    expect(await ctx.withErrorScope('validation', () => 42)).toBe(42);
    // MAP_READ may only be combined with COPY_DST: a validation error.
    const bad = () => device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    const error = await ctx.withErrorScope('validation', bad, 'making a bad buffer').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GpuScopeError);
    expect((error as GpuScopeError).filter).toBe('validation');
    expect((error as GpuScopeError).message).toMatch(/^making a bad buffer raised a GPU validation error: /);
    const captured = await ctx.captureErrors('validation', bad);
    expect(captured.error).not.toBeNull();
    captured.value.destroy();
    // An exception from fn is rethrown, with the scope popped.
    await expect(ctx.withErrorScope('validation', () => {
      throw new Error('from fn');
    })).rejects.toThrow('from fn');
    expect(await ctx.withErrorScope('out-of-memory', () => 'ok')).toBe('ok');
  });

  it('hands out a fresh DeviceLostError per call, so a snapshot on one never reaches another', async () => {
    const device = await freshDevice();
    const ctx = GpuContext.of(device);
    expect(ctx.isLost).toBe(false);
    expect(ctx.lostError()).toBeUndefined();
    const owner = new BufferOwner(ctx, 'before the loss');
    owner.storage('x', 64);
    // A wait that never finishes on its own: only the loss ends it.
    const waiting = raceLoss(device, new Promise<never>(() => undefined));
    const whenLost = ctx.whenLost();
    device.destroy();
    const first = await waiting.then(() => undefined, (e: unknown) => e);
    expect(first).toBeInstanceOf(DeviceLostError);
    const fromWhenLost = await whenLost;
    expect(ctx.isLost).toBe(true);
    (first as DeviceLostError).snapshot = { epoch: 3, W: new Float32Array(1), b: new Float32Array(1), c: new Float32Array(1) };

    const errors: DeviceLostError[] = [fromWhenLost];
    const grab = (f: () => unknown): void => {
      try {
        f();
      } catch (e) {
        errors.push(e as DeviceLostError);
      }
    };
    grab(() => assertDeviceAlive(device));
    grab(() => ctx.assertAlive());
    grab(() => owner.storage('y', 64));
    errors.push((await raceLoss(device, Promise.resolve(1)).catch((e: unknown) => e)) as DeviceLostError);
    errors.push((await ctx.raceLoss(Promise.resolve(1)).catch((e: unknown) => e)) as DeviceLostError);
    errors.push((await readBuffer(device, device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC })).catch((e: unknown) => e)) as DeviceLostError);
    expect(errors).toHaveLength(7);
    for (const e of errors) {
      expect(e).toBeInstanceOf(DeviceLostError);
      expect(e).not.toBe(first);
      expect(e.reason).toBe((first as DeviceLostError).reason);
      expect(e.message).toBe((first as DeviceLostError).message);
      expect(e.snapshot).toBeUndefined();
    }
    expect(new Set(errors).size).toBe(errors.length);
    expect((first as DeviceLostError).message).toMatch(/GPU device was lost \(destroyed/);
    owner.dispose();
  });
});

describe('PromiseCache', () => {
  it('makes each key once and forgets a rejection', async () => {
    const cache = new PromiseCache<number>();
    let made = 0;
    const make = () => Promise.resolve(++made);
    expect(await cache.get('a', make)).toBe(1);
    expect(await cache.get('a', make)).toBe(1);
    await expect(cache.get('b', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await Promise.resolve();
    expect(cache.has('b')).toBe(false);
    expect(await cache.get('b', make)).toBe(2);
    expect(cache.keys()).toEqual(['a', 'b']);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
