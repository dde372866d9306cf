// IDX reader: the format MNIST-family data sets ship in (optionally gzipped).
// Layout: 0x00 0x00 <type> <ndims>, ndims big-endian uint32 sizes, then the
// elements big-endian, row-major. Environment-neutral: no Node built-ins.
//
// Two forms: readIdx/parseIdx take the whole file in memory; readIdxStream
// reads it incrementally (a file in blocks, gzip inflating as it goes), checks
// the header first, allocates the exact data size it declares and copies the
// rest straight in: u8 images end up in one Uint8Array, with no other copy of
// the file (compressed or not) held at any time.
import { withInput, type ByteChunks, type ByteReader } from './chunks';
import type { ByteImages } from './source';

/** Thrown for any IDX input that is not a well-formed, supported IDX file. */
export class IdxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxFormatError';
  }
}

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';

/** A parsed IDX file; `data` is a fresh copy in native byte order. */
export type IdxData =
  | { type: 'u8'; dims: number[]; data: Uint8Array<ArrayBuffer> }
  | { type: 'i8'; dims: number[]; data: Int8Array<ArrayBuffer> }
  | { type: 'i16'; dims: number[]; data: Int16Array<ArrayBuffer> }
  | { type: 'i32'; dims: number[]; data: Int32Array<ArrayBuffer> }
  | { type: 'f32'; dims: number[]; data: Float32Array<ArrayBuffer> }
  | { type: 'f64'; dims: number[]; data: Float64Array<ArrayBuffer> };

/** Images as the trainer wants them: row-major [count, height*width] in [0,1]. */
export interface ImageDataset {
  count: number;
  width: number;
  height: number;
  pixels: Float32Array<ArrayBuffer>;
}

/** Largest data section we accept; bigger is almost surely a corrupt header. */
export const IDX_MAX_BYTES = 2 ** 31;

/** Options of the IDX readers. */
export interface IdxReadOptions {
  /**
   * The most data bytes a header may declare (default and ceiling IDX_MAX_BYTES),
   * checked before anything is allocated or inflated.
   */
  maxBytes?: number;
  /** Why maxBytes is what it is, for the error (default: the header is corrupt). */
  maxReason?: string;
}

const TYPES: Record<number, { type: IdxType; size: number }> = {
  0x08: { type: 'u8', size: 1 },
  0x09: { type: 'i8', size: 1 },
  0x0b: { type: 'i16', size: 2 },
  0x0c: { type: 'i32', size: 4 },
  0x0d: { type: 'f32', size: 4 },
  0x0e: { type: 'f64', size: 8 },
};

const hex = (n: number): string => '0x' + n.toString(16).padStart(2, '0');

interface IdxHeader {
  type: IdxType;
  size: number;
  dims: number[];
  headerLen: number;
  /** Bytes of element data the dims declare. */
  expected: number;
}

