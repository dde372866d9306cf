// Compact data on the GPU (src/rbm/dataset.ts, shaders/gather.wgsl): 8-bit and
// 1-bit storage gather exactly the float32 values of the float32 path, in every
// binarization mode; sharded data sets gather exactly what unsharded ones do;
// the host-side tables and header constants agree with the shader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferOwner, DeviceLimitError, readFloat32, writeArray } from '../../src/gpu/buffers';
import { elementGrid, GATHER_DIMS, getKernel, KERNELS, packFields } from '../../src/gpu/kernels';
import {
  FORMAT_CODE, GpuDataset, SHARD_FLAGS, SHARD_HEADER, standardizeInGather, type BinarizeMode, type DatasetUploadOptions,
} from '../../src/rbm/dataset';
import { byteColumnStats, sourceRows, U8_VALUES, type DataSource } from '../../src/data/source';
import { standardize } from '../../src/data/standardize';
import { RBM } from '../../src/rbm/model';
import type { FitOptions } from '../../src/rbm/fit';
import { shuffledPermutation } from '../../src/data/split';
import { uniform01 } from '../../src/host/philox';
import { BINARIZE_PHASE } from '../../src/host/rng-streams';
import { testDevice, takeGPUErrors } from '../helpers/device';
import { mulberry32 } from '../helpers/random';

let device: GPUDevice;
let owner: BufferOwner;
beforeAll(async () => {
  device = await testDevice();
  owner = new BufferOwner(device, 'compact test');
});
afterAll(() => owner?.dispose());

const MODE_CODE: Record<BinarizeMode, number> = { none: 0, threshold: 1, stochastic: 2 };

interface GatherRun {
  mode: BinarizeMode;
  batch: number;
  /** The batch cursor: the gather reads perm[cursor · batch …]. */
  cursor: number;
  seed: number;
  epoch: number;
  threshold: number;
}

/**
 * Drives the gather kernel as the trainer does: one bind group and dispatch per
 * shard, the same dims, counter and perm. Returns the batch rows [B, V].
 */
async function gather(ds: GpuDataset, perm: Uint32Array, r: GatherRun, shardOrder?: number[]): Promise<Float32Array> {
  const kernel = await getKernel(device, KERNELS.gather());
  const V = ds.dim;
  const dims = owner.uniform('dims', packFields(GATHER_DIMS, {
    batch: r.batch, n_vis: V, mode: MODE_CODE[r.mode], seed: r.seed, epoch: r.epoch, threshold: r.threshold,
  }));
  const counter = owner.storage('counter', new Uint32Array([0, r.cursor, 0, 0]));
  const vis = owner.storage('vis', 2 * r.batch * V * 4);
  // Poison the batch rows so a row no dispatch writes shows up.
  writeArray(device, vis, 0, new Float32Array(r.batch * V).fill(Number.NaN));
  ds.setPermutation(perm);
  const buffers = ds.gatherData();
  const order = shardOrder ?? buffers.map((_, i) => i);
  const [x, y] = elementGrid(device, r.batch * V);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const s of order) kernel.dispatch(pass, kernel.bind({ dims, counter, perm: ds.perm, data: buffers[s], vis }), x, y);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const out = await readFloat32(device, vis, r.batch * V);
  for (const b of [dims, counter, vis]) owner.release(b);
  expect(await takeGPUErrors()).toEqual([]);
  return out;
}

/** The batch the host computes from float32 values: the contract of gather.wgsl. */
function hostBatch(values: Float32Array, V: number, perm: Uint32Array, r: GatherRun): Float32Array {
  const out = new Float32Array(r.batch * V);
  for (let row = 0; row < r.batch; row++) {
    const src = perm[r.cursor * r.batch + row];
    for (let i = 0; i < V; i++) {
      const x = values[src * V + i];
      out[row * V + i] =
        r.mode === 'none' ? x
        : r.mode === 'threshold' ? (x > Math.fround(r.threshold) ? 1 : 0)
        : uniform01(r.seed, r.epoch, src * V + i, BINARIZE_PHASE) < x ? 1 : 0;
    }
  }
  return out;
}

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const expectSameBits = (got: Float32Array, want: Float32Array): void => {
  expect(got.length).toBe(want.length);
  expect(Array.from(bitsOf(got))).toEqual(Array.from(bitsOf(want)));
};

function randomBytes(n: number, seed: number, values?: number[]): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => (values ? values[Math.floor(rand() * values.length)] : Math.floor(rand() * 256)));
}

