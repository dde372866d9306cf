import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { encodePngGrid, writePngGrid } from '../../src/cli/png';
import { tileGrid } from '../../src/data/tiles';

describe('tileGrid', () => {
  it('lays out count tiles with padding between and around', () => {
    const g = tileGrid(new Float32Array(10 * 28 * 28), 10, 28, 28);
    expect([g.width, g.height]).toEqual([4 * 29 + 1, 3 * 29 + 1]); // 4 cols (ceil sqrt 10), 3 rows, pad 1
    expect(g.data.length).toBe(g.width * g.height);
    const h = tileGrid(new Float32Array(6 * 4 * 3), 6, 4, 3, { cols: 2, pad: 0 });
    expect([h.width, h.height]).toEqual([8, 9]);
    const one = tileGrid(new Float32Array(6), 1, 3, 2, { cols: 5, pad: 2 });
    expect([one.width, one.height]).toEqual([7, 6]); // cols capped at count
  });

  it("maps [0,1] to 0..255 with 'none', clamping and placing tiles row-major", () => {
    const px = new Float32Array([0, 0.5, 1, 2, -1, NaN, 0.25, 0.75]); // 2 tiles of 2x2
    const g = tileGrid(px, 2, 2, 2, { cols: 2, pad: 1, background: 9 });
    expect(g.width).toBe(7);
    const row = (y: number) => Array.from(g.data.subarray(y * 7, y * 7 + 7));
    expect(row(0)).toEqual([9, 9, 9, 9, 9, 9, 9]);
    expect(row(1)).toEqual([9, 0, 128, 9, 0, 0, 9]);
    expect(row(2)).toEqual([9, 255, 255, 9, 64, 191, 9]);
    expect(row(3)).toEqual([9, 9, 9, 9, 9, 9, 9]);
  });

  it("stretches each tile's min..max to 0..255 with 'each'; flat tiles are mid-gray", () => {
    const px = new Float32Array([-2, 0, 2, 1, 5, 5, 5, 5]);
    const g = tileGrid(px, 2, 4, 1, { cols: 1, pad: 0, normalize: 'each' });
    expect(Array.from(g.data)).toEqual([0, 128, 255, 191, 128, 128, 128, 128]);
  });

  it('rejects bad arguments', () => {
    expect(() => tileGrid(new Float32Array(3), 1, 2, 2)).toThrow(/need 4 values, got 3/);
    expect(() => tileGrid(new Float32Array(4), 0, 2, 2)).toThrow(/count must be an integer >= 1/);
    expect(() => tileGrid(new Float32Array(4), 1, 2, 2, { pad: -1 })).toThrow(/pad/);
  });

  it('writes a grayscale PNG that decodes to the same pixels', async () => {
    const g = tileGrid(Float32Array.from({ length: 3 * 25 }, (_, i) => (i % 7) / 6), 3, 5, 5, { pad: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'rbm-png-'));
    try {
      const path = join(dir, 'grid.png');
      await writePngGrid(path, g);
      const png = decode(readFileSync(path));
      expect([png.width, png.height, png.channels, png.depth]).toEqual([g.width, g.height, 1, 8]);
      expect(Array.from(png.data)).toEqual(Array.from(g.data));
      expect(() => encodePngGrid({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(/2x2 but has 3 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
