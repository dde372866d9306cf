import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IDX_MAX_BYTES, IdxFormatError, idxImagesToDataset, parseIdx, readIdx } from '../../src/data/idx';
import { buildIdx, CODES } from './helpers';
import type { IdxTestType as T } from './helpers';

const SAMPLES: Record<T, number[]> = {
  u8: [0, 1, 127, 128, 254, 255],
  i8: [-128, -1, 0, 1, 64, 127],
  i16: [-32768, -2, 0, 3, 1000, 32767],
  i32: [-2147483648, -70000, 0, 5, 123456789, 2147483647],
  f32: [-1.5, 0, 0.1, 3.25e-20, 1e30, -Infinity].map(Math.fround),
  f64: [-1.5, 0.1, Math.PI, 5e-324, 1e300, Infinity],
};

const expectIdxError = (f: () => unknown, pattern: RegExp) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IdxFormatError);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an IdxFormatError');
};

const expectIdxRejects = async (p: Promise<unknown>, pattern: RegExp) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IdxFormatError);
  expect((e as Error).message).toMatch(pattern);
};

describe('IDX reader', () => {
  it.each(Object.keys(CODES) as T[])('round-trips a hand-built %s file, plain and gzipped', async (type) => {
    const values = SAMPLES[type];
    const file = buildIdx(type, [2, 3], values);
    for (const idx of [parseIdx(file), await readIdx(file), await readIdx(gzipSync(file))]) {
      expect(idx.type).toBe(type);
      expect(idx.dims).toEqual([2, 3]);
      expect(Array.from(idx.data)).toEqual(values);
    }
  });

  it('keeps f32 NaN payloads bit-exact and reads 1- to 4-d files', () => {
    const file = buildIdx('f32', [1], [0]);
    new DataView(file.buffer).setUint32(8, 0x7fc0beef, false);
    const idx = parseIdx(file);
    expect(new Uint32Array(idx.data.buffer)[0]).toBe(0x7fc0beef);
    expect(parseIdx(buildIdx('u8', [1, 2, 1, 3], [1, 2, 3, 4, 5, 6])).dims).toEqual([1, 2, 1, 3]);
  });

  it('reads from a view at an odd offset into a larger buffer', () => {
    const file = buildIdx('i16', [3], [1, -2, 3]);
    const big = new Uint8Array(file.length + 3);
    big.set(file, 1);
    expect(Array.from(parseIdx(big.subarray(1, 1 + file.length)).data)).toEqual([1, -2, 3]);
  });

  it('rejects a bad magic number, pointing gzipped input at readIdx', () => {
    const file = buildIdx('u8', [2], [1, 2]);
    file[0] = 0x12;
    expectIdxError(() => parseIdx(file), /magic.*0x12 0x00, expected 0x00 0x00/);
    expectIdxError(() => parseIdx(gzipSync(buildIdx('u8', [1], [1]))), /gzipped: use readIdx/);
    expectIdxError(() => parseIdx(new Uint8Array([0, 0])), /too short: 2 bytes/);
  });

  it('rejects an unknown type code', () => {
    const file = buildIdx('u8', [1], [1]);
    file[2] = 0x0a;
    expectIdxError(() => parseIdx(file), /unknown IDX element type 0x0a; supported/);
  });

  it('rejects 0 or more than 4 dimensions', () => {
    expectIdxError(() => parseIdx(new Uint8Array([0, 0, 8, 0, 1])), /0 dimensions; this reader supports 1 to 4/);
    expectIdxError(() => parseIdx(buildIdx('u8', [1, 1, 1, 1, 1], [7])), /5 dimensions/);
  });

  it('rejects a truncated header', () => {
    expectIdxError(() => parseIdx(buildIdx('u8', [2, 2, 2], []).subarray(0, 10)), /header truncated: 3 dimensions need 16 header bytes but the file has 10/);
  });

  it('rejects truncated data and trailing bytes, saying expected vs actual bytes', () => {
    const file = buildIdx('i32', [2, 3], SAMPLES.i32);
    expectIdxError(() => parseIdx(file.subarray(0, file.length - 1)), /need 24 bytes but 23 follow.*truncated/);
    const longer = new Uint8Array(file.length + 2);
    longer.set(file);
    expectIdxError(() => parseIdx(longer), /need 24 bytes but 26 follow.*trailing/);
  });

  it('rejects a zero dimension', () => {
    expectIdxError(() => parseIdx(buildIdx('u8', [3, 0], [])), /dimension 1 is 0/);
  });

  it('rejects huge dims without allocating', () => {
    const huge = buildIdx('f64', [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], []);
    expectIdxError(() => parseIdx(huge), new RegExp(`exceed the ${IDX_MAX_BYTES} byte limit`));
    expectIdxError(() => parseIdx(buildIdx('u8', [65536, 32769], [])), /exceed/);
  });

  it('rejects corrupt and truncated gzip with IdxFormatError', async () => {
    const gz = gzipSync(buildIdx('u8', [100], Array.from({ length: 100 }, (_, i) => i)));
    await expectIdxRejects(readIdx(gz.subarray(0, gz.length - 6)), /corrupt gzip/);
    const bad = gz.slice();
    bad[12] ^= 0xff;
    bad[gz.length - 5] ^= 0xff;
    await expectIdxRejects(readIdx(bad), /corrupt gzip|IDX/);
    await expectIdxRejects(readIdx(new Uint8Array([0x1f, 0x8b])), /corrupt gzip/);
  });

  it('stops inflating once gzipped output outgrows its header (trailing data, gzip bombs)', async () => {
    const small = buildIdx('u8', [4], [1, 2, 3, 4]);
    const bomb = new Uint8Array(64 * 2 ** 20);
    bomb.set(small);
    const gz = gzipSync(bomb, { level: 1 });
    expect(gz.length).toBeLessThan(2 ** 20);
    await expectIdxRejects(readIdx(gz), /inflates past 12 bytes, more than its IDX header declares/);
    await expectIdxRejects(readIdx(gzipSync(buildIdx('u8', [5], [1, 2, 3, 4]))), /need 5 bytes but 4 follow.*truncated/);
    const badMagic = small.slice();
    badMagic[1] = 7;
    await expectIdxRejects(readIdx(gzipSync(badMagic)), /not an IDX file: magic starts 0x00 0x07/);
  });

  it('maps u8 images to [0,1] floats and refuses other shapes', () => {
    const ds = idxImagesToDataset(parseIdx(buildIdx('u8', [2, 1, 3], [0, 51, 255, 255, 0, 102])));
    expect(ds).toMatchObject({ count: 2, height: 1, width: 3 });
    expect(Array.from(ds.pixels)).toEqual([0, 0.2, 1, 1, 0, 0.4].map(Math.fround));
    expectIdxError(() => idxImagesToDataset(parseIdx(buildIdx('u8', [3], [1, 2, 3]))), /expected u8 images.*got u8 \[3\]/);
    expectIdxError(() => idxImagesToDataset(parseIdx(buildIdx('f32', [1, 1, 1], [0.5]))), /got f32/);
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';

// Installed by .ci/install-system.sh (Debian's dataset-fashion-mnist); missing means a failed test, not a skip.
describe("Debian's Fashion-MNIST", () => {
  it('is installed', () => {
    expect(existsSync(`${FASHION}/train-images-idx3-ubyte.gz`), `install it: apt-get install dataset-fashion-mnist`).toBe(true);
  });

  it('reads the 60000x28x28 training images', async () => {
    const idx = await readIdx(readFileSync(`${FASHION}/train-images-idx3-ubyte.gz`));
    expect(idx.type).toBe('u8');
    expect(idx.dims).toEqual([60000, 28, 28]);
    const ds = idxImagesToDataset(idx);
    expect(ds.pixels.length).toBe(60000 * 784);
    let max = 0;
    for (const x of ds.pixels) if (x > max) max = x;
    expect(max).toBe(1);
  });

  it('reads the 10000 test labels, 1000 per class', async () => {
    const idx = await readIdx(readFileSync(`${FASHION}/t10k-labels-idx1-ubyte.gz`));
    expect(idx.type).toBe('u8');
    expect(idx.dims).toEqual([10000]);
    const counts = new Array(10).fill(0);
    for (const l of idx.data) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
  });
});
