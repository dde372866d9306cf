// Evaluation numbers the CLI prints, all on the GPU and all on thresholded
// (deterministic) binary data, so two runs or two models compare exactly.
// Work is split into row chunks to stay under the device's buffer limits.
import { binarizeThreshold, type RBM } from '../index';

/** Rows per GPU call: 8,192 MNIST rows are 25 MB, far under every binding limit. */
const CHUNK_ROWS = 8192;

/** The binary form the metrics use: pixel > 0.5. */
export function thresholded(pixels: Float32Array): Float32Array {
  return binarizeThreshold(pixels, 0.5);
}

async function sumOverChunks(rows: Float32Array, V: number, f: (chunk: Float32Array) => Promise<number>): Promise<number> {
  let sum = 0;
  for (let at = 0; at < rows.length; at += CHUNK_ROWS * V) sum += await f(rows.subarray(at, at + CHUNK_ROWS * V));
  return sum;
}

// meanFreeEnergy and freeEnergyGap are the library's (src/rbm/monitors.ts): one
// definition, whose numbers are the ones this CLI has always printed.

/** Mean per-pixel squared error of the mean-field reconstructions σ(σ(vW + c)Wᵀ + b). */
export async function reconstructionError(model: RBM, binary: Float32Array): Promise<number> {
  const V = model.visible;
  const sum = await sumOverChunks(binary, V, async (chunk) => {
    const r = await model.reconstruct(chunk);
    let s = 0;
    for (let i = 0; i < chunk.length; i++) s += (r[i] - chunk[i]) ** 2;
    return s;
  });
  return sum / binary.length;
}
