import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  halfToFloat,
  SafetensorsFormatError,
} from '../../src/rbm/safetensors';
import { rbmFromSafetensors, rbmToSafetensors } from '../../src/rbm/model-file';
import { f32Bytes, mulberry32, rawSafetensors } from './helpers';

function randomF32(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * 4);
}

function model(V: number, H: number, seed = 1) {
  return { visible: V, hidden: H, W: randomF32(V * H, seed), b: randomF32(V, seed + 1), c: randomF32(H, seed + 2) };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function expectError(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsFormatError);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected SafetensorsFormatError matching ${pattern}`);
}

// A valid file from a "foreign writer": its own tensor order and layout, the
// header padded to an odd length so the data section is misaligned.
function foreign(overrides: Record<string, unknown> = {}, padTo = 1, dataExtra = 0): Uint8Array {
  const c = [0.5, -0.5];
  const b = [1, 2, 3];
  const W = [1, 2, 3, 4, 5, 6];
  const data = new Uint8Array(4 * (c.length + b.length + W.length) + dataExtra);
  data.set(f32Bytes(c), 0);
  data.set(f32Bytes(b), 8);
  data.set(f32Bytes(W), 20);
  const header = {
    __metadata__: { format: 'pt', note: 'written elsewhere' },
    c: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    W: { shape: [3, 2], data_offsets: [20, 44], dtype: 'F32' },
    b: { data_offsets: [8, 20], dtype: 'F32', shape: [3] },
    ...overrides,
  };
  return rawSafetensors(header, data, padTo);
}

describe('safetensors encode/decode', () => {
  it('round-trips tensors bit-exactly and keeps metadata', () => {
    const odd = new Float32Array([NaN, -0, Infinity, 1e-45, -3.4e38]);
    new Uint32Array(odd.buffer)[0] = 0x7fa00001; // a NaN payload must survive
    const tensors = { W: { shape: [2, 3], data: randomF32(6, 5) }, odd: { shape: [5], data: odd }, empty: { shape: [0, 4], data: new Float32Array(0) } };
    const bytes = encodeSafetensors(tensors, { epochs: '3', 'learning rate': '0.1' });
    const out = decodeSafetensors(bytes);
    expect(Object.keys(out.tensors)).toEqual(['W', 'odd', 'empty']);
    for (const [k, t] of Object.entries(tensors)) {
      expect(out.tensors[k].shape).toEqual(t.shape);
      expect(bits(out.tensors[k].data)).toEqual(bits(t.data));
    }
    expect(out.metadata).toEqual({ epochs: '3', 'learning rate': '0.1' });
  });

  it('writes the documented layout: u64 LE header length, space padding to 8, F32 little-endian', () => {
    const bytes = encodeSafetensors({ b: { shape: [2], data: new Float32Array([1, -2]) } }, { k: 'v' });
    const v = new DataView(bytes.buffer);
    const n = v.getUint32(0, true);
    expect(v.getUint32(4, true)).toBe(0);
    expect((8 + n) % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd().length).toBeLessThanOrEqual(n);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect(JSON.parse(header)).toEqual({ __metadata__: { k: 'v' }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    expect(v.getFloat32(8 + n, true)).toBe(1);
    expect(v.getFloat32(12 + n, true)).toBe(-2);
    expect(bytes.length).toBe(8 + n + 8);
  });

  it('reads a file from a foreign writer: other order, extra metadata, odd padding, misaligned input', () => {
    for (const padTo of [1, 3, 8, 64]) {
      const file = foreign({}, padTo);
      const shifted = new Uint8Array(file.length + 1);
      shifted.set(file, 1);
      for (const bytes of [file, shifted.subarray(1)]) {
        const m = rbmFromSafetensors(bytes);
        expect(m).toMatchObject({ visible: 3, hidden: 2, visibleType: 'bernoulli' });
        expect(Array.from(m.W)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(Array.from(m.b)).toEqual([1, 2, 3]);
        expect(Array.from(m.c)).toEqual([0.5, -0.5]);
        expect(m.metadata).toEqual({ format: 'pt', note: 'written elsewhere' });
      }
    }
    // An unused gap and an extra tensor are tolerated.
    const extra = foreign({ velocity: { dtype: 'F32', shape: [1], data_offsets: [44, 48] } }, 1, 8);
    expect(decodeSafetensors(extra).tensors.velocity.shape).toEqual([1]);
    expect(rbmFromSafetensors(extra).hidden).toBe(2);
  });

  it('converts F64, F16 and BF16 tensors to float32', () => {
    const data = new Uint8Array(16 + 6 + 6);
    const v = new DataView(data.buffer);
    v.setFloat64(0, 0.1, true);
    v.setFloat64(8, -2.5, true);
    [0x3c00, 0xc000, 0x0001].forEach((h, i) => v.setUint16(16 + 2 * i, h, true)); // 1, -2, 2^-24
    [0x3f80, 0xc040, 0x7f80].forEach((h, i) => v.setUint16(22 + 2 * i, h, true)); // 1, -3, inf
    const file = rawSafetensors(
      {
        d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        h: { dtype: 'F16', shape: [3], data_offsets: [16, 22] },
        bf: { dtype: 'BF16', shape: [3], data_offsets: [22, 28] },
      },
      data,
    );
    const { tensors } = decodeSafetensors(file);
    expect(Array.from(tensors.d.data)).toEqual([Math.fround(0.1), -2.5]);
    expect(Array.from(tensors.h.data)).toEqual([1, -2, 2 ** -24]);
    expect(Array.from(tensors.bf.data)).toEqual([1, -3, Infinity]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0x7bff)).toBe(65504);
  });

  it('refuses to encode inconsistent tensors', () => {
    expectError(() => encodeSafetensors({ W: { shape: [2, 2], data: new Float32Array(3) } }), /shape \[2, 2\] holds 4 values but data has 3/);
    expectError(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } }), /cannot be a tensor name/);
  });
});

describe('safetensors corruption is reported, never trusted', () => {
  const good = rbmToSafetensors(model(4, 3));
  const headerLen = new DataView(good.buffer).getUint32(0, true);

  it('truncated files', () => {
    expectError(() => decodeSafetensors(good.subarray(0, 5)), /5 bytes; .*8-byte header length/);
    expectError(() => decodeSafetensors(good.subarray(0, good.length - 4)), /tensor "c": data_offsets \[\d+, \d+\] fall outside the \d+-byte data section.*truncated/);
    expectError(() => decodeSafetensors(good.subarray(0, 8 + headerLen - 1)), /runs past the end/);
  });

  it('a header length beyond the file or the limit', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(0, good.length, true);
    expectError(() => decodeSafetensors(bad), new RegExp(`header length ${good.length} runs past the end of the ${good.length}-byte file`));
    new DataView(bad.buffer).setUint32(4, 1, true);
    expectError(() => decodeSafetensors(bad), /exceeds the 100000000-byte limit/);
    new DataView(bad.buffer).setUint32(4, 0, true);
    new DataView(bad.buffer).setUint32(0, 200_000_000, true);
    expectError(() => decodeSafetensors(bad), /exceeds the 100000000-byte limit/);
  });

  it('bad JSON, non-object headers and invalid UTF-8', () => {
    expectError(() => decodeSafetensors(rawSafetensors('{"W": {', new Uint8Array(0))), /not valid JSON/);
    expectError(() => decodeSafetensors(rawSafetensors('[1, 2]', new Uint8Array(0))), /must be an object/);
    expectError(() => decodeSafetensors(rawSafetensors('null', new Uint8Array(0))), /must be an object/);
    const utf = rawSafetensors('{"a":1}', new Uint8Array(0));
    utf[10] = 0xff;
    expectError(() => decodeSafetensors(utf), /not valid UTF-8/);
    expectError(() => decodeSafetensors(rawSafetensors({ W: 3 }, new Uint8Array(0))), /tensor "W": entry must be an object/);
  });

  it('unsupported or missing dtypes', () => {
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } })), /tensor "c": unsupported dtype "I64"; this reader accepts F32, F64, F16, BF16/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } })), /unsupported dtype "F8_E4M3"/);
    expectError(() => decodeSafetensors(foreign({ c: { shape: [2], data_offsets: [0, 8] } })), /dtype is missing/);
  });

  it('bad shapes and offsets', () => {
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } })), /shape \[-2\] must be an array of non-negative integers/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } })), /non-negative integers/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } })), /non-negative integers/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [2], data_offsets: [0] } })), /must be \[start, end\]/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } })), /fall outside/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [2], data_offsets: [40, 48] } })), /tensor "c": data_offsets \[40, 48\] fall outside the 44-byte data section/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } })), /shape \[3\] of F32 needs 12 bytes but data_offsets span 8/);
    expectError(() => decodeSafetensors(foreign({ c: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } })), /tensors "c" \[4, 12\] and "b" \[8, 20\] overlap/);
  });

  it('metadata that is not string to string', () => {
    expectError(() => decodeSafetensors(foreign({ __metadata__: { epochs: 3 } })), /__metadata__ value for "epochs" must be a string, got 3/);
    expectError(() => decodeSafetensors(foreign({ __metadata__: ['a'] })), /__metadata__ must be an object/);
  });

  it('an RBM with missing tensors or shapes that disagree', () => {
    const { W, b, c } = { W: { dtype: 'F32', shape: [3, 2], data_offsets: [20, 44] }, b: { dtype: 'F32', shape: [3], data_offsets: [8, 20] }, c: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data = new Uint8Array(44);
    expectError(() => rbmFromSafetensors(rawSafetensors({ W, b }, data)), /no tensor "c" \(found: W, b\); an RBM needs W \[V,H\], b \[V\], c \[H\]/);
    expectError(() => rbmFromSafetensors(rawSafetensors({}, data)), /no tensor "W" \(found: none\)/);
    expectError(() => rbmFromSafetensors(rawSafetensors({ W: { ...W, shape: [6] }, b, c }, data)), /tensor "W" has shape \[6\]; expected \[V, H\]/);
    expectError(() => rbmFromSafetensors(rawSafetensors({ W: { ...W, shape: [2, 3] }, b, c }, data)), /tensor "b" has shape \[3\]; expected \[2\] to match W \[2, 3\]/);
    expectError(() => rbmFromSafetensors(rawSafetensors({ W, b, c: { ...c, shape: [1, 2] } }, data)), /tensor "c" has shape \[1, 2\]; expected \[2\]/);
    expectError(() => rbmFromSafetensors(rawSafetensors({ W: { ...W, shape: [0, 2], data_offsets: [20, 20] }, b, c }, data)), /V, H >= 1/);
    expectError(() => rbmFromSafetensors(rawSafetensors({ W, b, c, __metadata__: { visible: 'poisson' } }, data)), /"visible" is "poisson"/);
  });

  it('a tensor named __proto__ stays an ordinary entry', () => {
    const file = rawSafetensors('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32Bytes([7]));
    const { tensors } = decodeSafetensors(file);
    expect(Object.hasOwn(tensors, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
  });
});

describe('RBM model files', () => {
  it('round-trip W [V,H], b [V], c [H] and metadata bit-exactly', () => {
    const m = model(7, 5);
    const bytes = rbmToSafetensors({ ...m, metadata: { epochs: '10', algorithm: 'PCD-1' } });
    const back = rbmFromSafetensors(bytes);
    expect(back).toMatchObject({ visible: 7, hidden: 5, visibleType: 'bernoulli', metadata: { epochs: '10', algorithm: 'PCD-1' } });
    expect(bits(back.W)).toEqual(bits(m.W));
    expect(bits(back.b)).toEqual(bits(m.b));
    expect(bits(back.c)).toEqual(bits(m.c));
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors.W.shape).toEqual([7, 5]);
    expect(tensors.b.shape).toEqual([7]);
    expect(tensors.c.shape).toEqual([5]);
  });

  it('mark Gaussian models with metadata "visible": "gaussian"', () => {
    const bytes = rbmToSafetensors({ ...model(3, 2), visibleType: 'gaussian' });
    expect(decodeSafetensors(bytes).metadata).toEqual({ visible: 'gaussian' });
    expect(rbmFromSafetensors(bytes).visibleType).toBe('gaussian');
    expect(rbmFromSafetensors(rbmToSafetensors({ ...model(3, 2), metadata: { visible: 'gaussian' } })).visibleType).toBe('gaussian');
    expectError(() => rbmToSafetensors({ ...model(3, 2), visibleType: 'bernoulli', metadata: { visible: 'gaussian' } }), /contradicts/);
  });

  it('refuse parameters whose lengths disagree with visible x hidden', () => {
    expectError(() => rbmToSafetensors({ ...model(3, 2), visible: 4 }), /W has 6 values; shape \[4, 2\] needs 8/);
    expectError(() => rbmToSafetensors({ ...model(3, 2), c: new Float32Array(3) }), /c has 3 values; shape \[2\] needs 2/);
    expectError(() => rbmToSafetensors({ ...model(3, 2), hidden: 0 }), /positive integers/);
  });

  it('return aligned copies that do not alias the input bytes', () => {
    const bytes = rbmToSafetensors(model(3, 2));
    const m = rbmFromSafetensors(bytes);
    const before = m.W[0];
    bytes.fill(0, bytes.length - 44);
    expect(m.W[0]).toBe(before);
    expect(m.W.byteOffset).toBe(0);
  });
});

describe('inputs that are views into larger buffers', () => {
  it('decodes from a Node Buffer sharing a pool, and from a subarray', () => {
    const W = Float32Array.from({ length: 6 }, (_, i) => i + 0.5);
    const bytes = rbmToSafetensors({ visible: 3, hidden: 2, W, b: new Float32Array([1, 2, 3]), c: new Float32Array([4, 5]) });
    // A small Buffer lives inside Node's shared 8 KiB pool: its .buffer is larger than the file.
    const pooled = Buffer.from(bytes);
    const padded = new Uint8Array(bytes.length + 64);
    padded.set(bytes, 32);
    for (const input of [pooled, padded.subarray(32, 32 + bytes.length)]) {
      const f = rbmFromSafetensors(input);
      expect(Array.from(f.W)).toEqual(Array.from(W));
      expect(Array.from(f.c)).toEqual([4, 5]);
    }
  });
});
