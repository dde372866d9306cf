// NumPy .npy reader for tabular data: 2-D arrays in C order of uint8, bool,
// float32 or float64, read incrementally (optionally gzipped) into the compact
// form the GPU data set stores. Environment-neutral: no Node built-ins.
//
// Format (numpy.lib.format): the magic "\x93NUMPY", major and minor version
// bytes, the header length (v1: uint16 LE; v2, v3: uint32 LE), then the header:
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }
// (latin-1 in v1/v2, UTF-8 in v3) padded with spaces and ending in '\n', then
// the R·C elements in C order, nothing after them.
//
// What the values become (NpyData.source):
//   |b1 (bool)      → { format: 'bits', bytes }  (each byte must be 0 or 1)
//   |u1 (uint8)     → binary ('bits') when every value is 0 or 1, otherwise 8-bit
//                     intensities ('u8': value = byte / 255). A uint8 array of
//                     0s and 1s is binary data, not a nearly black image.
//   <f4, >f4        → Float32Array (as given)
//   <f8, >f8        → Float32Array (rounded to float32; a finite value beyond
//                     float32's range is refused)
// With `integers: true` (integer-coded data: Potts states 0..q−1, see
// src/data/potts-codes.ts) also |i1, <i2, <i4, <i8, <u2, <u4, <u8 (either byte
// order) → Float32Array of the exact integers (|x| ≤ 2^24, else refused).
import { ByteReader, withInput, type ByteChunks } from './chunks';
import { firstNonBinaryByte, type DataSource } from './source';

/** Thrown for any input that is not a well-formed, supported .npy file. */
export class NpyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

/** The element types read: NumPy's |u1, |b1, f4 and f8, and (with `integers: true`) the other integer types. */
export type NpyDtype = 'u1' | 'b1' | 'f4' | 'f8' | IntegerDtype;
/** Integer element types other than uint8, read only with NpyReadOptions.integers. */
export type IntegerDtype = 'i1' | 'i2' | 'i4' | 'i8' | 'u2' | 'u4' | 'u8';

export interface NpyHeader {
  /** Format version: [major, minor]. */
  version: [number, number];
  dtype: NpyDtype;
  /** The descr string as written ('<f4', '|u1', …). */
  descr: string;
  littleEndian: boolean;
  rows: number;
  columns: number;
  /** Bytes before the data (magic, version, length, header). */
  headerLength: number;
  /** Bytes of data the header declares. */
  dataBytes: number;
}

export interface NpyData {
  header: NpyHeader;
  rows: number;
  columns: number;
  /** The values in the form the GPU data set stores (see the file comment). */
  source: DataSource;
}

export interface NpyReadOptions {
  /** The most data bytes the header may declare (checked before anything is allocated); default NPY_MAX_BYTES. */
  maxBytes?: number;
  /** Why maxBytes is what it is, for the error. */
  maxReason?: string;
  /** The input's total size when known (a regular, uncompressed file): a mismatch fails before reading the data. */
  size?: number;
  /** Also read signed and wider integer arrays (integer codes), as exact float32 integers. */
  integers?: boolean;
}

/** The largest data section accepted. */
export const NPY_MAX_BYTES = 2 ** 31;
/** The largest header accepted (numpy's own limit for version 1 is 65535; real headers are ~100 bytes). */
export const NPY_MAX_HEADER = 2 ** 20;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** True when the bytes start with the .npy magic "\x93NUMPY". */
export function isNpy(head: Uint8Array): boolean {
  return head.length >= 6 && MAGIC.every((b, i) => head[i] === b);
}

const DTYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  u1: { dtype: 'u1', size: 1 },
  b1: { dtype: 'b1', size: 1 },
  f4: { dtype: 'f4', size: 4 },
  f8: { dtype: 'f8', size: 8 },
};