// Validates the header. With partial = true (a stream still arriving) a
// prefix too short to judge returns undefined instead of throwing.
function readHeader(bytes: Uint8Array, partial: boolean, o: IdxReadOptions = {}): IdxHeader | undefined {
  const max = Math.min(IDX_MAX_BYTES, o.maxBytes ?? IDX_MAX_BYTES);
  if (partial && bytes.length < 4) return undefined;
  if (bytes.length < 4) {
    throw new IdxFormatError(
      `IDX file too short: ${bytes.length} bytes, need at least 4 for the magic number; the file is truncated or not IDX.`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (it looks gzipped: use readIdx, which decompresses)' : '';
    throw new IdxFormatError(
      `not an IDX file: magic starts ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00${gz}. Pass an MNIST-style *-ubyte file.`,
    );
  }
  const t = TYPES[bytes[2]];
  if (!t) {
    throw new IdxFormatError(
      `unknown IDX element type ${hex(bytes[2])}; supported: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64.`,
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) {
    throw new IdxFormatError(`IDX file has ${ndims} dimensions; this reader supports 1 to 4. The header is corrupt or not IDX.`);
  }
  const headerLen = 4 + 4 * ndims;
  if (partial && bytes.length < headerLen) return undefined;
  if (bytes.length < headerLen) {
    throw new IdxFormatError(
      `IDX header truncated: ${ndims} dimensions need ${headerLen} header bytes but the file has ${bytes.length}.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let expected = t.size;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    if (n === 0) throw new IdxFormatError(`IDX dimension ${d} is 0; every dimension must be at least 1.`);
    dims.push(n);
    expected *= n;
    // Checked per step so the running product stays an exact integer.
    if (expected > max) {
      const why = max < IDX_MAX_BYTES && o.maxReason ? o.maxReason : 'the header is corrupt';
      throw new IdxFormatError(
        `IDX dimensions [${dims.join(', ')}${d + 1 < ndims ? ', …' : ''}] of ${t.type} exceed the ${max} byte limit; ${why}.`,
      );
    }
  }
  return { type: t.type, size: t.size, dims, headerLen, expected };
}

function sizeMismatch(h: IdxHeader, actual: number, short: boolean): IdxFormatError {
  return new IdxFormatError(
    `IDX data size mismatch: dims [${h.dims.join(', ')}] of ${h.type} need ${h.expected} bytes but ${actual} follow the header` +
      (short ? '; the file is truncated (re-download or re-extract it).' : '; the file has trailing bytes or the header is wrong.'),
  );
}

/**
 * The total size (header + data) an uncompressed IDX file's header declares,
 * from its first bytes; undefined while too few have arrived to tell. Throws
 * IdxFormatError as soon as the prefix shows the input is not IDX or declares
 * more than the limit, so a reader of a stream can stop early.
 */
export function idxDeclaredSize(head: Uint8Array, o: IdxReadOptions = {}): number | undefined {
  const h = readHeader(head, true, o);
  return h ? h.headerLen + h.expected : undefined;
}

/** Parses an uncompressed IDX file, validating the header before allocating. */
export function parseIdx(bytes: Uint8Array, o: IdxReadOptions = {}): IdxData {
  const h = readHeader(bytes, false, o) as IdxHeader;
  const actual = bytes.length - h.headerLen;
  if (actual !== h.expected) throw sizeMismatch(h, actual, actual < h.expected);
  return { ...readElements(h.type, h.size, bytes.subarray(h.headerLen), h.expected / h.size), dims: h.dims } as IdxData;
}

// Float64 words are assembled as two uint32 halves whose order depends on the host.
const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Copies the big-endian payload into a native typed array.
function readElements(type: IdxType, size: number, payload: Uint8Array, n: number): Omit<IdxData, 'dims'> {
  if (size === 1) {
    const copy = payload.slice();
    return type === 'u8' ? { type, data: copy } : { type: 'i8', data: new Int8Array(copy.buffer) };
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (type) {
    case 'i16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, false);
      return { type, data: out };
    }
    case 'i32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, false);
      return { type, data: out };
    }
    case 'f32': {
      // Move the bits as integers so NaN payloads survive bit-exactly.
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint32(4 * i, false);
      return { type, data: out };
    }
    default: {
      const out = new Float64Array(n);
      const u = new Uint32Array(out.buffer);
      const [hi, lo] = littleEndianHost ? [1, 0] : [0, 1];
      for (let i = 0; i < n; i++) {
        u[2 * i + hi] = view.getUint32(8 * i, false);
        u[2 * i + lo] = view.getUint32(8 * i + 4, false);
      }
      return { type: 'f64', data: out };
    }
  }
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads an IDX file, gunzipping first when it starts with the gzip magic.
 * A gzip bomb is bounded: inflating stops as soon as the output outgrows what
 * its own header declares, and the header may declare at most `maxBytes`.
 */
export async function readIdx(bytes: Uint8Array, o: IdxReadOptions = {}): Promise<IdxData> {
  if (!isGzip(bytes)) return parseIdx(bytes, o);
  // Stop inflating as soon as the output outgrows what its own header declares,
  // so a corrupt or hostile .gz cannot make us buffer gigabytes first.
  const raw = await gunzip(bytes, (head) => {
    const h = readHeader(head, true, o);
    return h ? h.headerLen + h.expected : MAX_INFLATED;
  });
  return parseIdx(raw, o);
}

// Largest decompressed file we accept: the data cap plus the biggest header.
const MAX_INFLATED = IDX_MAX_BYTES + 4 + 16;
const HEAD_BYTES = 4 + 16;

/**
 * Decompresses gzip with the standard DecompressionStream. `limit(head)` gets
 * the first bytes inflated so far (up to 20) and returns the most bytes to
 * accept; it may throw to reject the stream early.
 */
export async function gunzip(bytes: Uint8Array, limit: (head: Uint8Array) => number = () => MAX_INFLATED): Promise<Uint8Array> {
  const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes));
      controller.close();
    },
  });
  const reader = source.pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  const head = new Uint8Array(HEAD_BYTES);
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total < HEAD_BYTES) head.set(value.subarray(0, HEAD_BYTES - total), total);
      total += value.length;
      chunks.push(value);
      const max = limit(head.subarray(0, Math.min(total, HEAD_BYTES)));
      if (total > max) {
        throw new IdxFormatError(
          `gzipped data inflates past ${max} bytes` +
            (max < MAX_INFLATED ? ', more than its IDX header declares; the file has trailing bytes or the header is wrong.' : '; refusing it as corrupt.'),
        );
      }
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    if (e instanceof IdxFormatError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new IdxFormatError(`corrupt gzip data (${why}); the .gz file is truncated or damaged, re-download it.`);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function checkImages(idx: IdxData): asserts idx is Extract<IdxData, { type: 'u8' }> {
  if (idx.type !== 'u8' || idx.dims.length !== 3) {
    throw new IdxFormatError(
      `expected u8 images with dims [count, rows, cols], got ${idx.type} [${idx.dims.join(', ')}]; pass an *-images-idx3-ubyte file, not labels.`,
    );
  }
}

/** u8 images [n, rows, cols] as bytes (no copy): value = byte / 255. */
export function idxToByteImages(idx: IdxData): ByteImages {
  checkImages(idx);
  const [count, height, width] = idx.dims;
  return { count, width, height, bytes: idx.data };
}

/** Maps u8 images [n, rows, cols] to a [0,1] float dataset (pixel / 255). */
export function idxImagesToDataset(idx: IdxData): ImageDataset {
  checkImages(idx);
  const [count, height, width] = idx.dims;
  const pixels = new Float32Array(idx.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = idx.data[i] / 255;
  return { count, width, height, pixels };
}

/** Options of readIdxStream. */
export interface IdxStreamOptions extends IdxReadOptions {
  /**
   * The input's total size in bytes when known (a regular file): for plain
   * IDX, a data size that disagrees with the header fails before any data is
   * read or allocated.
   */
  size?: number;
}

/** How many trailing bytes a plain stream is read on to name their count. */
const TRAILING_PROBE = 2 ** 20;

/**
 * Reads an IDX file (plain or gzipped) incrementally from byte chunks: the
 * header is checked (against maxBytes too) before anything is allocated, the
 * data goes straight into one array of the declared size, and reading stops as
 * soon as the input runs past it (a gzip bomb inflates at most one chunk past
 * the declared size). Errors are IdxFormatErrors with readIdx's messages; the
 * source is closed on every path.
 */
export async function readIdxStream(source: ByteChunks, o: IdxStreamOptions = {}): Promise<IdxData> {
  return withInput(source, (input, gz) => readIdxFrom(input, gz, o), (m) => new IdxFormatError(m));
}

/** readIdxStream's work on an opened input (`gz`: the bytes were inflated from gzip). */
export async function readIdxFrom(input: ByteReader, gz: boolean, o: IdxStreamOptions = {}): Promise<IdxData> {
  const head = await input.peek(HEAD_BYTES);
  const h = readHeader(head, true, o) ?? (readHeader(head, false, o) as IdxHeader);
  if (!gz && o.size !== undefined) {
    const actual = o.size - h.headerLen;
    if (actual !== h.expected) throw sizeMismatch(h, actual, actual < h.expected);
  }
  await input.skip(h.headerLen);
  // The declared size, checked against maxBytes above; pages are committed only as data arrives.
  const payload = new Uint8Array(h.expected);
  const got = await input.readInto(payload);
  if (got < h.expected) throw sizeMismatch(h, got, true);
  if (!(await input.atEnd())) {
    const total = h.headerLen + h.expected;
    if (gz) {
      throw new IdxFormatError(
        `gzipped data inflates past ${total} bytes, more than its IDX header declares; the file has trailing bytes or the header is wrong.`,
      );
    }
    const extra = await input.skip(TRAILING_PROBE + 1);
    if (extra <= TRAILING_PROBE) throw sizeMismatch(h, h.expected + extra, false);
    throw new IdxFormatError(
      `IDX data size mismatch: dims [${h.dims.join(', ')}] of ${h.type} need ${h.expected} bytes but more than ` +
        `${h.expected + TRAILING_PROBE} follow the header; the file has trailing bytes or the header is wrong.`,
    );
  }
  if (h.type === 'u8') return { type: 'u8', dims: h.dims, data: payload };
  return { ...readElements(h.type, h.size, payload, h.expected / h.size), dims: h.dims } as IdxData;
}
