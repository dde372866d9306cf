// ais_visible: one AIS step's visible pass for R parallel runs.
//
//   y[r, i]   = Σ_j h[r·H + j] · W[i·H + j] + b[i]
//   vis[r, i] = 1 if uniform01(seed, k, r·V + i, AIS_VISIBLE_PHASE) < σ((1 − β_k)·b_A[i] + β_k·y[r, i]) else 0
//   with k = counter[0] and β_k = betas[k]. At k = 0 (β_0 = 0) this draws the
//   base-rate model's exact sample v ~ σ(b_A), whatever h holds.
// Gaussian visible units (gaussian = 1): the same mean, unit variance:
//   vis[r, i] = (1 − β_k)·b_A[i] + β_k·y[r, i] + normal01(seed, k, r·V + i, AIS_VISIBLE_PHASE)
//   (the base model is then N(b_A, I)).
//
// Layout (row-major f32): h [R, H], W [V, H] (read transposed), b and b_A [V],
// vis [R, V]; betas [K + 1] f32; counter [1] u32.
// The GEMM is gemm.wgsl's (appended); the epilogue mixes the biases and samples.

struct Dims {
  rows: u32,
  n_in: u32,
  n_out: u32,
  seed: u32,
  gaussian: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

const AIS_VISIBLE_PHASE: u32 = 0xA151u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> betas: array<f32>;
@group(0) @binding(3) var<storage, read> hid: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read> b_base: array<f32>;
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
  let step = counter[0];
  let beta = betas[step];
  let e = m * dims.n_out + n;
  let y = (1.0 - beta) * b_base[n] + beta * (acc + b[n]);
  if (dims.gaussian != 0u) {
    vis[e] = y + normal01(dims.seed, step, e, AIS_VISIBLE_PHASE);
  } else {
    vis[e] = select(0.0, 1.0, uniform01(dims.seed, step, e, AIS_VISIBLE_PHASE) < sigmoid(y));
  }
}
