// hidden: P = σ(V·W + c), H ~ Bernoulli(P), for `rows` rows of a batch.
//
//   x[m, n] = Σ_k vis[(row_offset + m)·K + k] · W[k·N + n] + c[n]
//   hid_prob[e]   = σ(x[m, n])
//   hid_sample[e] = 1 if uniform01(seed, step, e, phase) < hid_prob[e] else 0
//   with e = (row_offset + m)·N + n, the element's index in the stacked buffer.
//
// Layout (row-major f32): vis [R, K], W [K, N] (K = visible, N = hidden),
// c [N], hid_prob and hid_sample [R, N]; R = rows of the stacked batch buffer.
// counter[0] = the update step that keys the RNG (advanced on the GPU).
//
// The GEMM is gemm.wgsl's tiled, register-blocked loop; bias, sigmoid and
// sampling are fused into its epilogue, so x never touches memory.

struct Dims {
  rows: u32,
  row_offset: u32,
  n_in: u32,
  n_out: u32,
  phase: u32,
  seed: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> hid_prob: array<f32>;
@group(0) @binding(6) var<storage, read_write> hid_sample: array<f32>;

const A_CONTIGUOUS_IN_K: bool = true;
const B_CONTIGUOUS_IN_K: bool = false;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.rows, dims.n_out, dims.n_in);
}

fn load_a(m: u32, k: u32) -> f32 {
  return vis[(dims.row_offset + m) * dims.n_in + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  return W[k * dims.n_out + n];
}

fn epilogue(m: u32, n: u32, x: f32) {
  let e = (dims.row_offset + m) * dims.n_out + n;
  let p = sigmoid(x + c[n]);
  hid_prob[e] = p;
  hid_sample[e] = select(0.0, 1.0, uniform01(dims.seed, counter[0], e, dims.phase) < p);
}
