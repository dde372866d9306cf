// Evaluation numbers the CLI prints, all on the GPU and all on thresholded
// (deterministic) binary data, so two runs or two models compare exactly.
// Work is split into row chunks to stay under the device's buffer limits.
import { binarizeThreshold } from '../data/binarize';
import type { RBM } from '../rbm/model';

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

/** Mean F(v) over the rows of `binary` ([n, V], n ≥ 1). */
export async function meanFreeEnergy(model: RBM, binary: Float32Array): Promise<number> {
  const V = model.visible;
  const sum = await sumOverChunks(binary, V, async (chunk) => {
    let s = 0;
    for (const f of await model.freeEnergy(chunk)) s += f;
    return s;
  });
  return sum / (binary.length / V);
}

/**
 * mean F(test) − mean F(train) over equally many rows of each (the first
 * min(n_train, n_test)). Near 0 when the model generalises; it grows as the
 * model overfits, because the training rows' free energy drops further.
 */
export async function freeEnergyGap(model: RBM, trainBinary: Float32Array, testBinary: Float32Array): Promise<number> {
  const V = model.visible;
  const n = Math.min(trainBinary.length, testBinary.length) / V;
  const [test, train] = [testBinary, trainBinary].map((d) => d.subarray(0, n * V));
  return (await meanFreeEnergy(model, test)) - (await meanFreeEnergy(model, train));
}

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
