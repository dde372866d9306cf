// IDX sizes are judged from the header before anything is allocated or
// inflated: a caller's byte cap, declared sizes against the bytes present, and
// gzip bombs (inflation stops at what the header declares, or at the cap).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IDX_MAX_BYTES, idxDeclaredSize, IdxFormatError, parseIdx, readIdx } from '../../src/data/idx';
import { buildIdx } from './helpers';

/** An IDX header alone: u8, the given dims. */
function header(dims: number[]): Uint8Array {
  return buildIdx('u8', dims, []);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(IdxFormatError);
  return e as Error;
}

describe('IDX declared sizes', () => {
  it('a header declaring 60000×28×28 in a 100-byte file fails on the header', () => {
    const bytes = new Uint8Array(100);
    bytes.set(header([60000, 28, 28]));
    expect(() => parseIdx(bytes)).toThrow(/need 47040000 bytes but 84 follow the header; the file is truncated/);
  });

  it('idxDeclaredSize: undefined until the header is in, then header + data; garbage at once', () => {
    const h = header([2, 3, 4]);
    expect(idxDeclaredSize(h.subarray(0, 3))).toBeUndefined();
    expect(idxDeclaredSize(h.subarray(0, 10))).toBeUndefined();
    expect(idxDeclaredSize(h)).toBe(16 + 24);
    expect(() => idxDeclaredSize(new Uint8Array(64))).toThrow(/unknown IDX element type 0x00/);
    expect(() => idxDeclaredSize(new Uint8Array([1, 2, 3, 4]))).toThrow(/not an IDX file/);
  });

  it('a caller cap (a memory budget) refuses larger declarations, with its reason', async () => {
    const file = buildIdx('u8', [2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
    expect(parseIdx(file, { maxBytes: 24 }).dims).toEqual([2, 3, 4]);
    const o = { maxBytes: 23, maxReason: 'more than the budget' };
    expect(() => parseIdx(file, o)).toThrow(/exceed the 23 byte limit; more than the budget/);
    expect(() => idxDeclaredSize(file, o)).toThrow(/exceed the 23 byte limit/);
    expect((await rejection(readIdx(gzipSync(file), o))).message).toMatch(/exceed the 23 byte limit/);
    // The cap never raises the format's own ceiling.
    expect(() => parseIdx(header([65536, 32769]), { maxBytes: 2 ** 40 })).toThrow(new RegExp(`exceed the ${IDX_MAX_BYTES} byte limit; the header is corrupt`));
  });
});

describe('gzip bombs are bounded', () => {
  it('a small header followed by megabytes of zeros stops at what the header declares', async () => {
    const raw = new Uint8Array(16 + 8 * 2 ** 20);
    raw.set(header([1, 2, 2]));
    const gz = gzipSync(raw);
    expect(gz.length).toBeLessThan(20_000);
    expect((await rejection(readIdx(gz))).message).toMatch(/inflates past 20 bytes, more than its IDX header declares/);
  });

  it('a header declaring more than the cap is refused before inflating the rest', async () => {
    const raw = new Uint8Array(16 + 8 * 2 ** 20);
    raw.set(header([8, 1024, 1024]));
    const e = await rejection(readIdx(gzipSync(raw), { maxBytes: 2 ** 20, maxReason: 'over budget' }));
    expect(e.message).toMatch(/IDX dimensions \[8, 1024, 1024\] of u8 exceed the 1048576 byte limit; over budget/);
  });

  it('garbage inside the gzip is refused on its first bytes', async () => {
    const e = await rejection(readIdx(gzipSync(new Uint8Array(2 ** 20).fill(7))));
    expect(e.message).toMatch(/not an IDX file: magic starts 0x07 0x07/);
  });
});
