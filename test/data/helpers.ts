// Test helpers: files built by hand, independent of the readers under test.

// Hand-built IDX bytes, independent of the reader: big-endian header and values.
export const CODES = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e } as const;
const SIZES = { u8: 1, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 } as const;
export type IdxTestType = keyof typeof CODES;
type T = IdxTestType;

export function buildIdx(type: T, dims: number[], values: number[]): Uint8Array {
  const head = 4 + 4 * dims.length;
  const out = new Uint8Array(head + SIZES[type] * values.length);
  const v = new DataView(out.buffer);
  out[2] = CODES[type];
  out[3] = dims.length;
  dims.forEach((n, i) => v.setUint32(4 + 4 * i, n, false));
  values.forEach((x, i) => {
    const at = head + SIZES[type] * i;
    if (type === 'u8') v.setUint8(at, x);
    else if (type === 'i8') v.setInt8(at, x);
    else if (type === 'i16') v.setInt16(at, x, false);
    else if (type === 'i32') v.setInt32(at, x, false);
    else if (type === 'f32') v.setFloat32(at, x, false);
    else v.setFloat64(at, x, false);
  });
  return out;
}


/** Small seeded PRNG (mulberry32) for fuzzing: reproducible, not the model RNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A safetensors file from a raw header (object or exact JSON text) and data bytes, as a foreign writer might. */
export function rawSafetensors(header: object | string, data: Uint8Array, padTo = 1): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (json.length % padTo !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Little-endian float32 bytes. */
export function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return out;
}