/** Float32 values of bytes as the host computes them: Math.fround(b / 255). */
const floatsOf = (bytes: Uint8Array): Float32Array => Float32Array.from(bytes, (b) => Math.fround(b / 255));

async function upload(source: DataSource, V: number, o: DatasetUploadOptions = {}): Promise<GpuDataset> {
  return GpuDataset.upload(device, source, V, o);
}

// Odd sizes: with V = 13 a u8 row starts at byte 13·r (mid-word), a 'bits' row at bit 13·r.
const V = 13;
const N = 23;
const B = 5;

describe('the shader and the host agree on the constants', () => {
  const code = KERNELS.gather().code;

  it('U8_BITS[b] is the float32 bits of Math.fround(b / 255), for every byte', () => {
    const m = /const\s+U8_BITS\s*=\s*array<u32,\s*256>\(([^)]*)\)/.exec(code);
    expect(m).not.toBeNull();
    const words = (m as RegExpExecArray)[1].split(',').map((s) => s.trim()).filter(Boolean).map((s) => Number(s.replace(/u$/, '')));
    expect(words).toHaveLength(256);
    const want = new Float32Array(256).map((_, b) => Math.fround(b / 255));
    expect(words).toEqual(Array.from(bitsOf(want)));
    expect(Array.from(bitsOf(U8_VALUES))).toEqual(Array.from(bitsOf(want)));
  });

  it('the shard header, format codes and flags are those of gather.wgsl', () => {
    const constant = (name: string): number => {
      const m = new RegExp(`const\\s+${name}\\s*:\\s*u32\\s*=\\s*(\\w+)u;`).exec(code);
      if (!m) throw new Error(`${name} not found`);
      return Number(m[1]);
    };
    expect(constant('HEADER_WORDS')).toBe(SHARD_HEADER.words);
    const fields = { H_FORMAT: 'format', H_FIRST_ROW: 'firstRow', H_ROWS: 'rows', H_N_VIS: 'nVis', H_PAYLOAD: 'payload', H_FLAGS: 'flags', H_STATS: 'stats' } as const;
    for (const [wgsl, host] of Object.entries(fields)) expect(constant(wgsl), wgsl).toBe(SHARD_HEADER[host]);
    expect(constant('FORMAT_F32')).toBe(FORMAT_CODE.f32);
    expect(constant('FORMAT_U8')).toBe(FORMAT_CODE.u8);
    expect(constant('FORMAT_BITS')).toBe(FORMAT_CODE.bits);
    expect(constant('FLAG_STANDARDIZE')).toBe(SHARD_FLAGS.standardize);
  });
});

describe('u8 data gathers exactly the float32 values fround(byte / 255)', () => {
  const perm = shuffledPermutation(N, 3, 1);
  // Every byte value, then random ones.
  const bytes = new Uint8Array(N * V);
  for (let e = 0; e < bytes.length; e++) bytes[e] = e < 256 ? e : randomBytes(1, e)[0];
  const floats = floatsOf(bytes);

  const runs: Array<[string, GatherRun]> = [
    ['stochastic', { mode: 'stochastic', batch: B, cursor: 2, seed: 0xdeadbeef, epoch: 7, threshold: 0.5 }],
    ['stochastic, another cursor and epoch', { mode: 'stochastic', batch: B, cursor: 0, seed: 1, epoch: 0, threshold: 0.5 }],
    ['threshold 0.5', { mode: 'threshold', batch: B, cursor: 3, seed: 1, epoch: 0, threshold: 0.5 }],
    // A threshold equal to a byte's value: strictly greater means that byte maps to 0.
    ['threshold fround(128/255)', { mode: 'threshold', batch: B, cursor: 1, seed: 1, epoch: 0, threshold: Math.fround(128 / 255) }],
    ['none (real values, Gaussian units)', { mode: 'none', batch: B, cursor: 3, seed: 1, epoch: 0, threshold: 0.5 }],
  ];

  it.each(runs)('%s: u8 storage = f32 storage = the host', async (_, run) => {
    const u8 = await upload({ format: 'u8', bytes }, V, { realValued: run.mode === 'none' });
    const f32 = await upload(floats, V, { realValued: run.mode === 'none' });
    expect(u8.format).toBe('u8');
    expect(f32.format).toBe('f32');
    const want = hostBatch(floats, V, perm, run);
    expectSameBits(await gather(u8, perm, run), want);
    expectSameBits(await gather(f32, perm, run), want);
    u8.dispose();
    f32.dispose();
  });

  it('stochastic binarization is Bernoulli(byte / 255) over all 256 byte values (each drawn 400 times)', async () => {
    const rows = 400;
    const W = 256;
    const all = new Uint8Array(rows * W);
    for (let r = 0; r < rows; r++) for (let b = 0; b < W; b++) all[r * W + b] = b;
    const ds = await upload({ format: 'u8', bytes: all }, W);
    const ident = Uint32Array.from({ length: rows }, (_, i) => i);
    const run: GatherRun = { mode: 'stochastic', batch: rows, cursor: 0, seed: 11, epoch: 2, threshold: 0.5 };
    const got = await gather(ds, ident, run);
    expectSameBits(got, hostBatch(floatsOf(all), W, ident, run));
    for (const b of [0, 1, 64, 128, 200, 254, 255]) {
      let ones = 0;
      for (let r = 0; r < rows; r++) ones += got[r * W + b];
      const p = b / 255;
      expect(Math.abs(ones / rows - p), `byte ${b}`).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / rows) + 1e-9);
    }
    ds.dispose();
  });
});

