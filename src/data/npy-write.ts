// NumPy .npy writer, format version 1.0 (numpy.lib.format), for what the
// engine hands to other tools: features (float32) and labels (uint8).
// Environment-neutral: returns the file's bytes; the caller writes them.
//
// Layout: the magic "\x93NUMPY", version bytes 1 0, the header length as a
// little-endian uint16, then the header, a Python dict literal in ASCII
//   {'descr': '<f4', 'fortran_order': False, 'shape': (N, H), }
// padded with spaces so that magic + version + length + header is a multiple
// of 64 bytes and ending in '\n'; then the elements in C (row-major) order,
// little-endian.

/** What the writer stores: float32 ('<f4') or uint8 ('|u1'). */
export type NpyWritable = Float32Array | Uint8Array;

/** The .npy magic string's bytes: \x93NUMPY. */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** Magic (6), version (2) and the uint16 header length (2). */
const PREAMBLE_BYTES = 10;
/** numpy aligns the data to this many bytes. */
const ALIGN = 64;
/** Version 1.0 stores the header length in a uint16. */
const MAX_HEADER_V1 = 0xffff;

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The dtype descr numpy writes for an array of this kind. */
export function npyDescr(data: NpyWritable): '<f4' | '|u1' {
  return data instanceof Float32Array ? '<f4' : '|u1';
}

/** A shape as a Python tuple: (), (N,), (N, H). */
function shapeTuple(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The header (dict literal, padding and '\n') for `descr` and `shape`; its length makes the data start 64-aligned. */
export function npyHeader(descr: string, shape: readonly number[]): string {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  // One byte for the final newline; pad with spaces up to the next multiple of ALIGN.
  const unpadded = PREAMBLE_BYTES + dict.length + 1;
  const padding = (ALIGN - (unpadded % ALIGN)) % ALIGN;
  return dict + ' '.repeat(padding) + '\n';
}

/**
 * The bytes of a version 1.0 .npy file holding `data` with `shape` (C order).
 * Throws a RangeError if the shape is not a list of non-negative integers
 * whose product is data.length.
 */
export function npyBytes(data: NpyWritable, shape: readonly number[]): Uint8Array<ArrayBuffer> {
  if (!(data instanceof Float32Array) && !(data instanceof Uint8Array)) {
    throw new RangeError('npyBytes writes a Float32Array (<f4) or a Uint8Array (|u1)');
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new RangeError(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((p, d) => p * d, 1);
  if (count !== data.length) {
    throw new RangeError(`shape (${shape.join(', ')}) holds ${count} values but the array has ${data.length}`);
  }
  const header = npyHeader(npyDescr(data), shape);
  if (header.length > MAX_HEADER_V1) throw new RangeError(`the .npy header would be ${header.length} bytes, more than version 1.0 allows`);
  const dataStart = PREAMBLE_BYTES + header.length;
  const out = new Uint8Array(dataStart + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[PREAMBLE_BYTES + i] = header.charCodeAt(i);
  if (data instanceof Uint8Array || LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataStart);
  } else {
    const view = new DataView(out.buffer, dataStart);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  }
  return out;
}
