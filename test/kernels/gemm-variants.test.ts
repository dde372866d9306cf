// Every GEMM variant sums k in the same order, so all of them — workgroup
// memory, direct loads, 4 or 8 columns per invocation, subgroup shuffles
// (including the fallback when a subgroup spans two workgroup rows) — must
// give bit-identical results. Runs in both projects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferOwner, packUniform, readFloat32 } from '../../src/gpu/buffers';
import { DEFAULT_TILE, KERNELS, tileCols, tileName, tileRows, type KernelSpec, type TileShape } from '../../src/gpu/kernels';
import { dispatchOnce } from '../helpers/dispatch';
import { packHyper } from '../../src/rbm/hyper';
import { testDevice, testRuntime } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';

const VARIANTS: TileShape[] = [
  DEFAULT_TILE,
  { wgCols: 16, wgRows: 8, threadRows: 8, vecCols: 2, tileK: 16, shared: true },
  { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false },
  { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false, subgroups: true },
  { wgCols: 32, wgRows: 2, threadRows: 5, tileK: 16, shared: false, subgroups: true },
  // 3 columns of invocations: subgroups span workgroup rows, lanes load their own A.
  { wgCols: 3, wgRows: 4, threadRows: 2, tileK: 16, shared: false, subgroups: true },
];

const SIZES: [V: number, H: number, B: number][] =
  testRuntime() === 'browser' ? [[65, 33, 17]] : [[65, 33, 17], [131, 70, 67], [784, 500, 100]];

let device: GPUDevice;
let owner: BufferOwner;

beforeAll(async () => {
  device = await testDevice();
  owner = new BufferOwner(device, 'gemm variants test');
});
afterAll(() => owner?.dispose());

const dispatch = (spec: KernelSpec, buffers: GPUBuffer[], x: number, y: number) => dispatchOnce(device, spec, buffers, x, y);

describe('GEMM variants', () => {
  it('the device has subgroups (Dawn/lavapipe and Chromium/SwiftShader both offer them)', async () => {
    const d = await testDevice();
    expect(d.features.has('subgroups'), 'adapter without the subgroups feature: subgroup tiles cannot be tested').toBe(true);
  });

  describe.each(SIZES)('V=%i H=%i B=%i', (V, H, B) => {
    const rand = mulberry32(V * 7 + H);
    const scale = 1.5 / Math.sqrt(V);
    const W = randomNormal(V * H, scale, rand);
    const vis = randomBinary(2 * B * V, 0.4, rand);
    const probs = new Float32Array(2 * B * H).map(() => rand());

    it('hidden probabilities are bit-identical across tile variants', async () => {
      const results = new Map<string, Float32Array>();
      for (const tile of VARIANTS) {
        const prob = owner.storage('prob', 2 * B * H * 4);
        const buffers = [
          owner.uniform('dims', packUniform([2 * B, 0, V, H, 0, 1])),
          owner.storage('counter', new Uint32Array(4)),
          owner.storage('vis', vis),
          owner.storage('W', W),
          owner.storage('c', new Float32Array(H).fill(-0.25)),
          prob,
          owner.storage('sample', 2 * B * H * 4),
        ];
        await dispatch(KERNELS.hidden(tile), buffers, Math.ceil(H / tileCols(tile)), Math.ceil((2 * B) / tileRows(tile)));
        results.set(tileName(tile), await readFloat32(device, prob, 2 * B * H));
      }
      const base = results.get(tileName(DEFAULT_TILE))!;
      expect(base.some((x) => x !== 0)).toBe(true);
      for (const [name, r] of results) {
        const differing = r.findIndex((x, i) => x !== base[i]);
        expect(differing, `${name} differs from the default tile at element ${differing}`).toBe(-1);
      }
    });

    it('weight updates are bit-identical across tile variants', async () => {
      const results = new Map<string, Float32Array>();
      for (const tile of VARIANTS) {
        const w = owner.storage('W', W);
        const buffers = [
          owner.uniform('dims', packUniform([V, H, 2 * B, B])),
          owner.uniform('hyper', packHyper({ learningRate: 0.1, momentum: 0.5, weightDecay: 1e-3 }, B)),
          owner.storage('vis', vis),
          owner.storage('hid_prob', probs),
          w,
          owner.storage('vel', V * H * 4),
        ];
        await dispatch(KERNELS.update(tile), buffers, Math.ceil(H / tileCols(tile)), Math.ceil(V / tileRows(tile)));
        results.set(tileName(tile), await readFloat32(device, w, V * H));
      }
      const base = results.get(tileName(DEFAULT_TILE))!;
      expect(base.some((x, i) => x !== W[i])).toBe(true);
      for (const [name, r] of results) {
        const differing = r.findIndex((x, i) => x !== base[i]);
        expect(differing, `${name} differs from the default tile at element ${differing}`).toBe(-1);
      }
    });
  });
});