describe('binary data at 1 bit per value', () => {
  const perm = shuffledPermutation(N, 5, 2);
  const zeroOne = Float32Array.from(randomBytes(N * V, 9, [0, 1]));

  it.each(['none', 'threshold', 'stochastic'] as const)('a 0/1 Float32Array is stored as bits and gathers the same bits (%s)', async (mode) => {
    const run: GatherRun = { mode, batch: B, cursor: 1, seed: 4, epoch: 3, threshold: 0.5 };
    const ds = await upload(zeroOne, V, { requireBinary: mode === 'none' });
    expect(ds.format).toBe('bits');
    // 23 rows × 13 values = 299 bits: 10 words after the 8-word header.
    expect(ds.shards[0].bytes).toBe(4 * (8 + 10));
    expectSameBits(await gather(ds, perm, run), hostBatch(zeroOne, V, perm, run));
    ds.dispose();
  });

  it("{ format: 'bits' } bytes and u8 0/255 bytes gather what the f32 0/1 data does (mode none)", async () => {
    const run: GatherRun = { mode: 'none', batch: B, cursor: 3, seed: 4, epoch: 3, threshold: 0.5 };
    const want = hostBatch(zeroOne, V, perm, run);
    const bits = await upload({ format: 'bits', bytes: Uint8Array.from(zeroOne) }, V, { requireBinary: true });
    const u8 = await upload({ format: 'u8', bytes: Uint8Array.from(zeroOne, (x) => 255 * x) }, V, { requireBinary: true });
    expect([bits.format, u8.format]).toEqual(['bits', 'bits']);
    expectSameBits(await gather(bits, perm, run), want);
    expectSameBits(await gather(u8, perm, run), want);
    bits.dispose();
    u8.dispose();
  });

  it('keeps float32 storage for −0 (its sign bit reaches the batch in mode none)', async () => {
    const withNegZero = zeroOne.slice();
    withNegZero[5] = -0;
    const ds = await upload(withNegZero, V);
    expect(ds.format).toBe('f32');
    ds.dispose();
  });
});

