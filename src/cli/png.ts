// Writes a tile grid (src/data/tiles.ts) as an 8-bit grayscale PNG via fast-png.
import { encode } from 'fast-png';
import type { GrayImage } from '../index';
import { writeFileAtomic } from './atomic-write';

/** PNG bytes of a grayscale grid. */
export function encodePngGrid(grid: GrayImage): Uint8Array {
  if (grid.data.length !== grid.width * grid.height) {
    throw new RangeError(`grid is ${grid.width}x${grid.height} but has ${grid.data.length} bytes.`);
  }
  return encode({ width: grid.width, height: grid.height, data: grid.data, channels: 1, depth: 8 });
}

/** Writes a grayscale grid to `path` as PNG, atomically. */
export async function writePngGrid(path: string, grid: GrayImage): Promise<void> {
  await writeFileAtomic(path, encodePngGrid(grid), path);
}
