// The one runner: chunks cover the steps in order, at most `depth` chunks are
// queued, chunks settle in order (progress, checks), pause and cancellation
// act between chunks, and a lost device is an error, never a hang.
import { describe, expect, it } from 'vitest';
import { BufferOwner, readBuffer } from '../../src/gpu/buffers';
import { getKernel, KERNELS } from '../../src/gpu/kernels';
import { DeviceLostError } from '../../src/gpu/lost';
import { DispatchPlan } from '../../src/gpu/plan';
import { SubmitRunner } from '../../src/gpu/runner';
import { freshDevice, testDevice } from '../helpers/device';

interface Fake {
  device: GPUDevice;
  log: string[];
  /** Finishes every submitted command buffer (when not automatic). */
  finishAll(): void;
  lose(): void;
}

/** A device whose queue only logs: submitted work finishes at once, or when finishAll() is called. */
function fakeDevice(autoFinish = true): Fake {
  const log: string[] = [];
  let submits = 0;
  const waiting: Array<() => void> = [];
  let lose: (info: GPUDeviceLostInfo) => void = () => undefined;
  const lost = new Promise<GPUDeviceLostInfo>((resolve) => (lose = resolve));
  const device = {
    lost,
    createCommandEncoder: (d?: GPUCommandEncoderDescriptor) => ({ label: d?.label, finish: () => ({ label: d?.label }) }),
    queue: {
      submit: (buffers: Array<{ label?: string }>) => log.push(`submit ${submits++} ${buffers[0].label ?? ''}`.trim()),
      onSubmittedWorkDone: () => (autoFinish ? Promise.resolve() : new Promise<void>((r) => waiting.push(r))),
    },
  } as unknown as GPUDevice;
  return {
    device,
    log,
    finishAll: () => waiting.splice(0).forEach((r) => r()),
    lose: () => lose({ reason: 'destroyed', message: 'test' } as GPUDeviceLostInfo),
  };
}

