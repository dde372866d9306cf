// ais_hidden: one AIS step's hidden pass for R parallel runs.
//
//   x[r, j]   = Σ_i vis[r·V + i] · W[i·H + j] + c[j]        (stored: ais_weight reuses it)
//   h[r, j]   = 1 if uniform01(seed, k, r·H + j, AIS_HIDDEN_PHASE) < σ(β_k · x[r, j]) else 0
//   with k = counter[0] (the β index, advanced on the GPU) and β_k = betas[k].
// p_β(v, h) ∝ exp((1 − β) b_Aᵀv + β (vᵀWh + bᵀv + cᵀh)), so h_j | v ~ σ(β (vᵀw_j + c_j)).
//
// Layout (row-major f32): vis [R, V], W [V, H], c [H], x and h [R, H];
// betas [K + 1] f32; counter [1] u32.
// The GEMM is gemm.wgsl's (appended); the epilogue stores x and draws h.

struct Dims {
  rows: u32,
  n_in: u32,
  n_out: u32,
  seed: u32,
}

const AIS_HIDDEN_PHASE: u32 = 0xA150u;

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
  let step = counter[0];
  let e = m * dims.n_out + n;
  let x = acc + c[n];
  x_out[e] = x;
  hid[e] = select(0.0, 1.0, uniform01(dims.seed, step, e, AIS_HIDDEN_PHASE) < sigmoid(betas[step] * x));
}
