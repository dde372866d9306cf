// Incremental IDX reading (readIdxStream, readDataStream, the CLI's
// readImagesFile): the same data and the same errors as the whole-file reader
// for any chunking, plain or gzipped; size mismatches found before reading;
// the real Fashion-MNIST training set streamed into one Uint8Array of pixels.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdxFormatError, idxToByteImages, parseIdx, readIdx, readIdxStream } from '../../src/data/idx';
import { readDataStream } from '../../src/data/read-data';
import { imageRows } from '../../src/data/source';
import { readImagesFile } from '../../src/cli/data-node';
import { CliError } from '../../src/cli/errors';
import { buildIdx, CODES, mulberry32 } from './helpers';
import type { IdxTestType as T } from './helpers';

const FASHION = '/usr/share/datasets/fashion-mnist';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-idx-stream-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Splits bytes into chunks of the given sizes, cycling. */
function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    yield bytes.slice(at, at + n);
    at += n;
  }
}

async function rejection(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(IdxFormatError);
  return (e as Error).message;
}

const peakRss = (): number => process.resourceUsage().maxRSS * 1024;
const MB = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

// First, while the process is fresh: the peak-memory figure is this read's.
describe("Debian's Fashion-MNIST, streamed", () => {
  it('reads the 60,000 training images as 47,040,000 bytes of u8 pixels, no float32 copy', async () => {
    if (globalThis.gc) globalThis.gc();
    const before = process.memoryUsage();
    const peakBefore = peakRss();
    let peakSeen = before.rss;
    const poll = setInterval(() => (peakSeen = Math.max(peakSeen, process.memoryUsage().rss)), 5);
    const images = await readImagesFile(`${FASHION}/train-images-idx3-ubyte.gz`, '--data');
    clearInterval(poll);
    const after = process.memoryUsage();
    expect(images).toMatchObject({ count: 60000, width: 28, height: 28 });
    expect(images.data).toMatchObject({ format: 'u8' });
    const bytes = images.bytes as Uint8Array;
    expect(bytes.length).toBe(47_040_000);
    // Independent of this reader: Python's gzip module on the same file.
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012');
    let sum = 0;
    for (let i = 0; i < bytes.length; i++) sum += bytes[i];
    expect(sum).toBe(3_431_114_169);
    const grew = peakSeen - before.rss;
    console.log(
      `Fashion-MNIST train (26.4 MB .gz → 47.0 MB u8): rss ${MB(before.rss)} → ${MB(after.rss)}, ` +
        `sampled peak +${MB(grew)}, process peak ${MB(Math.max(peakBefore, peakRss()))}; arrayBuffers ${MB(before.arrayBuffers)} → ${MB(after.arrayBuffers)}`,
    );
    // The pixels plus read and inflate blocks not yet collected: far below the 188 MB a float32 copy alone would take.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(100e6);
    expect(grew).toBeLessThan(150e6);
  });

  it('reads the 10,000 test images, and float32 rows of a subset on request', async () => {
    const images = await readImagesFile(`${FASHION}/t10k-images-idx3-ubyte.gz`, '--test');
    expect(images).toMatchObject({ count: 10000, width: 28, height: 28 });
    const bytes = images.bytes as Uint8Array;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a');
    const rows = imageRows({ ...images, bytes }, [9999, 0]);
    expect(rows.length).toBe(2 * 784);
    expect(rows[784 + 300]).toBe(Math.fround(bytes[300] / 255));
    expect(rows[500]).toBe(Math.fround(bytes[9999 * 784 + 500] / 255));
  });

  it('streams the file from disk in blocks equal to the whole-file reader', async () => {
    const idx = await readIdxStream(createReadStream(`${FASHION}/t10k-labels-idx1-ubyte.gz`, { highWaterMark: 4096 }));
    expect(idx.type).toBe('u8');
    expect(idx.dims).toEqual([10000]);
    expect(() => idxToByteImages(idx)).toThrow(/expected u8 images with dims \[count, rows, cols\], got u8 \[10000\]/);
  });
});

const SAMPLES: Record<T, number[]> = {
  u8: [0, 1, 127, 128, 254, 255, 9],
  i8: [-128, -1, 0, 1, 64, 127, 3],
  i16: [-32768, -2, 0, 3, 1000, 32767, 5],
  i32: [-2147483648, -70000, 0, 5, 123456789, 2147483647, 7],
  f32: [-1.5, 0, 0.1, 3.25e-20, 1e30, -Infinity, 2].map(Math.fround),
  f64: [-1.5, 0.1, Math.PI, 5e-324, 1e300, Infinity, 4],
};

