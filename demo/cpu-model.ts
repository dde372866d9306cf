// The model's mean-field reconstruction computed on the CPU from weights read
// back from the GPU. The page uses it once per model, for the first frame: the
// initial model's reconstructions are on screen before any kernel is compiled
// (on a software adapter the GPU's first reconstruction can take many seconds).
// Same math as RBM.reconstruct: σ(σ(vW + c)Wᵀ + b), or σ(vW + c)Wᵀ + b with
// Gaussian visible units.
import type { RBMParamsF32 } from '../src/index';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Reconstructs each row of `input` ([rows, V]) with W [V, H] (row-major), b [V], c [H]. */
export function reconstructOnCpu(p: RBMParamsF32, input: Float32Array, V: number, H: number, gaussian: boolean): Float32Array {
  const rows = input.length / V;
  const out = new Float32Array(rows * V);
  const h = new Float32Array(H);
  const { W, b, c } = p;
  for (let r = 0; r < rows; r++) {
    const v = input.subarray(r * V, (r + 1) * V);
    h.set(c);
    for (let i = 0; i < V; i++) {
      const x = v[i];
      if (x === 0) continue; // digits are mostly background
      const row = i * H;
      for (let j = 0; j < H; j++) h[j] += x * W[row + j];
    }
    for (let j = 0; j < H; j++) h[j] = sigmoid(h[j]);
    const o = r * V;
    for (let i = 0; i < V; i++) {
      const row = i * H;
      let a = b[i];
      for (let j = 0; j < H; j++) a += W[row + j] * h[j];
      out[o + i] = gaussian ? a : sigmoid(a);
    }
  }
  return out;
}
