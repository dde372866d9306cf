// pt_hidden: the hidden pass of one parallel-tempering sweep, every replica at once.
//
// Replica r samples the tempered RBM p_β(v, h) ∝ exp(−β_r E(v, h)), whose
// conditionals are those of the RBM (β_r W, β_r b, β_r c):
//
//   x[q, j] = Σ_i vis[q·V + i] · W[i·H + j] + c[j]          (stored: pt_swap reuses it)
//   hid[q, j] = 1 if uniform01(seed, step, q·H + j, phase) < σ(β_r · x[q, j]) else 0
//   with r = q / chains the replica of row q and step = counter[0].
//
// Layout (row-major f32): vis [R, V] with R = replicas·chains rows stacked by
// replica (rows [r·chains, (r+1)·chains) are replica r), W [V, H], c [H],
// betas [replicas], x and hid [R, H]; counter [4] u32 (word 0 = sweep step).
// One GEMM over all R rows (gemm.wgsl, appended): β scales the epilogue, so no
// scaled copy of W is ever made and the weights can change between sweeps
// (training) without any extra pass. Element indices differ between
// replicas, so one seed and phase give every replica its own random numbers.

struct Dims {
  rows: u32,
  chains: u32,
  n_in: u32,
  n_out: u32,
  seed: u32,
  phase: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> betas: array<f32>;
@group(0) @binding(3) var<storage, read> vis: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> c: array<f32>;
@group(0) @binding(6) var<storage, read_write> x_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> hid: array<f32>;

const A_CONTIGUOUS_IN_K: bool = true;
const B_CONTIGUOUS_IN_K: bool = false;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.rows, dims.n_out, dims.n_in);
}

fn load_a(m: u32, k: u32) -> f32 {
  return vis[m * dims.n_in + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  return W[k * dims.n_out + n];
}

fn epilogue(m: u32, n: u32, acc: f32) {
  let e = m * dims.n_out + n;
  let x = acc + c[n];
  x_out[e] = x;
  let p = sigmoid(betas[m / dims.chains] * x);
  hid[e] = select(0.0, 1.0, uniform01(dims.seed, counter[0], e, dims.phase) < p);
}
