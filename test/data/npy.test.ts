// The .npy reader (src/data/npy.ts) on hand-built files: versions 1–3, the
// supported dtypes and what each becomes, odd sizes, chunked and gzipped
// input, and a clear NpyFormatError for every malformed or unsupported file.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { npyDeclaredSize, NpyFormatError, parseNpyHeader, readNpy, readNpyStream } from '../../src/data/npy';
import { mulberry32 } from './helpers';

/** A .npy file as numpy writes it: magic, version, LE length, the dict padded with spaces to a multiple of 64, '\n', data. */
function buildNpy(header: string, data: Uint8Array, version = 1, pad = 64): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let text = header;
  while ((pre + text.length + 1) % pad !== 0) text += ' ';
  text += '\n';
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}

const dict = (descr: string, shape: string, fortran = 'False'): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

function f32Bytes(values: number[], little = true): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  values.forEach((x, i) => new DataView(out.buffer).setFloat32(4 * i, x, little));
  return out;
}

function f64Bytes(values: number[], little = true): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  values.forEach((x, i) => new DataView(out.buffer).setFloat64(8 * i, x, little));
  return out;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(NpyFormatError);
  return (e as Error).message;
}

/** Splits bytes into chunks of the given sizes, cycling. */
function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    yield bytes.slice(at, at + n);
    at += n;
  }
}

