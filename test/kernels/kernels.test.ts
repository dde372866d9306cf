// Each kernel against the float64 CPU reference, on sizes that are not
// multiples of the tile. Runs in both projects (Dawn in Node, Chromium).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferOwner, readFloat32 } from '../../src/gpu/buffers';
import {
  BIAS_WORKGROUP_SIZE, DEFAULT_TILE, FREE_ENERGY_DIMS, HIDDEN_DIMS, KERNELS, packFields, SOFTPLUS_TERMS_DIMS, tileCols, tileRows,
  UPDATE_DIMS, VISIBLE_DIMS, VISIBLE_FLAGS, type Bindings, type BoundBuffers, type KernelSpec, type TileShape, type Uniforms,
} from '../../src/gpu/kernels';
import { dispatchOnce } from '../helpers/dispatch';
import { packHyper } from '../../src/rbm/trainer';
import { hiddenPass, visiblePass } from '../reference/reference';
import { freeEnergyBatch, softplus } from '../reference/exact';
import { testDevice, testRuntime } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';
import { expectSamplesMatch, maxRelError, uniformFor } from '../helpers/compare';

// Every GEMM variant must give the same (reference) answer.
const TILES: TileShape[] = [
  DEFAULT_TILE,
  { wgCols: 8, wgRows: 8, threadRows: 8, tileK: 8, shared: true },
  { wgCols: 16, wgRows: 4, threadRows: 8, tileK: 16, shared: false },
  { wgCols: 8, wgRows: 1, threadRows: 3, tileK: 16, shared: false },
  // Two vec4 column groups per invocation (8 columns), shared and direct.
  { wgCols: 8, wgRows: 4, threadRows: 3, vecCols: 2, tileK: 8, shared: true },
  { wgCols: 4, wgRows: 2, threadRows: 5, vecCols: 2, tileK: 16, shared: false },
  // A shared through subgroup shuffles.
  { wgCols: 8, wgRows: 2, threadRows: 3, vecCols: 2, tileK: 16, shared: false, subgroups: true },
];

type Size = [V: number, H: number, B: number];
const SIZES: Size[] =
  testRuntime() === 'browser'
    ? [[7, 5, 3], [65, 33, 17]]
    : [[7, 5, 3], [65, 33, 17], [131, 70, 67], [784, 500, 100]];

let device: GPUDevice;
let owner: BufferOwner;

beforeAll(async () => {
  device = await testDevice();
  owner = new BufferOwner(device, 'kernel test');
});
afterAll(() => owner?.dispose());

function model(V: number, H: number, seed: number) {
  const rand = mulberry32(seed);
  // Scale keeps pre-activations O(1) so probabilities span (0, 1).
  const scale = 1.5 / Math.sqrt(V * 0.5 + H * 0.5);
  return {
    W: randomNormal(V * H, scale, rand),
    b: randomNormal(V, 0.5, rand),
    c: randomNormal(H, 0.5, rand),
  };
}

const run = <B extends Bindings, U extends Uniforms>(spec: KernelSpec<B, U>, buffers: BoundBuffers<B>, x: number, y: number) =>
  dispatchOnce(device, spec, buffers, x, y);

const CASES = SIZES.flatMap((size, i) => [
  [...size, DEFAULT_TILE] as const,
  // Each non-default tile on one size, and all of them on the awkward 65×33×17.
  ...TILES.slice(1).filter((_, j) => i === 1 || j === i % (TILES.length - 1)).map((t) => [...size, t] as const),
]);