describe('readIdxStream agrees with readIdx', () => {
  it.each(Object.keys(CODES) as T[])('%s: any chunking, plain and gzipped', async (type) => {
    const file = buildIdx(type, [7, 1], SAMPLES[type]);
    const want = parseIdx(file);
    for (const bytes of [file, gzipSync(file)]) {
      for (const sizes of [[1], [3, 5], [bytes.length]]) {
        const got = await readIdxStream(chunked(bytes, sizes));
        expect(got.type).toBe(want.type);
        expect(got.dims).toEqual(want.dims);
        expect(Array.from(got.data)).toEqual(Array.from(want.data));
      }
    }
  });

  const bomb = new Uint8Array(16 + 8 * 2 ** 20);
  bomb.set(buildIdx('u8', [1, 2, 2], []));
  const mutated = (f: Uint8Array, at: number, v: number): Uint8Array => {
    const g = f.slice();
    g[at] = v;
    return g;
  };
  const u8 = buildIdx('u8', [100], Array.from({ length: 100 }, (_, i) => i));
  const gz = gzipSync(u8);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['bad magic', mutated(buildIdx('u8', [2], [1, 2]), 0, 0x12), /magic.*0x12 0x00, expected 0x00 0x00/],
    ['too short', new Uint8Array([0, 0]), /too short: 2 bytes/],
    ['unknown type', mutated(buildIdx('u8', [1], [1]), 2, 0x0a), /unknown IDX element type 0x0a; supported/],
    ['0 dimensions', new Uint8Array([0, 0, 8, 0, 1]), /0 dimensions; this reader supports 1 to 4/],
    ['header truncated', buildIdx('u8', [2, 2, 2], []).subarray(0, 10), /header truncated: 3 dimensions need 16 header bytes but the file has 10/],
    ['truncated data', buildIdx('i32', [2, 3], SAMPLES.i32.slice(0, 6)).subarray(0, 35), /need 24 bytes but 23 follow.*truncated/],
    ['trailing bytes', new Uint8Array([...buildIdx('i32', [2, 3], SAMPLES.i32.slice(0, 6)), 1, 2]), /need 24 bytes but 26 follow.*trailing/],
    ['zero dimension', buildIdx('u8', [3, 0], []), /dimension 1 is 0/],
    ['huge dims', buildIdx('f64', [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], []), /exceed the 2147483648 byte limit/],
    ['truncated gzip', gz.subarray(0, gz.length - 6), /corrupt gzip/],
    ['gzip magic only', new Uint8Array([0x1f, 0x8b]), /corrupt gzip/],
    ['gzip bomb', gzipSync(bomb), /inflates past 20 bytes, more than its IDX header declares/],
    ['gzipped short data', gzipSync(buildIdx('u8', [5], [1, 2, 3, 4])), /need 5 bytes but 4 follow.*truncated/],
    ['gzipped bad magic', gzipSync(mutated(buildIdx('u8', [4], [1, 2, 3, 4]), 1, 7)), /not an IDX file: magic starts 0x00 0x07/],
    ['gzipped garbage', gzipSync(new Uint8Array(2 ** 20).fill(7)), /not an IDX file: magic starts 0x07 0x07/],
  ];

  it.each(cases)('%s: the same IdxFormatError', async (_, bytes, pattern) => {
    expect(await rejection(readIdx(bytes))).toMatch(pattern);
    expect(await rejection(readIdxStream(chunked(bytes, [7])))).toMatch(pattern);
    expect(await rejection(readIdxStream([bytes]))).toMatch(pattern);
  });

  it('a caller cap refuses larger declarations with its reason, before inflating', async () => {
    const raw = new Uint8Array(16 + 8 * 2 ** 20);
    raw.set(buildIdx('u8', [8, 1024, 1024], []));
    expect(await rejection(readIdxStream([gzipSync(raw)], { maxBytes: 2 ** 20, maxReason: 'over budget' }))).toMatch(
      /IDX dimensions \[8, 1024, 1024\] of u8 exceed the 1048576 byte limit; over budget/,
    );
  });

  it('with the size known, a mismatch fails on the header, before any data is read', async () => {
    const file = buildIdx('u8', [60000, 28, 28], []);
    function* source(): Generator<Uint8Array> {
      yield file.slice(0, 16);
      yield new Uint8Array(4);
      throw new Error('read past the header');
    }
    expect(await rejection(readIdxStream(source(), { size: 100 }))).toMatch(/need 47040000 bytes but 84 follow the header; the file is truncated/);
  });

  it('names trailing data beyond what it reads on', async () => {
    const file = buildIdx('u8', [2, 2], [1, 2, 3, 4]);
    function* long(): Generator<Uint8Array> {
      yield file;
      for (let i = 0; i < 3; i++) yield new Uint8Array(2 ** 20);
    }
    expect(await rejection(readIdxStream(long()))).toMatch(/need 4 bytes but more than 1048580 follow the header; the file has trailing bytes/);
  });

  it('closes the source when it stops early', async () => {
    let closed = false;
    function* source(): Generator<Uint8Array> {
      try {
        yield new Uint8Array([0, 0, 0x77, 1]);
        yield new Uint8Array(100);
      } finally {
        closed = true;
      }
    }
    await rejection(readIdxStream(source()));
    expect(closed).toBe(true);
    // Gzipped: a bomb stops the inflating and the compressed source after the declared size.
    const raw = new Uint8Array(16 + 32 * 2 ** 20);
    raw.set(buildIdx('u8', [1, 2, 2], []));
    const gz = gzipSync(raw);
    let pulled = 0;
    let gzClosed = false;
    function* gzSource(): Generator<Uint8Array> {
      try {
        for (let at = 0; at < gz.length; at += 1024) {
          pulled += 1024;
          yield gz.subarray(at, at + 1024);
        }
      } finally {
        gzClosed = true;
      }
    }
    expect(await rejection(readIdxStream(gzSource()))).toMatch(/inflates past 20 bytes/);
    expect(gzClosed).toBe(true);
    expect(pulled).toBeLessThan(gz.length);
  });

  it('fuzz: 300 gzipped and 1000 plain mutations only ever throw IdxFormatError', async () => {
    const r = mulberry32(12);
    const good = buildIdx('u8', [4, 8, 8], Array.from({ length: 256 }, (_, i) => i));
    const goodGz = gzipSync(good);
    for (let k = 0; k < 1300; k++) {
      const f = (k < 300 ? goodGz : good).slice();
      const flips = 1 + Math.floor(r() * 3);
      for (let j = 0; j < flips; j++) f[Math.floor(r() * Math.min(f.length, 24))] = Math.floor(r() * 256);
      const cut = r() < 0.2 ? f.subarray(0, Math.floor(r() * f.length)) : f;
      await readIdxStream(chunked(cut, [1 + Math.floor(r() * 50)]), { maxBytes: 2 ** 20 }).catch((e: unknown) => {
        if (!(e instanceof IdxFormatError)) throw new Error(`unexpected ${String(e)}`, { cause: e });
      });
    }
  });
});

