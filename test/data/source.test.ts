// Compact data sources on the host (src/data/source.ts) and the CLI's Images
// over them: float32 rows of subsets, statistics bit-identical to the float32
// helpers, views instead of copies.
import { describe, expect, it } from 'vitest';
import {
  byteColumnStats, checkDataSource, imageRows, sourceColumnMeans, sourceHead, sourceRows, sourceSubset, U8_VALUES, type DataSource,
} from '../../src/data/source';
import { standardize } from '../../src/data/standardize';
import { columnMeans } from '../../src/rbm/init';
import { firstRows, makeImages, npyImageShape } from '../../src/cli/data-node';
import { mulberry32 } from './helpers';

const V = 7;
const N = 11;
const r = mulberry32(3);
const bytes = Uint8Array.from({ length: N * V }, () => Math.floor(r() * 256));
const floats = Float32Array.from(bytes, (b) => b / 255);
const bits = Uint8Array.from({ length: N * V }, () => (r() < 0.3 ? 1 : 0));

const bitsOf = (a: Float32Array | Float64Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4));

describe('sources', () => {
  it('U8_VALUES[b] is Math.fround(b / 255)', () => {
    for (let b = 0; b < 256; b++) expect(U8_VALUES[b]).toBe(Math.fround(b / 255));
  });

  it('sourceRows: the float32 values of any rows, for every format', () => {
    const idx = [10, 0, 3, 3];
    expect(bitsOf(sourceRows({ format: 'u8', bytes }, V, idx))).toEqual(bitsOf(sourceRows(floats, V, idx)));
    expect(Array.from(sourceRows({ format: 'bits', bytes: bits }, V, [2]))).toEqual(Array.from(bits.subarray(2 * V, 3 * V)));
    expect(sourceRows(floats, V).length).toBe(N * V);
    expect(() => sourceRows(floats, V, [N])).toThrow(/row index 11 is outside 0\.\.10/);
    expect(() => sourceRows(floats, 4)).toThrow(/77 values, not a multiple of 4/);
    expect(imageRows({ count: N, width: V, height: 1, bytes }, [1])[0]).toBe(Math.fround(bytes[V] / 255));
  });

  it('sourceHead is a view; sourceSubset copies the rows in the same format', () => {
    const head = sourceHead({ format: 'u8', bytes }, V, 2) as { format: 'u8'; bytes: Uint8Array };
    expect(head.bytes.buffer).toBe(bytes.buffer);
    expect(head.bytes.length).toBe(2 * V);
    const sub = sourceSubset({ format: 'bits', bytes: bits }, V, [4, 1]) as { format: 'bits'; bytes: Uint8Array };
    expect(sub.format).toBe('bits');
    expect(Array.from(sub.bytes)).toEqual([...bits.subarray(4 * V, 5 * V), ...bits.subarray(V, 2 * V)]);
  });

  it('sourceColumnMeans and byteColumnStats equal columnMeans and standardize() bit for bit', () => {
    const sources: DataSource[] = [{ format: 'u8', bytes }, floats];
    for (const s of sources) expect(bitsOf(sourceColumnMeans(s, V))).toEqual(bitsOf(columnMeans(floats, N, V)));
    expect(bitsOf(sourceColumnMeans({ format: 'bits', bytes: bits }, V))).toEqual(bitsOf(columnMeans(Float32Array.from(bits), N, V)));
    const stats = byteColumnStats(bytes, V);
    const host = standardize(floats, V);
    expect(bitsOf(stats.mean)).toEqual(bitsOf(host.mean));
    expect(bitsOf(stats.std)).toEqual(bitsOf(host.std));
  });

  it('checkDataSource names what it got', () => {
    expect(() => checkDataSource('data', [1, 2])).toThrow(/got an array/);
    expect(() => checkDataSource('data', { format: 'u16', bytes })).toThrow(/got object/);
    expect(() => checkDataSource('data', new Float64Array(2))).toThrow(/got Float64Array/);
  });
});

describe("the CLI's Images", () => {
  it('pixels are made from the bytes on first use, once; firstRows is a view', () => {
    const im = makeImages(N, V, 1, { format: 'u8', bytes });
    expect(im.bytes).toBe(bytes);
    const p = im.pixels;
    expect(im.pixels).toBe(p);
    expect(bitsOf(p)).toEqual(bitsOf(floats));
    const first = firstRows(im, 3);
    expect(first.count).toBe(3);
    expect(first.bytes?.buffer).toBe(bytes.buffer);
    expect(bitsOf(first.pixels)).toEqual(bitsOf(floats.subarray(0, 3 * V)));
    expect(firstRows(im, undefined)).toBe(im);
    const f = makeImages(N, V, 1, floats);
    expect(f.pixels).toBe(floats);
    expect(f.bytes).toBeUndefined();
  });

  it('a .npy row of a square number of values is a square image, otherwise one row', () => {
    expect(npyImageShape(784)).toEqual({ width: 28, height: 28 });
    expect(npyImageShape(13)).toEqual({ width: 13, height: 1 });
    expect(npyImageShape(1)).toEqual({ width: 1, height: 1 });
  });
});