const INTEGER_DTYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  i1: { dtype: 'i1', size: 1 },
  i2: { dtype: 'i2', size: 2 },
  i4: { dtype: 'i4', size: 4 },
  i8: { dtype: 'i8', size: 8 },
  u2: { dtype: 'u2', size: 2 },
  u4: { dtype: 'u4', size: 4 },
  u8: { dtype: 'u8', size: 8 },
};
/** The largest integer read exactly as float32. */
const MAX_EXACT_INTEGER = 2 ** 24;

const NAMES: Record<string, string> = {
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u2: 'uint16', u4: 'uint32', u8: 'uint64', f2: 'float16',
  c8: 'complex64', c16: 'complex128', O: 'object', U: 'unicode', S: 'bytes', V: 'void', M8: 'datetime64', m8: 'timedelta64',
};

const SUPPORTED = "uint8 ('|u1'), bool ('|b1'), float32 ('<f4') or float64 ('<f8')";

// ---- The header's Python literal: {'key': value, ...} with strings, True/False, ints and tuples. ----

type PyValue = string | number | boolean | PyValue[] | null | { [k: string]: PyValue };

class LiteralParser {
  private at = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new NpyFormatError(`malformed .npy header: ${what} at character ${this.at} of ${JSON.stringify(this.text.trim())}`);
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  private eat(c: string): boolean {
    this.space();
    if (this.text[this.at] === c) {
      this.at++;
      return true;
    }
    return false;
  }

  parseAll(): PyValue {
    const v = this.value();
    this.space();
    if (this.at !== this.text.length) this.fail('unexpected text after the dictionary');
    return v;
  }

  private value(): PyValue {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    const m = /^(True|False|None|-?\d+L?)/.exec(this.text.slice(this.at));
    if (!m) this.fail('expected a value');
    this.at += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    const n = Number(m[0].replace(/L$/, ''));
    if (!Number.isSafeInteger(n)) this.fail(`integer ${m[0]} is too large`);
    return n;
  }

  private string(): string {
    const quote = this.text[this.at++];
    let out = '';
    while (this.at < this.text.length && this.text[this.at] !== quote) {
      if (this.text[this.at] === '\\') this.at++;
      out += this.text[this.at++];
    }
    if (this.at >= this.text.length) this.fail('unterminated string');
    this.at++;
    return out;
  }

  private sequence(close: string): PyValue[] {
    this.at++;
    const out: PyValue[] = [];
    while (!this.eat(close)) {
      out.push(this.value());
      if (!this.eat(',')) {
        if (!this.eat(close)) this.fail(`expected ',' or '${close}'`);
        break;
      }
    }
    return out;
  }

  private dict(): { [k: string]: PyValue } {
    this.at++;
    const out: { [k: string]: PyValue } = {};
    while (!this.eat('}')) {
      this.space();
      const q = this.text[this.at];
      if (q !== "'" && q !== '"') this.fail('expected a quoted key');
      const key = this.string();
      if (!this.eat(':')) this.fail("expected ':'");
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`key '${key}' appears twice`);
      out[key] = this.value();
      if (!this.eat(',')) {
        if (!this.eat('}')) this.fail("expected ',' or '}'");
        break;
      }
    }
    return out;
  }
}

// The dtype of a descr string, or a clear refusal naming it.
function parseDescr(descr: PyValue, integers = false): { dtype: NpyDtype; size: number; littleEndian: boolean; descr: string } {
  if (typeof descr !== 'string') {
    throw new NpyFormatError(`the .npy array has a structured dtype (descr ${JSON.stringify(descr)}); save a plain 2-D array of ${SUPPORTED}`);
  }
  const m = /^([<>|=]?)([a-zA-Z]\d*)$/.exec(descr);
  const t = m ? (DTYPES[m[2]] ?? (integers ? INTEGER_DTYPES[m[2]] : undefined)) : undefined;
  if (!m || !t) {
    const name = m ? (NAMES[m[2]] ?? NAMES[m[2].replace(/\d+$/, '')]) : undefined;
    throw new NpyFormatError(
      `the .npy dtype '${descr}'${name ? ` (${name})` : ''} is not supported; save the array as ${SUPPORTED}, e.g. arr.astype(np.float32)`,
    );
  }
  const order = m[1];
  if (t.size > 1 && order !== '<' && order !== '>') {
    throw new NpyFormatError(`the .npy dtype '${descr}' does not say its byte order ('<' or '>'); the file is malformed`);
  }
  return { dtype: t.dtype, size: t.size, littleEndian: order !== '>', descr };
}