describe('.npy: what each dtype becomes', () => {
  it('float32 (<f4, and >f4 byte-swapped) as a Float32Array, odd shape (3, 5)', async () => {
    const values = Array.from({ length: 15 }, (_, i) => Math.fround(i * 0.37 - 2));
    for (const [descr, little] of [['<f4', true], ['>f4', false]] as const) {
      const d = await readNpy(buildNpy(dict(descr, '(3, 5)'), f32Bytes(values, little)));
      expect([d.rows, d.columns]).toEqual([3, 5]);
      expect(d.source).toBeInstanceOf(Float32Array);
      expect(Array.from(d.source as Float32Array)).toEqual(values);
      expect(d.header).toMatchObject({ version: [1, 0], dtype: 'f4', descr, littleEndian: little });
    }
  });

  it('float64 rounded to float32; beyond float32 range refused', async () => {
    const values = [0.1, -2.5, 1e-3, Math.PI, 7, 1e30];
    for (const descr of ['<f8', '>f8']) {
      const d = await readNpy(buildNpy(dict(descr, '(2, 3)'), f64Bytes(values, descr === '<f8')));
      expect(Array.from(d.source as Float32Array)).toEqual(values.map(Math.fround));
    }
    const msg = await rejection(readNpy(buildNpy(dict('<f8', '(1, 3)'), f64Bytes([1, 2, 1e300]))));
    expect(msg).toMatch(/float64 value 1e\+300 at row 0, column 2 is beyond float32's range/);
  });

  it("uint8 with values above 1 is 8-bit intensities ('u8'); uint8 of only 0/1 is binary ('bits')", async () => {
    const img = Uint8Array.from({ length: 14 }, (_, i) => (i * 37) % 256);
    const u8 = await readNpy(buildNpy(dict('|u1', '(2, 7)'), img));
    expect(u8.source).toEqual({ format: 'u8', bytes: img });
    const bin = Uint8Array.from([0, 1, 1, 0, 1, 0]);
    expect((await readNpy(buildNpy(dict('|u1', '(3, 2)'), bin))).source).toEqual({ format: 'bits', bytes: bin });
  });

  it("bool (|b1) is binary ('bits'); a byte other than 0/1 is refused", async () => {
    const bin = Uint8Array.from([1, 0, 0, 1, 1]);
    expect((await readNpy(buildNpy(dict('|b1', '(1, 5)'), bin))).source).toEqual({ format: 'bits', bytes: bin });
    const bad = Uint8Array.from([1, 0, 2, 1, 1]);
    expect(await rejection(readNpy(buildNpy(dict('|b1', '(5, 1)'), bad)))).toMatch(/bool array holds byte 2 at row 2, column 0/);
  });

  it("reads numpy's exact header bytes, versions 2.0 and 3.0, 16-byte padding and a header without a trailing comma", async () => {
    // Bytes numpy 2.4 writes for np.save(f, np.zeros((3, 5), np.float32)).
    const numpy = Buffer.from("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }" + ' '.repeat(58) + '\n', 'latin1');
    const file = new Uint8Array(numpy.length + 60);
    file.set(numpy);
    expect(numpy.length).toBe(128);
    expect((await readNpy(file)).rows).toBe(3);
    const data = f32Bytes([1, 2, 3, 4, 5, 6]);
    for (const version of [2, 3]) {
      const d = await readNpy(buildNpy(dict('<f4', '(2, 3)'), data, version));
      expect(d.header.version).toEqual([version, 0]);
      expect(Array.from(d.source as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    const loose = buildNpy('{"shape": (2,3), "fortran_order": False, "descr": "<f4"}', data, 1, 16);
    expect((await readNpy(loose)).columns).toBe(3);
  });

  it('streams: any chunking and gzip give the same data', async () => {
    const r = mulberry32(4);
    const img = Uint8Array.from({ length: 97 * 13 }, () => Math.floor(r() * 256));
    const file = buildNpy(dict('|u1', '(97, 13)'), img);
    for (const sizes of [[1], [3, 7, 64], [file.length]]) {
      expect((await readNpyStream(chunked(file, sizes))).source).toEqual({ format: 'u8', bytes: img });
    }
    expect((await readNpyStream(chunked(gzipSync(file), [5, 100]))).source).toEqual({ format: 'u8', bytes: img });
  });

  it('npyDeclaredSize: undefined until the header is in, then header + data', () => {
    const file = buildNpy(dict('<f4', '(2, 3)'), f32Bytes([1, 2, 3, 4, 5, 6]));
    expect(npyDeclaredSize(file.subarray(0, 5))).toBeUndefined();
    expect(npyDeclaredSize(file.subarray(0, 40))).toBeUndefined();
    expect(npyDeclaredSize(file)).toBe(file.length);
    expect(parseNpyHeader(file)).toMatchObject({ rows: 2, columns: 3, headerLength: 128, dataBytes: 24 });
  });
});

describe('.npy: malformed and unsupported files name the problem', () => {
  const data6 = f32Bytes([1, 2, 3, 4, 5, 6]);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['Fortran order', buildNpy(dict('<f4', '(2, 3)', 'True'), data6), /Fortran \(column-major\) order; save a C-order array: np\.save\(path, np\.ascontiguousarray\(arr\)\)/],
    ['1-D', buildNpy(dict('<f4', '(6,)'), data6), /shape \(6,\), 1-D; data must be 2-D \[rows, columns\] \(one row: arr\.reshape\(1, -1\)/],
    ['3-D', buildNpy(dict('<f4', '(1, 2, 3)'), data6), /shape \(1, 2, 3\), 3-D; .*arr\.reshape\(len\(arr\), -1\)/],
    ['0-D', buildNpy(dict('<f4', '()'), data6.subarray(0, 4)), /shape \(\), 0-D/],
    ['no rows', buildNpy(dict('<f4', '(0, 3)'), new Uint8Array(0)), /shape \(0, 3\): it holds no values/],
    ['int64', buildNpy(dict('<i8', '(2, 3)'), new Uint8Array(48)), /dtype '<i8' \(int64\) is not supported; save the array as uint8 .*astype\(np\.float32\)/],
    ['float16', buildNpy(dict('<f2', '(2, 3)'), new Uint8Array(12)), /dtype '<f2' \(float16\) is not supported/],
    ['structured', buildNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", data6), /structured dtype/],
    ['no byte order', buildNpy(dict('f4', '(2, 3)'), data6), /does not say its byte order/],
    ['truncated data', buildNpy(dict('<f4', '(2, 3)'), data6.subarray(0, 23)), /needs 24 bytes but 23 follow the header; the file is truncated/],
    ['trailing data', buildNpy(dict('<f4', '(2, 3)'), new Uint8Array(25)), /needs 24 bytes but 25 follow the header; the file has trailing bytes/],
    ['missing key', buildNpy("{'descr': '<f4', 'shape': (2, 3)}", data6), /no 'fortran_order'/],
    ['unknown key', buildNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", data6), /unknown key 'x'/],
    ['bad literal', buildNpy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3)}", data6), /malformed \.npy header: expected a value at character/],
    ['not a dict', buildNpy('[1, 2]', data6), /expected a dictionary/],
    ['negative dim', buildNpy(dict('<f4', '(-2, 3)'), data6), /shape \[-2,3\] is not a tuple of non-negative integers/],
    ['version 4', (() => { const f = buildNpy(dict('<f4', '(2, 3)'), data6); f[6] = 4; return f; })(), /format version 4\.0 is not supported/],
    ['not npy', new TextEncoder().encode('hello world, not numpy'), /not a \.npy file: it starts 0x68 0x65 0x6c 0x6c 0x6f 0x20, expected the magic/],
    ['magic only', Uint8Array.from([0x93, 0x4e, 0x55]), /truncated: the magic string needs 6 bytes but the file has 3/],
    ['header cut', buildNpy(dict('<f4', '(2, 3)'), data6).subarray(0, 40), /truncated: a header of 118 bytes needs 128 bytes but the file has 40/],
    ['no newline', (() => { const f = buildNpy(dict('<f4', '(2, 3)'), data6); f[127] = 0x20; return f; })(), /does not end with a newline/],
    ['huge header length', (() => { const f = buildNpy(dict('<f4', '(2, 3)'), data6, 2); new DataView(f.buffer).setUint32(8, 2 ** 31, true); return f; })(), /header length 2147483648 is implausibly large/],
  ];

  it.each(cases)('%s', async (_, file, pattern) => {
    expect(await rejection(readNpy(file))).toMatch(pattern);
    // The same from a stream of small chunks, without the size known up front.
    expect(await rejection(readNpyStream(chunked(file, [7])))).toMatch(pattern);
  });

  it('a header declaring more than the limit is refused before reading or allocating', async () => {
    const file = buildNpy(dict('<f4', '(100000, 100000)'), new Uint8Array(0));
    expect(await rejection(readNpyStream([file]))).toMatch(/\(100000, 100000\) of <f4 needs 40000000000 bytes, more than the 2147483648 byte limit/);
    expect(await rejection(readNpyStream([buildNpy(dict('|u1', '(10, 10)'), new Uint8Array(100))], { maxBytes: 99, maxReason: 'over budget' }))).toMatch(
      /needs 100 bytes, more than the 99 byte limit; over budget/,
    );
  });

  it('corrupt gzip and gzip bombs end in NpyFormatError', async () => {
    const file = buildNpy(dict('|u1', '(4, 4)'), new Uint8Array(16).fill(9));
    const gz = gzipSync(file);
    expect(await rejection(readNpyStream([gz.subarray(0, gz.length - 6)]))).toMatch(/corrupt gzip/);
    const bomb = new Uint8Array(file.length + 8 * 2 ** 20);
    bomb.set(file);
    expect(await rejection(readNpyStream([gzipSync(bomb)]))).toMatch(/inflates past 144 bytes, more than its header declares/);
  });

  it('fuzz: 3000 random mutations only ever throw NpyFormatError', async () => {
    const r = mulberry32(99);
    const good = buildNpy(dict('<f4', '(3, 5)'), f32Bytes(Array.from({ length: 15 }, (_, i) => i)));
    let errors = 0;
    for (let k = 0; k < 3000; k++) {
      const f = good.slice(0, r() < 0.2 ? Math.floor(r() * good.length) : good.length);
      const flips = 1 + Math.floor(r() * 3);
      for (let j = 0; j < flips; j++) {
        const at = Math.floor(r() * Math.min(f.length, 80));
        if (f.length > 0) f[at] = r() < 0.5 ? Math.floor(r() * 256) : 0x30 + Math.floor(r() * 10);
      }
      try {
        await readNpy(f);
      } catch (e) {
        if (!(e instanceof NpyFormatError)) throw new Error(`unexpected ${String(e)}`, { cause: e });
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(500);
  });
});
