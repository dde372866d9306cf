// Every GEMM variant sums k in the same order, so all of them — workgroup
// memory, direct loads, 4 or 8 columns per invocation, subgroup shuffles
// (including the fallback when a subgroup spans two workgroup rows) — must
// give bit-identical results. Runs in both projects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferOwner, readFloat32 } from '../../src/gpu/buffers';
import {
  DEFAULT_TILE, HIDDEN_DIMS, KERNELS, packFields, tileCols, tileName, tileRows, UPDATE_DIMS,
  type Bindings, type BoundBuffers, type KernelSpec, type TileShape, type Uniforms,
} from '../../src/gpu/kernels';
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

const dispatch = <B extends Bindings, U extends Uniforms>(spec: KernelSpec<B, U>, buffers: BoundBuffers<B>, x: number, y: number) =>
  dispatchOnce(device, spec, buffers, x, y);

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
        const buffers = {
          dims: owner.uniform('dims', packFields(HIDDEN_DIMS, { rows: 2 * B, row_offset: 0, n_in: V, n_out: H, phase: 0, seed: 1 })),
          counter: owner.storage('counter', new Uint32Array(4)),
          vis: owner.storage('vis', vis),
          W: owner.storage('W', W),
          c: owner.storage('c', new Float32Array(H).fill(-0.25)),
          hid_prob: prob,
          hid_sample: owner.storage('sample', 2 * B * H * 4),
        };
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
        const buffers = {
          dims: owner.uniform('dims', packFields(UPDATE_DIMS, { n_vis: V, n_hid: H, n_rows: 2 * B, neg_start: B })),
          hyper: owner.uniform('hyper', packHyper({ learningRate: 0.1, momentum: 0.5, weightDecay: 1e-3 }, B)),
          vis: owner.storage('vis', vis),
          hid_prob: owner.storage('hid_prob', probs),
          W: w,
          vel: owner.storage('vel', V * H * 4),
        };
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