describe('sharding: shards of whole rows gather exactly what one buffer does', () => {
  const N2 = 41;
  const perm = shuffledPermutation(N2, 8, 5);
  const bytes = randomBytes(N2 * V, 21);
  const floats = floatsOf(bytes);
  const zeroOne = Float32Array.from(randomBytes(N2 * V, 22, [0, 1]));
  const cases: Array<[string, DataSource, BinarizeMode, number]> = [
    ['u8, stochastic', { format: 'u8', bytes }, 'stochastic', 70],
    ['u8, threshold', { format: 'u8', bytes }, 'threshold', 100],
    ['f32, stochastic', floats, 'stochastic', 300],
    ['f32, none (real values)', floats, 'none', 200],
    ['bits, none', zeroOne, 'none', 40],
  ];

  it.each(cases)('%s', async (_, source, mode, maxShardBytes) => {
    const o = { realValued: mode === 'none' && source === floats, requireBinary: mode === 'none' && source === zeroOne };
    const whole = await upload(source, V, o);
    const sharded = await upload(source, V, { ...o, maxShardBytes });
    expect(whole.shards).toHaveLength(1);
    expect(sharded.shards.length).toBeGreaterThanOrEqual(3);
    // Whole rows, in order, covering every row once, each buffer within the limit.
    let next = 0;
    for (const s of sharded.shards) {
      expect(s.firstRow).toBe(next);
      expect(s.bytes).toBeLessThanOrEqual(maxShardBytes);
      next += s.rows;
    }
    expect(next).toBe(N2);
    expect(() => sharded.data).toThrow(/split over \d+ buffers/);
    const values = sourceRows(source, V);
    // Batches 0..7 cover rows from every shard; the dispatch order of the shards does not matter.
    for (const cursor of [0, 3, 7]) {
      const run: GatherRun = { mode, batch: B, cursor, seed: 99, epoch: 4, threshold: 0.4 };
      const want = hostBatch(values, V, perm, run);
      expectSameBits(await gather(whole, perm, run), want);
      expectSameBits(await gather(sharded, perm, run), want);
      expectSameBits(await gather(sharded, perm, run, sharded.shards.map((_s, i) => i).reverse()), want);
    }
    whole.dispose();
    sharded.dispose();
  });

  it("splits by the device's own maxStorageBufferBindingSize (a device reporting a tiny limit)", async () => {
    const limits = new Proxy(device.limits, {
      get: (t, k) => (k === 'maxStorageBufferBindingSize' ? 200 : (Reflect.get(t, k) as unknown)),
    });
    const small = new Proxy(device, {
      get: (t, k) => (k === 'limits' ? limits : typeof Reflect.get(t, k) === 'function' ? (Reflect.get(t, k) as (...a: unknown[]) => unknown).bind(t) : Reflect.get(t, k)),
    });
    const ds = GpuDataset.upload(small, { format: 'u8', bytes }, V);
    // 200 bytes = 50 words: an 8-word header and 42 words = 168 bytes = 12 rows of 13, so 4 shards of 11 or 10 rows.
    expect(ds.shards.map((s) => s.rows)).toEqual([11, 11, 11, 8]);
    expect(ds.shards.every((s) => s.bytes <= 200)).toBe(true);
    const run: GatherRun = { mode: 'stochastic', batch: B, cursor: 6, seed: 2, epoch: 1, threshold: 0.5 };
    expectSameBits(await gather(ds, perm, run), hostBatch(floats, V, perm, run));
    ds.dispose();
  });
});

describe('Gaussian units on 8-bit images: standardised in the gather', () => {
  it('gathers fround(fround(x − mean) · fround(1/std)), within 2 ulp of standardize()', async () => {
    const perm = shuffledPermutation(N, 6, 0);
    const bytes = randomBytes(N * V, 31);
    const floats = floatsOf(bytes);
    const stats = byteColumnStats(bytes, V);
    const host = standardize(floats, V);
    // The same statistics as standardize(), bit for bit, without a float32 copy.
    expect(Array.from(stats.mean)).toEqual(Array.from(host.mean));
    expect(Array.from(stats.std)).toEqual(Array.from(host.std));
    for (const maxShardBytes of [undefined, 200]) {
      const ds = await upload({ format: 'u8', bytes }, V, { realValued: true, standardize: stats, maxShardBytes });
      expect(ds.format).toBe('u8');
      const run: GatherRun = { mode: 'none', batch: B, cursor: 2, seed: 1, epoch: 0, threshold: 0.5 };
      const got = await gather(ds, perm, run);
      const exact = new Float32Array(B * V);
      for (let r = 0; r < B; r++) {
        for (let i = 0; i < V; i++) {
          const src = perm[2 * B + r];
          exact[r * V + i] = standardizeInGather(floats[src * V + i], stats.mean[i], stats.std[i]);
          expect(Math.abs(got[r * V + i] - host.data[src * V + i])).toBeLessThanOrEqual(2 * 2 ** -23 * Math.max(1, Math.abs(host.data[src * V + i])));
        }
      }
      expectSameBits(got, exact);
      ds.dispose();
    }
  });
});