describe('SubmitRunner', () => {
  it('covers the steps in chunks, keeps depth chunks queued and settles them in order', async () => {
    const f = fakeDevice();
    const runner = new SubmitRunner<string>(f.device, {
      depth: 2,
      settled: (c) => {
        f.log.push(`settled ${c.value} submitted=${c.submitted}`);
      },
    });
    const r = await runner.run({
      total: 10,
      chunk: 4,
      label: (first, n) => `steps ${first}+${n}`,
      encode: (_enc, first, n) => `[${first},${first + n})`,
    });
    expect(r).toEqual({ submitted: 10, cancelled: false });
    expect(f.log).toEqual([
      'submit 0 steps 0+4',
      'submit 1 steps 4+4',
      'settled [0,4) submitted=4',
      'submit 2 steps 8+2',
      'settled [4,8) submitted=8',
      'settled [8,10) submitted=10',
    ]);
    expect(runner.submitted).toBe(10);
    expect(runner.inFlight).toBe(0);
  });

  it('depth 1 waits for every chunk before the next; steps() leaves the tail to drain()', async () => {
    const f = fakeDevice();
    const runner = new SubmitRunner<number>(f.device, { depth: 1, settled: (c) => void f.log.push(`settled ${c.first}`) });
    await runner.steps({ total: 3, chunk: 1, encode: (_e, first) => first });
    expect(f.log).toEqual(['submit 0', 'settled 0', 'submit 1', 'settled 1', 'submit 2', 'settled 2']);
    const deep = new SubmitRunner<number>(f.device, { depth: 3, settled: (c) => void f.log.push(`late ${c.first}`) });
    f.log.length = 0;
    await deep.steps({ total: 2, chunk: 1, encode: (_e, first) => first });
    expect(f.log).toEqual(['submit 3', 'submit 4']);
    expect(deep.inFlight).toBe(2);
    await deep.drain();
    expect(f.log).toEqual(['submit 3', 'submit 4', 'late 0', 'late 1']);
  });

  it('a chunk function ends chunks on boundaries; submitted() runs right after each submit', async () => {
    const f = fakeDevice();
    const chunks: Array<[number, number]> = [];
    await new SubmitRunner<number>(f.device).run({
      total: 11,
      chunk: (done) => Math.min(3, 5 - (done % 5)), // keep every 5 steps, at most 3 per submit
      encode: (_e, first, n) => {
        chunks.push([first, n]);
        return first;
      },
      submitted: (first) => void f.log.push(`after ${first}`),
    });
    expect(chunks).toEqual([[0, 3], [3, 2], [5, 3], [8, 2], [10, 1]]);
    expect(f.log.filter((l) => l.startsWith('after'))).toEqual(['after 0', 'after 3', 'after 5', 'after 8', 'after 10']);
    expect(f.log.indexOf('after 3')).toBe(f.log.indexOf('submit 1') + 1);
  });

  it('cancellation (callback or AbortSignal) and the gate act between chunks', async () => {
    const f = fakeDevice();
    let stop = false;
    const runner = new SubmitRunner<number>(f.device, { settled: (c) => void (stop = c.submitted >= 4) });
    const r = await runner.run({ total: 100, chunk: 2, cancelled: () => stop, encode: () => 0 });
    // Settling lags one chunk behind at depth 2: the chunk queued behind the one that set the flag still runs.
    expect(r).toEqual({ submitted: 6, cancelled: true });

    const abort = new AbortController();
    let gates = 0;
    const r2 = await new SubmitRunner(f.device).run({
      total: 100,
      chunk: 5,
      signal: abort.signal,
      gate: async () => {
        if (++gates === 3) abort.abort();
      },
      encode: () => undefined,
    });
    expect(r2).toEqual({ submitted: 10, cancelled: true });
    expect(gates).toBe(3);
  });

  it('an error from settling stops the run; abandon() waits for what is queued and never throws', async () => {
    const f = fakeDevice(false);
    const runner = new SubmitRunner<number>(f.device, {
      settled: (c) => {
        if (c.first === 0) throw new Error('diverged');
      },
    });
    const run = runner.run({ total: 10, chunk: 1, encode: (_e, first) => first });
    await Promise.resolve();
    f.finishAll();
    await expect(run).rejects.toThrow('diverged');
    expect(runner.inFlight).toBe(1); // the chunk queued behind the failed one
    const abandoned = runner.abandon();
    f.finishAll();
    await abandoned;
    expect(runner.inFlight).toBe(0);
  });

  it('a device lost while a chunk runs rejects with DeviceLostError instead of hanging', async () => {
    const f = fakeDevice(false);
    const run = new SubmitRunner(f.device).run({ total: 10, chunk: 1, encode: () => undefined });
    await Promise.resolve();
    f.lose();
    await expect(run).rejects.toThrow(DeviceLostError);
    // And a run on a lost device fails before submitting anything.
    f.log.length = 0;
    await expect(new SubmitRunner(f.device).run({ total: 1, chunk: 1, encode: () => undefined })).rejects.toThrow(/device was lost \(destroyed: test\)/);
    expect(f.log).toEqual([]);
  });

  it('bad depth or chunk sizes are refused', async () => {
    const f = fakeDevice();
    expect(() => new SubmitRunner(f.device, { depth: 0 })).toThrow(/depth must be a positive integer, got 0/);
    await expect(new SubmitRunner(f.device).run({ total: 3, chunk: 0, encode: () => undefined })).rejects.toThrow(/chunk must be a positive integer, got 0/);
  });
});

describe('SubmitRunner on a GPU', () => {
  it('runs every step of a plan in order, in chunks', async () => {
    const device = await testDevice();
    const advance = await getKernel(device, KERNELS.advance());
    const owner = new BufferOwner(device, 'runner test');
    try {
      const counter = owner.storage('counter', new Uint32Array(4));
      const plan = new DispatchPlan(device);
      plan.add(advance, { counter }, { groups: [1] });
      const progress: number[] = [];
      await new SubmitRunner(device, { settled: (c) => void progress.push(c.submitted) }).run({
        total: 23,
        chunk: 5,
        encode: (encoder, _first, n) => {
          const pass = encoder.beginComputePass();
          plan.encode(pass, n);
          pass.end();
        },
      });
      expect(progress).toEqual([5, 10, 15, 20, 23]);
      expect(new Uint32Array(await readBuffer(device, counter, 4))[0]).toBe(23);
    } finally {
      owner.dispose();
    }
  });

  it('a destroyed device ends a run with DeviceLostError', async () => {
    const device = await freshDevice();
    const advance = await getKernel(device, KERNELS.advance());
    const owner = new BufferOwner(device, 'runner loss test');
    const counter = owner.storage('counter', new Uint32Array(4));
    const plan = new DispatchPlan(device);
    plan.add(advance, { counter }, { groups: [1] });
    const run = new SubmitRunner(device, {
      settled: (c) => {
        if (c.submitted === 2) device.destroy();
      },
    }).run({
      total: 1000,
      chunk: 1,
      encode: (encoder) => {
        const pass = encoder.beginComputePass();
        plan.encode(pass);
        pass.end();
      },
    });
    await expect(run).rejects.toThrow(DeviceLostError);
  });
});