describe('readDataStream and the CLI reader choose the format by its magic', () => {
  it('IDX and .npy, plain and gzipped', async () => {
    const idx = buildIdx('u8', [2, 1, 3], [0, 51, 255, 255, 0, 102]);
    const npy = new Uint8Array(128 + 6);
    const head = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
    npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    npy.set(new TextEncoder().encode(head.padEnd(117) + '\n'), 10);
    npy.set([0, 51, 255, 255, 0, 102], 128);
    for (const wrap of [(b: Uint8Array) => b, (b: Uint8Array) => new Uint8Array(gzipSync(b))]) {
      const a = await readDataStream([wrap(idx)]);
      expect(a.kind).toBe('idx');
      const b = await readDataStream(chunked(wrap(npy), [5]));
      expect(b.kind).toBe('npy');
      if (b.kind === 'npy') expect(b.npy.source).toEqual({ format: 'u8', bytes: Uint8Array.from([0, 51, 255, 255, 0, 102]) });
    }
    await writeFile(join(dir, 'two.npy'), npy);
    const images = await readImagesFile(join(dir, 'two.npy'), '--data');
    // 3 columns: not a square, so one row of 3.
    expect(images).toMatchObject({ count: 2, width: 3, height: 1, data: { format: 'u8' } });
    expect(Array.from(images.pixels)).toEqual([0, 0.2, 1, 1, 0, 0.4].map(Math.fround));
  });

  it('CLI errors name the flag and the file, with the reader message', async () => {
    const bad = join(dir, 'bad.npy');
    const npy = new Uint8Array(128);
    npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    npy.set(new TextEncoder().encode("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }".padEnd(117) + '\n'), 10);
    await writeFile(bad, npy);
    const e = await readImagesFile(bad, '--test').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as Error).message).toMatch(/^--test .*bad\.npy: the \.npy array is in Fortran \(column-major\) order; save a C-order array/);
    const missing = await readImagesFile(join(dir, 'nope.npy'), '--data').catch((x: unknown) => x);
    expect((missing as Error).message).toMatch(/nope\.npy: cannot read it \(no such file\); pass --data mnist .* or a 2-D \.npy array/);
    const dev = await readImagesFile('/dev/zero', '--data').catch((x: unknown) => x);
    expect((dev as Error).message).toMatch(/^--data \/dev\/zero: unknown IDX element type 0x00/);
  });
});