describe('fit with standardize: Gaussian units trained on 8-bit images at 1 byte per value', () => {
  it('trains bit-identically to float32 rows standardised as the gather does, resident and streamed', async () => {
    const rowsN = 83;
    const bytes = randomBytes(rowsN * V, 41);
    const floats = floatsOf(bytes);
    const stats = byteColumnStats(bytes, V);
    const rows = Float32Array.from(floats, (x, k) => standardizeInGather(x, stats.mean[k % V], stats.std[k % V]));
    const train = async (data: DataSource, extra: Partial<FitOptions>): Promise<{ W: Float32Array; b: Float32Array; c: Float32Array; kind?: string }> => {
      const m = RBM.create(device, { visible: V, hidden: 6, seed: 4, visibleType: 'gaussian' });
      try {
        const r = await m.fit(data, { epochs: 2, batchSize: B, learningRate: 0.01, ...extra });
        return { ...(await m.readParams()), kind: r.data?.kind };
      } finally {
        m.dispose();
      }
    };
    const want = await train(rows, {});
    // 900 bytes: two blocks of one batch (with the statistics) fit, the resident set (1.5 kB) does not.
    for (const [extra, kind] of [[{ standardize: stats }, 'resident'], [{ standardize: stats, dataBudgetBytes: 900 }, 'streamed']] as [Partial<FitOptions>, string][]) {
      const got = await train({ format: 'u8', bytes }, extra);
      expect(got.kind).toBe(kind);
      expectSameBits(got.W, want.W);
      expectSameBits(got.b, want.b);
      expectSameBits(got.c, want.c);
    }
  });

  it('refuses standardize for non-Gaussian units and with binarization', async () => {
    const m = RBM.create(device, { visible: V, hidden: 3, seed: 1 });
    const g = RBM.create(device, { visible: V, hidden: 3, seed: 1, visibleType: 'gaussian' });
    try {
      const stats = byteColumnStats(randomBytes(N * V, 42), V);
      const data: DataSource = { format: 'u8', bytes: randomBytes(N * V, 42) };
      await expect(m.fit(data, { epochs: 1, batchSize: B, standardize: stats })).rejects.toThrow(/standardize is for Gaussian visible units.*bernoulli/);
      await expect(g.fit(data, { epochs: 1, batchSize: B, standardize: stats, binarize: 'threshold' })).rejects.toThrow(/never binarizes/);
    } finally {
      m.dispose();
      g.dispose();
    }
  });
});

describe('upload checks', () => {
  it('names bad values, bad sources and a row too large for one buffer', () => {
    const live = BufferOwner.live;
    expect(() => GpuDataset.upload(device, { format: 'bits', bytes: new Uint8Array([0, 1, 2, 0]) }, 2)).toThrow(
      /binary data row 1, column 0 is 2: 'bits' data must be 0 or 1/,
    );
    expect(() => GpuDataset.upload(device, { format: 'u8', bytes: new Uint8Array([0, 255, 7, 0]) }, 2, { requireBinary: true })).toThrow(
      /row 1, column 0 is 7\/255: a Bernoulli RBM without binarization needs 0\/1 data/,
    );
    expect(() => GpuDataset.upload(device, new Uint8Array(4) as never, 2)).toThrow(/data must be a Float32Array, \{ format: 'u8', bytes: Uint8Array \}.*got Uint8Array/);
    expect(() => GpuDataset.upload(device, { format: 'u8', bytes: new Uint8Array(5) }, 2)).toThrow(/5 values, which is not a positive multiple of 2/);
    const e = (() => {
      try {
        GpuDataset.upload(device, new Float32Array(40).fill(0.5), 20, { maxShardBytes: 64 });
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(DeviceLimitError);
    expect(e?.message).toMatch(/one data row of 20 values \(f32\) needs 112 bytes of GPU storage but the shard limit is 64 bytes; pass 8-bit images as \{ format: 'u8', bytes \}/);
    expect(() => GpuDataset.upload(device, { format: 'u8', bytes: new Uint8Array(4) }, 2, { standardize: { mean: new Float32Array(2), std: new Float32Array([1, 0]) } })).toThrow(
      /standardize.std\[1\] is 0; it must be positive/,
    );
    expect(() => GpuDataset.upload(device, new Float32Array(4), 2, { standardize: { mean: new Float32Array(2), std: new Float32Array(2).fill(1) } })).toThrow(
      /standardize \(in the gather\) is for u8 data/,
    );
    expect(BufferOwner.live).toBe(live);
  });

  it('keeps the positional (requireBinary, realValued) form and its messages', () => {
    expect(() => GpuDataset.upload(device, new Float32Array([0, 0.5]), 2, true)).toThrow(/column 1 is 0.5: a Bernoulli RBM without binarization/);
    expect(() => GpuDataset.upload(device, new Float32Array([0, 1.5]), 2)).toThrow(/values must be finite and in \[0, 1\]/);
    const g = GpuDataset.upload(device, new Float32Array([-3, 1.5]), 2, false, true);
    expect(g.format).toBe('f32');
    expect(g.data).toBe(g.shards[0].buffer);
    g.dispose();
  });

  it('stores Fashion-MNIST-sized u8 data in 1 byte per value (47 MB, one buffer)', () => {
    const n = 60000 * 784;
    const ds = GpuDataset.upload(device, { format: 'u8', bytes: new Uint8Array(n).fill(3) }, 784);
    expect(ds.format).toBe('u8');
    expect(ds.shards).toHaveLength(1);
    expect(ds.gpuBytes).toBe(4 * 8 + n + 4 * 60000);
    ds.dispose();
  });
});
