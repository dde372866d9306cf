// The PNGs the CLI writes: filters (weight columns as tiles) and Gibbs
// samples, laid out by src/data/tiles.ts and encoded by ./png.ts.
import { readImageShape, tileGrid } from '../index';
import type { ImageShape, RBM } from '../index';
import { writePngGrid } from './png';

export type { ImageShape };

/**
 * The image shape of a model's visible layer: its metadata (written by
 * `train`), else a square when V is one, else a 1-pixel-high strip.
 */
export function imageShape(metadata: Record<string, string>, visible: number): ImageShape {
  const recorded = readImageShape(metadata, visible);
  if (recorded) return recorded;
  const side = Math.round(Math.sqrt(visible));
  return side * side === visible ? { width: side, height: side } : { width: visible, height: 1 };
}

/** The first `count` hidden units' weight columns W[:, j], as [count, V] rows. */
export function weightColumns(W: Float32Array, V: number, H: number, count: number): Float32Array {
  const out = new Float32Array(count * V);
  for (let j = 0; j < count; j++) for (let i = 0; i < V; i++) out[j * V + i] = W[i * H + j];
  return out;
}

/** Writes up to `max` filters, each stretched to its own min..max. Returns how many. */
export async function writeFiltersPng(path: string, model: RBM, shape: ImageShape, max = 100): Promise<number> {
  const { W } = await model.readParams();
  const count = Math.min(max, model.hidden);
  const tiles = weightColumns(W, model.visible, model.hidden, count);
  await writePngGrid(path, tileGrid(tiles, count, shape.width, shape.height, { normalize: 'each' }));
  return count;
}

/** Writes [rows, V] probabilities in [0,1] as tiles, `cols` per row. */
export async function writeTilesPng(path: string, rows: Float32Array, count: number, shape: ImageShape, cols?: number): Promise<void> {
  await writePngGrid(path, tileGrid(rows, count, shape.width, shape.height, { normalize: 'none', cols }));
}
