// Dispatch plans: grids from the kernel's own tile, one limit check with one
// message, and dispatches recorded in the order they were added.
import { describe, expect, it } from 'vitest';
import { BufferOwner, readBuffer } from '../../src/gpu/buffers';
import { DEFAULT_TILE, ELEMENT_WORKGROUP_SIZE, getKernel, KERNELS, tileCols, tileRows, type TileShape } from '../../src/gpu/kernels';
import { DispatchPlan, dispatchGrid, kernelTile } from '../../src/gpu/plan';
import { testDevice } from '../helpers/device';

const TILES: TileShape[] = [
  DEFAULT_TILE,
  { wgCols: 8, wgRows: 4, threadRows: 8, tileK: 16, shared: false },
  { wgCols: 16, wgRows: 8, threadRows: 2, vecCols: 2, tileK: 8, shared: true },
  { wgCols: 3, wgRows: 5, threadRows: 1, tileK: 4, shared: false },
];

/** A plan needs only the device's limits until something is bound. */
function limitsOnly(maxComputeWorkgroupsPerDimension: number): GPUDevice {
  return { limits: { maxComputeWorkgroupsPerDimension } } as unknown as GPUDevice;
}

describe('kernelTile and dispatchGrid', () => {
  it.each(TILES)('read the tile a GEMM kernel was compiled with (%o)', (t) => {
    for (const spec of [KERNELS.hidden(t), KERNELS.visible(t), KERNELS.update(t), KERNELS.temperedHidden(t), KERNELS.softplusTerms(t)]) {
      expect(kernelTile({ spec })).toEqual({ rows: tileRows(t), cols: tileCols(t) });
    }
    // The grid every engine computed by hand: ⌈cols / tileCols⌉ × ⌈rows / tileRows⌉.
    for (const [rows, cols] of [[1, 1], [5, 7], [13, 784], [1000, 3]]) {
      expect(dispatchGrid({ spec: KERNELS.hidden(t) }, { rows, cols }, 65535)).toEqual([
        Math.ceil(cols / tileCols(t)),
        Math.ceil(rows / tileRows(t)),
      ]);
    }
  });

  it('a kernel without a tile refuses { rows, cols }, naming itself', () => {
    expect(() => kernelTile({ spec: KERNELS.clamp() })).toThrow(/kernel clamp has no GEMM tile .*\{ elements \} or \{ groups \}/);
  });

  it('{ elements } spills from x into y past the limit, as elementGrid did', () => {
    const grid = (elements: number, max: number, workgroupSize?: number): [number, number] =>
      dispatchGrid({ spec: KERNELS.clamp() }, { elements, workgroupSize }, max);
    expect(grid(0, 100)).toEqual([1, 1]);
    expect(grid(1, 100)).toEqual([1, 1]);
    expect(grid(ELEMENT_WORKGROUP_SIZE, 100)).toEqual([1, 1]);
    expect(grid(ELEMENT_WORKGROUP_SIZE + 1, 100)).toEqual([2, 1]);
    expect(grid(100 * ELEMENT_WORKGROUP_SIZE + 1, 100)).toEqual([100, 2]);
    expect(grid(250, 100, 1)).toEqual([100, 3]);
    expect(grid(130, 100, 64)).toEqual([3, 1]);
  });

  it('{ groups } is taken as given, y defaulting to 1', () => {
    expect(dispatchGrid({ spec: KERNELS.advance() }, { groups: [7] }, 10)).toEqual([7, 1]);
    expect(dispatchGrid({ spec: KERNELS.advance() }, { groups: [2, 3] }, 10)).toEqual([2, 3]);
  });
});

describe('the limit check', () => {
  it('names the kernel, the workgroups it needs, the limit and the hint', () => {
    const plan = new DispatchPlan(limitsOnly(100), { hint: 'use fewer runs' });
    const spec = KERNELS.hidden(DEFAULT_TILE); // 64 rows × 64 columns per workgroup
    expect(plan.grid({ spec }, { rows: 6400, cols: 64 })).toEqual([1, 100]);
    expect(() => plan.grid({ spec }, { rows: 6401, cols: 64 })).toThrow(
      /^kernel hidden needs 101 workgroups in one dimension but this device's maxComputeWorkgroupsPerDimension is 100 \(grid 1 × 101 for a 6401 × 64 output\); use fewer runs\.$/,
    );
    expect(() => plan.grid({ spec }, { rows: 1, cols: 64 * 200 })).toThrow(/needs 200 workgroups in one dimension .* is 100/);
    expect(() => new DispatchPlan(limitsOnly(4)).grid({ spec: KERNELS.advance() }, { groups: [5, 1] })).toThrow(
      /^kernel advance needs 5 workgroups in one dimension but this device's maxComputeWorkgroupsPerDimension is 4 \(grid 5 × 1\)\.$/,
    );
    // Spilled element grids only fail when even y is over.
    expect(new DispatchPlan(limitsOnly(4)).grid({ spec: KERNELS.clamp() }, { elements: 16 * 256 })).toEqual([4, 4]);
    expect(() => new DispatchPlan(limitsOnly(4)).grid({ spec: KERNELS.clamp() }, { elements: 16 * 256 + 1 })).toThrow(
      /kernel clamp needs 5 workgroups .* for 4097 elements/,
    );
  });

  it('refuses empty or fractional grids', () => {
    const plan = new DispatchPlan(limitsOnly(100));
    expect(() => plan.grid({ spec: KERNELS.advance() }, { groups: [0] })).toThrow(/kernel advance: .*positive whole number of workgroups in x, got 0/);
    expect(() => plan.grid({ spec: KERNELS.advance() }, { groups: [1, 1.5] })).toThrow(/in y, got 1.5/);
    expect(() => plan.grid({ spec: KERNELS.hidden() }, { rows: 0, cols: 3 })).toThrow(/in y, got 0/);
  });
});

describe('recording', () => {
  it('encode records every dispatch in the order added, as often as asked', async () => {
    const device = await testDevice();
    const [advance, clamp] = await Promise.all([getKernel(device, KERNELS.advance()), getKernel(device, KERNELS.clamp())]);
    const owner = new BufferOwner(device, 'plan test');
    try {
      const counter = owner.storage('counter', new Uint32Array(4));
      const n = 3 * ELEMENT_WORKGROUP_SIZE + 5;
      const dims = owner.uniform('dims', clamp.pack('dims', { count: n }));
      const mask = owner.storage('mask', new Float32Array(n).fill(1));
      const values = owner.storage('values', Float32Array.from({ length: n }, (_, e) => e));
      const vis = owner.storage('vis', n * 4);
      const visProb = owner.storage('vis_prob', n * 4);
      const plan = new DispatchPlan(device);
      const a = plan.add(advance, { counter }, { groups: [1] });
      const c = plan.add(clamp, { dims, mask, values, vis, vis_prob: visProb }, { elements: n });
      expect(plan.dispatches).toEqual([a, c]);
      expect([c.x, c.y]).toEqual([4, 1]);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      plan.encode(pass, 3);
      a.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      expect(new Uint32Array(await readBuffer(device, counter, 4))[0]).toBe(4);
      expect(Array.from(new Float32Array(await readBuffer(device, vis, n * 4)))).toEqual(Array.from({ length: n }, (_, e) => e));
      // A bad binding name fails at add, naming the kernel.
      expect(() => plan.add(advance, { count: counter } as never, { groups: [1] })).toThrow(/kernel advance bind: missing counter; unknown count/);
    } finally {
      owner.dispose();
    }
  });
});