describe.each(CASES)('kernels at V=%i H=%i B=%i, tile %o', (V, H, B, tile) => {
  const TILE_M = tileRows(tile);
  const TILE_N = tileCols(tile);
  const seed = 0xc0ffee + V;
  const step = 5;
  const p = model(V, H, V * 31 + H);

  it('hidden: σ(V·W + c) and Bernoulli samples on rows [B, 2B) of a stacked buffer', async () => {
    const rand = mulberry32(11);
    const vis = randomBinary(2 * B * V, 0.4, rand);
    const phase = 2;
    const bufs = {
      dims: owner.uniform('dims', packFields(HIDDEN_DIMS, { rows: B, row_offset: B, n_in: V, n_out: H, phase, seed })),
      counter: owner.storage('counter', new Uint32Array([step, 0, 0, 0])),
      vis: owner.storage('vis', vis),
      W: owner.storage('W', p.W),
      c: owner.storage('c', p.c),
      hid_prob: owner.storage('prob', 2 * B * H * 4),
      hid_sample: owner.storage('sample', 2 * B * H * 4),
    };
    await run(KERNELS.hidden(tile), bufs, Math.ceil(H / TILE_N), Math.ceil(B / TILE_M));
    const gpuProb = await readFloat32(device, bufs.hid_prob, 2 * B * H);
    const gpuSample = await readFloat32(device, bufs.hid_sample, 2 * B * H);
    const cpuProb = new Float64Array(2 * B * H);
    const cpuSample = new Float64Array(2 * B * H);
    hiddenPass(V, H, p, vis, B, B, seed, step, phase, cpuProb, cpuSample);
    // Rows outside the dispatch stay untouched (zero).
    expect(gpuProb.subarray(0, B * H).every((x) => x === 0)).toBe(true);
    expect(maxRelError(gpuProb.subarray(B * H), cpuProb.subarray(B * H))).toBeLessThan(1e-5);
    const { compared } = expectSamplesMatch(gpuSample, cpuSample, cpuProb, uniformFor(seed, step, phase), B * H);
    expect(compared).toBeGreaterThan(B * H * 0.99);
    // The samples really are random: a fair share of ones.
    const ones = gpuSample.subarray(B * H).reduce((s, x) => s + x, 0);
    expect(ones).toBeGreaterThan(0);
    expect(ones).toBeLessThan(B * H);
  });

  it('visible: σ(H·Wᵀ + b) and samples, reading rows [0, B) and writing rows [B, 2B)', async () => {
    const rand = mulberry32(12);
    const hid = randomBinary(2 * B * H, 0.5, rand);
    const phase = 3;
    const bufs = {
      dims: owner.uniform(
        'dims',
        packFields(VISIBLE_DIMS, {
          rows: B, in_offset: 0, out_offset: B, n_in: H, n_out: V, phase, seed,
          flags: VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE,
        }),
      ),
      counter: owner.storage('counter', new Uint32Array([step, 0, 0, 0])),
      hid_sample: owner.storage('hid', hid),
      W: owner.storage('W', p.W),
      b: owner.storage('b', p.b),
      vis_prob: owner.storage('prob', 2 * B * V * 4),
      vis: owner.storage('vis', 2 * B * V * 4),
    };
    await run(KERNELS.visible(tile), bufs, Math.ceil(V / TILE_N), Math.ceil(B / TILE_M));
    const gpuProb = await readFloat32(device, bufs.vis_prob, 2 * B * V);
    const gpuVis = await readFloat32(device, bufs.vis, 2 * B * V);
    const cpuProb = new Float64Array(2 * B * V);
    const cpuVis = new Float64Array(2 * B * V);
    visiblePass(V, H, p, hid, B, 0, B, seed, step, phase, cpuProb, cpuVis);
    expect(maxRelError(gpuProb.subarray(B * V), cpuProb.subarray(B * V))).toBeLessThan(1e-5);
    expectSamplesMatch(gpuVis, cpuVis, cpuProb, uniformFor(seed, step, phase), B * V);
  });

  it('update: W and its velocity from [V0; Vk]ᵀ·[P0; −Pk] with lr, momentum, decay', async () => {
    const rand = mulberry32(13);
    const vis = randomBinary(2 * B * V, 0.5, rand);
    const hidProb = new Float32Array(2 * B * H).map(() => rand());
    const vel0 = randomNormal(V * H, 0.01, rand);
    const hyper = { lr: 0.05, mom: 0.5, wd: 2e-4 };
    const bufs = {
      dims: owner.uniform('dims', packFields(UPDATE_DIMS, { n_vis: V, n_hid: H, n_rows: 2 * B, neg_start: B })),
      hyper: owner.uniform('hyper', packHyper({ learningRate: hyper.lr, momentum: hyper.mom, weightDecay: hyper.wd }, B)),
      vis: owner.storage('vis', vis),
      hid_prob: owner.storage('hidProb', hidProb),
      W: owner.storage('W', p.W),
      vel: owner.storage('vel', vel0),
    };
    await run(KERNELS.update(tile), bufs, Math.ceil(H / TILE_N), Math.ceil(V / TILE_M));
    const W = await readFloat32(device, bufs.W, V * H);
    const vel = await readFloat32(device, bufs.vel, V * H);
    const refW = new Float64Array(V * H);
    const refVel = new Float64Array(V * H);
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < H; j++) {
        let g = 0;
        for (let r = 0; r < 2 * B; r++) g += (r < B ? 1 : -1) * vis[r * V + i] * hidProb[r * H + j];
        const e = i * H + j;
        refVel[e] = hyper.mom * vel0[e] + hyper.lr * (g / B - hyper.wd * p.W[e]);
        refW[e] = p.W[e] + refVel[e];
      }
    }
    // Velocities are differences of sums: compare on the scale of the batch sum.
    let worstVel = 0;
    for (let e = 0; e < V * H; e++) worstVel = Math.max(worstVel, Math.abs(vel[e] - refVel[e]));
    expect(worstVel).toBeLessThan(1e-6 * Math.max(1, hyper.lr * 2));
    expect(maxRelError(W, refW, 1e-3)).toBeLessThan(1e-5);
  });

  it('bias_update: column sums, momentum, and the RNG step counter', async () => {
    const rand = mulberry32(14);
    const vis = randomBinary(2 * B * V, 0.5, rand);
    const hidProb = new Float32Array(2 * B * H).map(() => rand());
    const hyper = { lr: 0.1, mom: 0.9, target: 0.2, cost: 0.05, decay: 0.8 };
    const bVel0 = randomNormal(V, 0.01, rand);
    const cVel0 = randomNormal(H, 0.01, rand);
    const bufs = {
      dims: owner.uniform('dims', packFields(UPDATE_DIMS, { n_vis: V, n_hid: H, n_rows: 2 * B, neg_start: B })),
      hyper: owner.uniform(
        'hyper',
        packHyper(
          { learningRate: hyper.lr, momentum: hyper.mom, weightDecay: 0.5, sparsityTarget: hyper.target, sparsityCost: hyper.cost, sparsityDecay: hyper.decay },
          B,
        ),
      ),
      vis: owner.storage('vis', vis),
      hid_prob: owner.storage('hidProb', hidProb),
      b: owner.storage('b', p.b),
      c: owner.storage('c', p.c),
      b_vel: owner.storage('bVel', bVel0),
      c_vel: owner.storage('cVel', cVel0),
      counter: owner.storage('counter', new Uint32Array([41, 6, 0, 0])),
      q: owner.storage('q', new Float32Array(H).fill(0.5)),
    };
    await run(KERNELS.biasUpdate(), bufs, Math.ceil((V + H) / BIAS_WORKGROUP_SIZE), 1);
    const b = await readFloat32(device, bufs.b, V);
    const c = await readFloat32(device, bufs.c, H);
    const counter = new Uint32Array((await readFloat32(device, bufs.counter, 4)).buffer);
    expect(counter[0]).toBe(42);
    expect(counter[1]).toBe(7);
    const refB = Array.from({ length: V }, (_, i) => {
      let g = 0;
      for (let r = 0; r < 2 * B; r++) g += (r < B ? 1 : -1) * vis[r * V + i];
      return p.b[i] + hyper.mom * bVel0[i] + (hyper.lr * g) / B;
    });
    const refC = Array.from({ length: H }, (_, j) => {
      let g = 0;
      let pos = 0;
      for (let r = 0; r < 2 * B; r++) g += (r < B ? 1 : -1) * hidProb[r * H + j];
      for (let r = 0; r < B; r++) pos += hidProb[r * H + j];
      // Sparsity pulls c towards the target through the running mean q.
      const q = hyper.decay * 0.5 + (1 - hyper.decay) * (pos / B);
      g += hyper.cost * (hyper.target - q) * B;
      return p.c[j] + hyper.mom * cVel0[j] + (hyper.lr * g) / B;
    });
    expect(maxRelError(b, refB, 1e-2)).toBeLessThan(1e-5);
    expect(maxRelError(c, refC, 1e-2)).toBeLessThan(1e-5);
  });

  it('softplus_terms + free_energy: F(v) = −bᵀv − Σ softplus(vᵀw_j + c_j), on rows [B, 2B)', async () => {
    const rand = mulberry32(15);
    const data = randomBinary(2 * B * V, 0.3, rand);
    const bufs = {
      data: owner.storage('data', data),
      W: owner.storage('W', p.W),
      b: owner.storage('b', p.b),
      c: owner.storage('c', p.c),
      terms: owner.storage('terms', B * H * 4),
      out: owner.storage('F', 2 * B * 4),
    };
    const tDims = owner.uniform('terms dims', packFields(SOFTPLUS_TERMS_DIMS, { rows: B, row_offset: B, n_vis: V, n_hid: H }));
    const termBindings = { dims: tDims, data: bufs.data, W: bufs.W, c: bufs.c, terms: bufs.terms };
    await run(KERNELS.softplusTerms(tile), termBindings, Math.ceil(H / TILE_N), Math.ceil(B / TILE_M));
    const terms = await readFloat32(device, bufs.terms, B * H);
    const refTerms = new Float64Array(B * H);
    for (let m = 0; m < B; m++) {
      for (let j = 0; j < H; j++) {
        let x = p.c[j];
        for (let i = 0; i < V; i++) x += data[(B + m) * V + i] * p.W[i * H + j];
        refTerms[m * H + j] = softplus(x);
      }
    }
    expect(maxRelError(terms, refTerms, 1e-3)).toBeLessThan(1e-5);
    const rDims = owner.uniform('reduce dims', packFields(FREE_ENERGY_DIMS, { rows: B, row_offset: B, n_vis: V, n_hid: H }));
    await run(KERNELS.freeEnergy(), { dims: rDims, data: bufs.data, terms: bufs.terms, b: bufs.b, out: bufs.out }, B, 1);
    const F = await readFloat32(device, bufs.out, 2 * B);
    const ref = freeEnergyBatch({ visible: V, hidden: H, ...p }, data.subarray(B * V), B);
    expect(F.subarray(0, B).every((x) => x === 0)).toBe(true);
    expect(maxRelError(F.subarray(B), ref, 1)).toBeLessThan(1e-5);
  });
});
