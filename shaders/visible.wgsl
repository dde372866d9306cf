// visible: Pv = E[v | h] of the visible layer, V ~ p(v | h) — the transposed direction.
// The unit type is a linked module (shaders/units/<type>.wgsl: unit_mean, unit_sample):
// Bernoulli units give σ(x) and a 0/1 draw, Gaussian ones x and x + N(0, 1).
//
//   x[m, n] = Σ_k hid_sample[(in_offset + m)·K + k] · W[n·K + k] + b[n]
//   vis_prob[e] = unit_mean(x[m, n])
//   vis[e]      = unit_sample(vis_prob[e], seed, step, e, phase)
//   with e = (out_offset + m)·N + n.
//   flags: WRITE_PROB and/or WRITE_SAMPLE select which outputs are stored
//   (a reconstruction for metrics writes only probabilities; later Gibbs
//   steps of CD-k write only samples, keeping the first reconstruction).
//
// Layout (row-major f32): hid_sample [R, K], W [N, K] (N = visible,
// K = hidden: the model's own W, read transposed), b [N], vis and vis_prob
// [R, N]. counter[0] = the update step keying the RNG.
// GEMM from gemm.wgsl; W is staged walking k, its contiguous index.

struct Dims {
  rows: u32,
  in_offset: u32,
  out_offset: u32,
  n_in: u32,
  n_out: u32,
  phase: u32,
  seed: u32,
  flags: u32,
}

// Flag bits of dims.flags: VISIBLE_FLAGS in src/gpu/kernels.ts (test/gpu/bindings.test.ts checks they agree).
const WRITE_PROB: u32 = 1u;
const WRITE_SAMPLE: u32 = 2u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> hid_sample: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> vis_prob: array<f32>;
@group(0) @binding(6) var<storage, read_write> vis: array<f32>;

const A_CONTIGUOUS_IN_K: bool = true;
const B_CONTIGUOUS_IN_K: bool = true;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.rows, dims.n_out, dims.n_in);
}

fn load_a(m: u32, k: u32) -> f32 {
  return hid_sample[(dims.in_offset + m) * dims.n_in + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  return W[n * dims.n_in + k];
}

fn epilogue(m: u32, n: u32, x: f32) {
  let e = (dims.out_offset + m) * dims.n_out + n;
  let p = unit_mean(x + b[n]);
  if ((dims.flags & WRITE_PROB) != 0u) {
    vis_prob[e] = p;
  }
  if ((dims.flags & WRITE_SAMPLE) != 0u) {
    vis[e] = unit_sample(p, dims.seed, counter[0], e, dims.phase);
  }
}
