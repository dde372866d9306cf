// The .npy writer: exact header bytes, 64-byte alignment, data round trips
// through the project's reader, and (where NumPy is installed) numpy.load.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npyBytes, npyHeader } from '../../src/data/npy-write';
import { readNpy } from '../../src/data/npy';

const text = (b: Uint8Array): string => String.fromCharCode(...b);

function headerOf(bytes: Uint8Array): { version: [number, number]; length: number; header: string } {
  const length = bytes[8] | (bytes[9] << 8);
  return { version: [bytes[6], bytes[7]], length, header: text(bytes.subarray(10, 10 + length)) };
}

describe('npyBytes', () => {
  it('writes the magic, version 1.0 and the dict header padded to 64 bytes', () => {
    const data = Float32Array.from({ length: 6 }, (_, i) => i / 4 - 0.5);
    const bytes = npyBytes(data, [2, 3]);
    expect(Array.from(bytes.subarray(0, 6))).toEqual([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0))]);
    const h = headerOf(bytes);
    expect(h.version).toEqual([1, 0]);
    expect((10 + h.length) % 64).toBe(0);
    expect(h.header.endsWith('\n')).toBe(true);
    expect(h.header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(h.header.slice(0, -1)).toMatch(/^[^\n]*$/);
    expect(bytes.length).toBe(10 + h.length + 24);
    // Little-endian float32 data right after the header.
    const view = new DataView(bytes.buffer, bytes.byteOffset + 10 + h.length);
    for (let i = 0; i < 6; i++) expect(view.getFloat32(4 * i, true)).toBe(data[i]);
  });

  it('writes 1-D shapes as (N,), uint8 as |u1, and empty arrays', () => {
    expect(npyHeader('<f4', [5]).trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }");
    const labels = npyBytes(Uint8Array.of(3, 1, 4), [3]);
    const h = headerOf(labels);
    expect(h.header).toContain("'descr': '|u1'");
    expect(Array.from(labels.subarray(10 + h.length))).toEqual([3, 1, 4]);
    expect(headerOf(npyBytes(new Float32Array(0), [0, 7])).header).toContain("'shape': (0, 7)");
  });

  it('keeps the data 64-byte aligned for every header length', () => {
    for (let n = 1; n < 2e6; n = n * 7 + 3) {
      const h = npyHeader('<f4', [n, 13]);
      expect((10 + h.length) % 64).toBe(0);
    }
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => npyBytes(new Float32Array(6), [4, 2])).toThrow(/shape \(4, 2\) holds 8 values but the array has 6/);
    expect(() => npyBytes(new Float32Array(6), [-2, -3])).toThrow(/non-negative integers/);
    expect(() => npyBytes(new Float64Array(2) as unknown as Float32Array, [2])).toThrow(/Float32Array/);
  });

  it('round-trips through the project reader', async () => {
    const data = Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i) * 1e3);
    const npy = await readNpy(npyBytes(data, [7, 5]));
    expect([npy.rows, npy.columns]).toEqual([7, 5]);
    expect(npy.header.descr).toBe('<f4');
    expect(npy.source).toEqual(data);
  });

  const numpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!numpy)('loads in NumPy with the same shape and values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'npy-write-'));
    try {
      const data = Float32Array.from({ length: 3 * 4 }, (_, i) => i * 0.1 - 0.35);
      const path = join(dir, 'a.npy');
      await writeFile(path, npyBytes(data, [3, 4]));
      const out = execFileSync('python3', [
        '-c',
        'import sys, json, numpy as np; a = np.load(sys.argv[1]); print(json.dumps([str(a.dtype), list(a.shape), [float(v) for v in a.ravel()]]))',
        path,
      ]).toString();
      const [dtype, shape, values] = JSON.parse(out) as [string, number[], number[]];
      expect(dtype).toBe('float32');
      expect(shape).toEqual([3, 4]);
      expect(values).toEqual(Array.from(data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
