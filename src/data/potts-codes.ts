// Integer-coded categorical data (Potts visible units): [n, L] codes 0..q−1,
// one per site, and the one-hot rows [n, L·q] the model trains on (unit
// site·q + state). Codes come from a 2-D .npy array of integers (any integer
// dtype, or floats holding integers) or from aligned FASTA (./fasta.ts).
// Environment-neutral.
import type { NpyData } from './npy';

/** [n, L] integer codes 0..q−1 → [n, L·q] one-hot rows (float32); the error names row, site, value and the fix. */
export function oneHotFromCodes(codes: ArrayLike<number>, sites: number, q: number): Float32Array {
  if (!Number.isInteger(q) || q < 2) throw new RangeError(`states must be an integer ≥ 2, got ${q}`);
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError(`sites must be a positive integer, got ${sites}`);
  if (codes.length === 0 || codes.length % sites !== 0) {
    throw new RangeError(`${codes.length} codes are not a positive multiple of ${sites} sites`);
  }
  const out = new Float32Array(codes.length * q);
  for (let e = 0; e < codes.length; e++) {
    const c = codes[e];
    if (!Number.isInteger(c) || c < 0 || c >= q) {
      throw new RangeError(
        `code ${c} at row ${Math.floor(e / sites)}, site ${e % sites} is not an integer in 0..${q - 1}: ` +
          `raise --states to at least ${Number.isInteger(c) && c >= q ? c + 1 : q} or fix the data`,
      );
    }
    out[e * q + c] = 1;
  }
  return out;
}

/** [n, L·q] one-hot rows → [n, L] codes: the state of each site (exactly one 1 per site, else an error naming it). */
export function codesFromOneHot(states: ArrayLike<number>, visible: number, q: number): Uint8Array {
  if (visible % q !== 0 || states.length % visible !== 0) {
    throw new RangeError(`${states.length} values are not rows of ${visible} visible units in sites of ${q} states`);
  }
  const out = new Uint8Array(states.length / q);
  for (let g = 0; g < out.length; g++) {
    let found = -1;
    for (let t = 0; t < q; t++) {
      const x = states[g * q + t];
      if (x === 1 && found < 0) found = t;
      else if (x !== 0) found = -2;
    }
    if (found < 0) {
      const row = Math.floor((g * q) / visible);
      throw new RangeError(`states are not one-hot at row ${row}, site ${g % (visible / q)}: each site needs exactly one 1 among its ${q} units`);
    }
    out[g] = found;
  }
  return out;
}

/** The largest code in a list (for a states count to suggest). */
export function maxCode(codes: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < codes.length; i++) m = Math.max(m, codes[i]);
  return m;
}

/**
 * The codes of a 2-D .npy array read with `integers: true`: [rows, columns]
 * values that must be integers (floats holding integers are taken too).
 */
export function codesFromNpy(npy: NpyData, what = 'the .npy array'): { rows: number; sites: number; codes: Float32Array } {
  // uint8 and bool arrays arrive as bytes (u8 means intensities byte/255 to the image readers): their bytes are the codes.
  const src = npy.source;
  const codes = src instanceof Float32Array ? src : Float32Array.from(src.bytes);
  for (let e = 0; e < codes.length; e++) {
    if (!Number.isInteger(codes[e]) || codes[e] < 0) {
      throw new RangeError(
        `${what} holds ${codes[e]} at row ${Math.floor(e / npy.columns)}, column ${e % npy.columns}; ` +
          'Potts data are integer codes 0..q−1, one column per site (np.save(path, codes.astype(np.int32)))',
      );
    }
  }
  return { rows: npy.rows, sites: npy.columns, codes };
}