/**
 * Parses the header of a .npy file from its first bytes; undefined while too
 * few have arrived (`partial`), otherwise the header or an NpyFormatError
 * naming what is wrong.
 */
export function parseNpyHeader(bytes: Uint8Array, o: NpyReadOptions = {}, partial = false): NpyHeader | undefined {
  const short = (need: number, what: string): undefined => {
    if (partial) return undefined;
    throw new NpyFormatError(`.npy file truncated: ${what} needs ${need} bytes but the file has ${bytes.length}`);
  };
  if (bytes.length < 6 && MAGIC.slice(0, bytes.length).every((b, i) => bytes[i] === b)) return short(6, 'the magic string');
  if (!isNpy(bytes)) {
    const shown = Array.from(bytes.subarray(0, 6), (b) => '0x' + b.toString(16).padStart(2, '0')).join(' ');
    throw new NpyFormatError(`not a .npy file: it starts ${shown}, expected the magic \\x93NUMPY`);
  }
  if (bytes.length < 10) return short(10, 'the version and header length');
  const [major, minor] = [bytes[6], bytes[7]];
  if (major < 1 || major > 3) {
    throw new NpyFormatError(`.npy format version ${major}.${minor} is not supported (versions 1.0, 2.0 and 3.0 are)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) return short(8 + lenBytes, 'the header length');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > NPY_MAX_HEADER) {
    throw new NpyFormatError(`.npy header length ${headerLen} is implausibly large (at most ${NPY_MAX_HEADER}); the file is corrupt`);
  }
  const start = 8 + lenBytes;
  const headerLength = start + headerLen;
  if (bytes.length < headerLength) return short(headerLength, `a header of ${headerLen} bytes`);
  const raw = bytes.subarray(start, headerLength);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    throw new NpyFormatError('malformed .npy header: it is not valid UTF-8 (version 3.0)');
  }
  if (!text.endsWith('\n')) throw new NpyFormatError("malformed .npy header: it does not end with a newline; the file is corrupt or the header length is wrong");
  const dict = new LiteralParser(text).parseAll();
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw new NpyFormatError(`malformed .npy header: expected a dictionary, got ${JSON.stringify(text.trim())}`);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in dict)) throw new NpyFormatError(`malformed .npy header: no '${key}' in ${JSON.stringify(text.trim())}`);
  }
  const extra = Object.keys(dict).filter((k) => !['descr', 'fortran_order', 'shape'].includes(k));
  if (extra.length > 0) throw new NpyFormatError(`malformed .npy header: unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
  const d = parseDescr(dict.descr, o.integers ?? false);
  if (typeof dict.fortran_order !== 'boolean') throw new NpyFormatError(`malformed .npy header: fortran_order is ${JSON.stringify(dict.fortran_order)}, not True or False`);
  const shape = dict.shape;
  if (!Array.isArray(shape) || !shape.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
    throw new NpyFormatError(`malformed .npy header: shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  if (dims.length !== 2) {
    const hint = dims.length === 1 ? ' (one row: arr.reshape(1, -1); one column: arr.reshape(-1, 1))' : dims.length > 2 ? ' (images: arr.reshape(len(arr), -1))' : '';
    throw new NpyFormatError(`the .npy array has shape (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), ${dims.length}-D; data must be 2-D [rows, columns]${hint}`);
  }
  const [rows, columns] = dims;
  if (rows === 0 || columns === 0) throw new NpyFormatError(`the .npy array has shape (${rows}, ${columns}): it holds no values`);
  if (dict.fortran_order) {
    throw new NpyFormatError('the .npy array is in Fortran (column-major) order; save a C-order array: np.save(path, np.ascontiguousarray(arr))');
  }
  const max = Math.min(NPY_MAX_BYTES, o.maxBytes ?? NPY_MAX_BYTES);
  const dataBytes = rows * columns * d.size;
  if (dataBytes > max) {
    const why = max < NPY_MAX_BYTES && o.maxReason ? o.maxReason : 'the header is corrupt or the array too large';
    throw new NpyFormatError(`the .npy array (${rows}, ${columns}) of ${d.descr} needs ${dataBytes} bytes, more than the ${max} byte limit; ${why}`);
  }
  return { version: [major, minor], dtype: d.dtype, descr: d.descr, littleEndian: d.littleEndian, rows, columns, headerLength, dataBytes };
}

/** The total size (header + data) a .npy file's first bytes declare; undefined while too few have arrived. */
export function npyDeclaredSize(head: Uint8Array, o: NpyReadOptions = {}): number | undefined {
  const h = parseNpyHeader(head, o, true);
  return h ? h.headerLength + h.dataBytes : undefined;
}

function mismatch(h: NpyHeader, actual: number, short: boolean): NpyFormatError {
  return new NpyFormatError(
    `.npy data size mismatch: shape (${h.rows}, ${h.columns}) of ${h.descr} needs ${h.dataBytes} bytes but ${actual} follow the header` +
      (short ? '; the file is truncated' : '; the file has trailing bytes or the header is wrong'),
  );
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Bytes of float64 converted per step (the float32 output is the only full-size array). */
const F8_BLOCK = 1 << 20;

/** Reads a .npy file (optionally gzipped) incrementally; see the file comment for what the values become. */
export async function readNpyStream(source: ByteChunks, o: NpyReadOptions = {}): Promise<NpyData> {
  return withInput(source, (input, gz) => readNpyFrom(input, gz, o), (m) => new NpyFormatError(m));
}

/** Reads a whole .npy file held in memory (optionally gzipped). */
export function readNpy(bytes: Uint8Array, o: NpyReadOptions = {}): Promise<NpyData> {
  return readNpyStream([bytes], { size: bytes.length, ...o });
}

/** readNpyStream's work on an opened input (`gz`: the bytes were inflated from gzip). */
export async function readNpyFrom(input: ByteReader, gz: boolean, o: NpyReadOptions = {}): Promise<NpyData> {
  // The header: its fixed part first, then as many bytes as it says it has.
  let head = await input.peek(12);
  let h = parseNpyHeader(head, o, true);
  if (!h) {
    // (The partial parse has checked the magic, the version and that the length is at most NPY_MAX_HEADER.)
    head = await input.peek(head.length < 12 ? 12 : preambleLength(head));
    h = parseNpyHeader(head, o, false) as NpyHeader;
  }
  if (!gz && o.size !== undefined) {
    const actual = o.size - h.headerLength;
    if (actual !== h.dataBytes) throw mismatch(h, actual, actual < h.dataBytes);
  }
  await input.skip(h.headerLength);
  const n = h.rows * h.columns;
  let source: DataSource;
  if (h.dtype === 'f8') {
    source = await readFloat64(input, h, n);
  } else if (Object.hasOwn(INTEGER_DTYPES, h.dtype)) {
    source = await readIntegers(input, h, n);
  } else {
    const out = h.dtype === 'f4' ? new Float32Array(n) : new Uint8Array(n);
    const bytes = new Uint8Array(out.buffer);
    const got = await input.readInto(bytes);
    if (got < h.dataBytes) throw mismatch(h, got, true);
    if (out instanceof Float32Array) {
      if (h.littleEndian !== littleEndianHost) swapBytes(bytes, 4);
      source = out;
    } else if (h.dtype === 'b1') {
      const bad = firstNonBinaryByte(out);
      if (bad >= 0) {
        throw new NpyFormatError(
          `the .npy bool array holds byte ${out[bad]} at row ${Math.floor(bad / h.columns)}, column ${bad % h.columns}; NumPy bools are 0 or 1, the file is corrupt`,
        );
      }
      source = { format: 'bits', bytes: out };
    } else {
      source = { format: firstNonBinaryByte(out) < 0 ? 'bits' : 'u8', bytes: out };
    }
  }
  if (!(await input.atEnd())) {
    if (gz) throw new NpyFormatError(`gzipped .npy data inflates past ${h.headerLength + h.dataBytes} bytes, more than its header declares; the file has trailing bytes or the header is wrong`);
    const extra = await input.skip(2 ** 20);
    throw mismatch(h, h.dataBytes + extra, false);
  }
  return { header: h, rows: h.rows, columns: h.columns, source };
}

// Magic, version, length field and header: the bytes before the data, from the first 12.
function preambleLength(head: Uint8Array): number {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return head[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

// Integers (other than uint8) → exact float32 block by block; beyond 2^24 in magnitude is refused.
async function readIntegers(input: ByteReader, h: NpyHeader, n: number): Promise<Float32Array> {
  const size = INTEGER_DTYPES[h.dtype].size;
  const get = (view: DataView, at: number): number => {
    switch (h.dtype) {
      case 'i1': return view.getInt8(at);
      case 'i2': return view.getInt16(at, h.littleEndian);
      case 'i4': return view.getInt32(at, h.littleEndian);
      case 'u2': return view.getUint16(at, h.littleEndian);
      case 'u4': return view.getUint32(at, h.littleEndian);
      case 'i8': return Number(view.getBigInt64(at, h.littleEndian));
      default: return Number(view.getBigUint64(at, h.littleEndian));
    }
  };
  const out = new Float32Array(n);
  const block = new Uint8Array(Math.min(F8_BLOCK, size * n));
  const view = new DataView(block.buffer);
  let done = 0;
  while (done < n) {
    const want = Math.min(block.length, size * (n - done));
    const got = await input.readInto(block.subarray(0, want));
    if (got < want) throw mismatch(h, size * done + got, true);
    for (let j = 0; j < want / size; j++) {
      const x = get(view, size * j);
      if (Math.abs(x) > MAX_EXACT_INTEGER) {
        const e = done + j;
        throw new NpyFormatError(
          `the .npy integer ${x} at row ${Math.floor(e / h.columns)}, column ${e % h.columns} is beyond ±2^24, which float32 holds exactly; integer codes must be small`,
        );
      }
      out[done + j] = x;
    }
    done += want / size;
  }
  return out;
}

// float64 → float32 block by block; a finite value beyond float32's range is refused.
async function readFloat64(input: ByteReader, h: NpyHeader, n: number): Promise<Float32Array> {
  const out = new Float32Array(n);
  const block = new Uint8Array(Math.min(F8_BLOCK, 8 * n));
  const view = new DataView(block.buffer);
  let done = 0;
  while (done < n) {
    const want = Math.min(block.length, 8 * (n - done));
    const got = await input.readInto(block.subarray(0, want));
    if (got < want) throw mismatch(h, 8 * done + got, true);
    for (let j = 0; j < want / 8; j++) {
      const x = view.getFloat64(8 * j, h.littleEndian);
      const f = Math.fround(x);
      if (!Number.isFinite(f) && Number.isFinite(x)) {
        const e = done + j;
        throw new NpyFormatError(
          `the .npy float64 value ${x} at row ${Math.floor(e / h.columns)}, column ${e % h.columns} is beyond float32's range; scale the data first`,
        );
      }
      out[done + j] = f;
    }
    done += want / 8;
  }
  return out;
}
