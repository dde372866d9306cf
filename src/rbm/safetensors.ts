// The model file format: safetensors (https://github.com/huggingface/safetensors).
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON
//   {"name": {"dtype", "shape", "data_offsets": [start, end]}, …, "__metadata__": {str: str}}
// then the data section; offsets are relative to its start, values little-endian.
// We write float32 only; we read F32, F64, F16 and BF16 (converted to float32).
// Environment-neutral: no Node built-ins. The RBM model file built on this
// container (tensor names, metadata keys, their checks) is ./model-file.ts.

/** Thrown for any input that is not a valid safetensors file or RBM model. */
export class SafetensorsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsFormatError';
  }
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** A decoded tensor: always a fresh, aligned float32 copy. */
export interface DecodedTensor {
  shape: number[];
  data: Float32Array<ArrayBuffer>;
}

export interface SafetensorsContents {
  tensors: Record<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** Largest header we parse; real headers are a few hundred bytes. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

const DTYPE_SIZE: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };
const METADATA_KEY = '__metadata__';
const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const fail = (msg: string): never => {
  throw new SafetensorsFormatError(msg);
};

// Own-property assignment, so a tensor named "__proto__" cannot touch a prototype.
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serializes float32 tensors (in the given order) and optional string metadata. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`metadata value for "${k}" must be a string, got ${typeof v}.`);
    }
    put(header, METADATA_KEY, { ...metadata });
  }
  let offset = 0;
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === METADATA_KEY || name === '') fail(`"${name}" cannot be a tensor name.`);
    if (!t.shape.every((n) => Number.isInteger(n) && n >= 0)) {
      fail(`tensor "${name}": shape [${t.shape.join(', ')}] must be non-negative integers.`);
    }
    if (product(t.shape) !== t.data.length) {
      fail(`tensor "${name}": shape [${t.shape.join(', ')}] holds ${product(t.shape)} values but data has ${t.data.length}.`);
    }
    const end = offset + 4 * t.data.length;
    put(header, name, { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, end] });
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data section starts 8-byte aligned.
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const [, t] of entries) {
    if (littleEndianHost) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    } else {
      const u = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
      for (let i = 0; i < u.length; i++) view.setUint32(at + 4 * i, u[i], true);
    }
    at += 4 * t.data.length;
  }
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// The header length from the first 8 bytes, checked against the limit.
function headerLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > SAFETENSORS_MAX_HEADER) {
    fail(`header length ${n} exceeds the ${SAFETENSORS_MAX_HEADER}-byte limit; the file is corrupt or not safetensors.`);
  }
  if (n < 2) fail(`header length ${n} is too short for a JSON header (at least "{}"); the file is zero-filled, corrupt or not safetensors.`);
  return n;
}

/**
 * The total size (8 + header + the data its tensors span) a safetensors file
 * declares, from its first bytes; undefined until the whole header has arrived.
 * Throws SafetensorsFormatError as soon as the prefix cannot be safetensors
 * (a header length over the limit, a header that is not a JSON object), so a
 * reader of a stream (a pipe, /dev/zero) stops at once.
 */
export function safetensorsDeclaredSize(head: Uint8Array): number | undefined {
  if (head.length < 8) return undefined;
  const n = headerLength(head);
  if (head.length < 8 + n) return undefined;
  const h = parseHeader(head, n);
  let end = 0;
  for (const [name, e] of Object.entries(h)) {
    if (name === METADATA_KEY || !isPlainObject(e)) continue;
    const offsets = e.data_offsets;
    // Malformed entries are reported by decodeSafetensors; here they only must not raise the bound.
    if (Array.isArray(offsets) && offsets.length === 2 && Number.isSafeInteger(offsets[1]) && offsets[1] > end) end = offsets[1] as number;
  }
  return 8 + n + end;
}

/**
 * The shape of each tensor whose header entry has an array of integer dims,
 * read from the header alone (nothing is decoded or copied), so a caller can
 * check sizes before decoding. Empty when the header itself is malformed:
 * decodeSafetensors reports that.
 */
