// pt_visible: the visible pass of one parallel-tempering sweep, every replica at once.
//
//   vis_prob[q, i] = σ(β_r · (Σ_j hid[q·H + j] · W[i·H + j] + b[i]))
//   vis[q, i]      = 1 if uniform01(seed, step, q·V + i, phase) < vis_prob[q, i] else 0
//   with r = q / chains the replica of row q and step = counter[0].
//
// Layout (row-major f32): hid [R, H], W [V, H] (read transposed), b [V],
// betas [replicas], vis and vis_prob [R, V], R = replicas·chains rows stacked
// by replica; counter [4] u32. GEMM from gemm.wgsl (appended).

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
@group(0) @binding(3) var<storage, read> hid: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read_write> vis_prob: array<f32>;
@group(0) @binding(7) var<storage, read_write> vis: array<f32>;

const A_CONTIGUOUS_IN_K: bool = true;
const B_CONTIGUOUS_IN_K: bool = true;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.rows, dims.n_out, dims.n_in);
}

fn load_a(m: u32, k: u32) -> f32 {
  return hid[m * dims.n_in + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  return W[n * dims.n_in + k];
}

fn epilogue(m: u32, n: u32, acc: f32) {
  let e = m * dims.n_out + n;
  let p = sigmoid(betas[m / dims.chains] * (acc + b[n]));
  vis_prob[e] = p;
  vis[e] = select(0.0, 1.0, uniform01(dims.seed, counter[0], e, dims.phase) < p);
}
