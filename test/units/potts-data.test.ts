// Integer-coded 2-D .npy input for Potts layers: every integer dtype (with integers: true),
// uint8 codes kept as codes (not intensities), floats holding integers; refusals name the fix.
import { describe, expect, it } from 'vitest';
import { NpyFormatError, readNpy } from '../../src/data/npy';
import { npyHeader } from '../../src/data/npy-write';
import { codesFromNpy } from '../../src/data/potts-codes';

function npy(descr: string, shape: [number, number], data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(npyHeader(descr, shape));
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(header, 10);
  out.set(data, 10 + header.length);
  return out;
}

const CODES = [0, 3, 20, 1, 2, 7];

function encode(size: number, set: (v: DataView, at: number, x: number) => void): Uint8Array {
  const b = new Uint8Array(CODES.length * size);
  const v = new DataView(b.buffer);
  CODES.forEach((x, i) => set(v, i * size, x));
  return b;
}

describe('integer-coded .npy', () => {
  it.each([
    ['|i1', 1, (v: DataView, at: number, x: number) => v.setInt8(at, x)],
    ['<i2', 2, (v: DataView, at: number, x: number) => v.setInt16(at, x, true)],
    ['>i4', 4, (v: DataView, at: number, x: number) => v.setInt32(at, x, false)],
    ['<i8', 8, (v: DataView, at: number, x: number) => v.setBigInt64(at, BigInt(x), true)],
    ['<u2', 2, (v: DataView, at: number, x: number) => v.setUint16(at, x, true)],
    ['<u4', 4, (v: DataView, at: number, x: number) => v.setUint32(at, x, true)],
    ['>u8', 8, (v: DataView, at: number, x: number) => v.setBigUint64(at, BigInt(x), false)],
    ['|u1', 1, (v: DataView, at: number, x: number) => v.setUint8(at, x)],
    ['<f8', 8, (v: DataView, at: number, x: number) => v.setFloat64(at, x, true)],
  ])('%s reads as the codes themselves', async (descr, size, set) => {
    const data = await readNpy(npy(descr, [2, 3], encode(size, set)), { integers: true });
    const c = codesFromNpy(data);
    expect(c.rows).toBe(2);
    expect(c.sites).toBe(3);
    expect(Array.from(c.codes)).toEqual(CODES);
  });

  it('without integers: true the image readers still refuse int64, naming the supported types', async () => {
    await expect(readNpy(npy('<i8', [2, 3], new Uint8Array(48)))).rejects.toThrow(/dtype '<i8' \(int64\) is not supported/);
  });

  it('refuses integers float32 cannot hold, negative codes and fractions', async () => {
    const big = new Uint8Array(8 * 6);
    new DataView(big.buffer).setBigInt64(8 * 4, 2n ** 40n, true);
    await expect(readNpy(npy('<i8', [2, 3], big), { integers: true })).rejects.toThrow(NpyFormatError);
    await expect(readNpy(npy('<i8', [2, 3], big), { integers: true })).rejects.toThrow(/1099511627776 at row 1, column 1 is beyond ±2\^24/);
    const neg = await readNpy(npy('<i4', [2, 3], encode(4, (v, at, x) => v.setInt32(at, at === 8 ? -1 : x, true))), { integers: true });
    expect(() => codesFromNpy(neg)).toThrow(/holds -1 at row 0, column 2; Potts data are integer codes 0..q−1/);
    const frac = await readNpy(npy('<f4', [2, 3], encode(4, (v, at, x) => v.setFloat32(at, x + 0.5, true))), { integers: true });
    expect(() => codesFromNpy(frac)).toThrow(/holds 0.5 at row 0, column 0/);
  });
});

describe('the Potts model file', () => {
  it('round-trips "visible": "potts" with "visible_states", and refuses contradictions naming the key', async () => {
    const { rbmToSafetensors, rbmFromSafetensors } = await import('../../src/rbm/model-file');
    const W = new Float32Array(6 * 2);
    const b = new Float32Array(6);
    const c = new Float32Array(2);
    const f = rbmFromSafetensors(rbmToSafetensors({ visible: 6, hidden: 2, W, b, c, visibleType: 'potts', visibleStates: 3 }));
    expect(f.visibleType).toBe('potts');
    expect(f.visibleStates).toBe(3);
    expect(f.metadata.visible_states).toBe('3');
    expect(() => rbmToSafetensors({ visible: 6, hidden: 2, W, b, c, visibleType: 'potts' })).toThrow(/"visible_states" \(the states per site q\) is missing/);
    expect(() => rbmToSafetensors({ visible: 6, hidden: 2, W, b, c, visibleType: 'potts', visibleStates: 4 })).toThrow(/6 visible units, not a multiple of 4/);
    expect(() => rbmToSafetensors({ visible: 6, hidden: 2, W, b, c, visibleType: 'bernoulli', metadata: { visible_states: '3' } })).toThrow(/only Potts models carry/);
    expect(() => rbmToSafetensors({ visible: 6, hidden: 2, W, b, c, visibleType: 'potts', metadata: { visible_states: 'x' } })).toThrow(/"visible_states" is "x"; expected an integer in \[2, 256\]/);
    // Bernoulli files stay as they were: no visible_states key.
    expect(rbmFromSafetensors(rbmToSafetensors({ visible: 6, hidden: 2, W, b, c })).visibleStates).toBeUndefined();
  });
});