export function safetensorsShapes(bytes: Uint8Array): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  try {
    if (bytes.length < 8) return out;
    const n = headerLength(bytes);
    if (n > bytes.length - 8) return out;
    for (const [name, e] of Object.entries(parseHeader(bytes, n))) {
      if (name === METADATA_KEY || !isPlainObject(e)) continue;
      const shape = e.shape;
      if (Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0)) put(out, name, [...(shape as number[])]);
    }
  } catch (e) {
    if (!(e instanceof SafetensorsFormatError)) throw e;
  }
  return out;
}

/** Parses and validates a safetensors file; tensor data are fresh float32 copies. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length. It is truncated or not safetensors.`);
  const n = headerLength(bytes);
  if (n > bytes.length - 8) {
    fail(`header length ${n} runs past the end of the ${bytes.length}-byte file; the file is truncated or not safetensors.`);
  }
  const h = parseHeader(bytes, n);
  return decodeEntries(bytes, n, h);
}

// The header JSON of a file whose first 8 + n bytes have arrived.
function parseHeader(bytes: Uint8Array, n: number): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8; the file is corrupt or not safetensors.');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors.`);
  }
  if (!isPlainObject(header)) fail('header JSON must be an object mapping tensor names to {dtype, shape, data_offsets}.');
  return header as Record<string, unknown>;
}

// Validates every entry against the data section, then copies the tensors out.
function decodeEntries(bytes: Uint8Array, n: number, h: Record<string, unknown>): SafetensorsContents {
  const metadata: Record<string, string> = {};
  if (Object.hasOwn(h, METADATA_KEY)) {
    const m = h[METADATA_KEY];
    if (!isPlainObject(m)) fail('__metadata__ must be an object of string values.');
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__ value for "${k}" must be a string, got ${JSON.stringify(v)}.`);
      put(metadata, k, v as string);
    }
  }

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const entries: Array<{ name: string; dtype: string; shape: number[]; start: number; end: number }> = [];
  for (const [name, e] of Object.entries(h)) {
    if (name === METADATA_KEY) continue;
    if (!isPlainObject(e)) fail(`tensor "${name}": entry must be an object with dtype, shape, data_offsets.`);
    const { dtype, shape, data_offsets: offsets } = e as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`tensor "${name}": dtype is missing or not a string.`);
    const size = DTYPE_SIZE[dtype as string];
    if (size === undefined) {
      fail(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)}; this reader accepts F32, F64, F16, BF16. Save the model as float32.`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${shape === undefined ? 'is missing; it' : JSON.stringify(shape)} must be an array of non-negative integers.`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}": data_offsets ${offsets === undefined ? 'is missing; it' : JSON.stringify(offsets)} must be [start, end], non-negative integers.`);
    }
    const [start, end] = offsets as [number, number];
    if (start > end || end > dataLen) {
      fail(`tensor "${name}": data_offsets [${start}, ${end}] fall outside the ${dataLen}-byte data section; the file is truncated or corrupt.`);
    }
    const count = product(shape as number[]);
    if (count * size !== end - start) {
      fail(
        `tensor "${name}": shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${count * size} bytes but data_offsets span ${end - start}.`,
      );
    }
    entries.push({ name, dtype: dtype as string, shape: [...(shape as number[])], start, end });
  }

  const sorted = [...entries].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const [p, q] = [sorted[i - 1], sorted[i]];
    if (q.start < p.end) {
      fail(`tensors "${p.name}" [${p.start}, ${p.end}] and "${q.name}" [${q.start}, ${q.end}] overlap in the data section.`);
    }
  }

  const tensors: Record<string, DecodedTensor> = {};
  for (const t of entries) {
    put(tensors, t.name, { shape: t.shape, data: toFloat32(t.dtype, bytes.subarray(dataStart + t.start, dataStart + t.end)) });
  }
  return { tensors, metadata };
}

// Copies little-endian raw values into a fresh, aligned Float32Array.
function toFloat32(dtype: string, raw: Uint8Array): Float32Array<ArrayBuffer> {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'F32': {
      if (littleEndianHost) return new Float32Array(new Uint8Array(raw).buffer); // a copy: raw may be a view into a larger buffer (a Node Buffer)
      const out = new Float32Array(raw.length / 4);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < u.length; i++) u[i] = view.getUint32(4 * i, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(raw.length / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(raw.length / 2);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < u.length; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    default: {
      const out = new Float32Array(raw.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
  }
}

/** IEEE 754 binary16 bits to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
