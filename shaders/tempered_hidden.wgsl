// tempered_hidden: the hidden pass of a tempered RBM p_β(v, h) ∝ exp(−β E(v, h)),
// for parallel tempering (β per replica) and AIS (β per step):
//
//   x[q, j]   = Σ_i vis[q·V + i] · W[i·H + j] + c[j]              (stored: pt_swap / ais_weight reuse it)
//   hid[q, j] = 1 if uniform01(seed, step, q·H + j, phase) < σ(β_q · x[q, j]) else 0
//   step = counter[0];  β_q = betas[q / chains] when chains > 0 (PT: rows are
//   stacked by replica, `chains` rows each), betas[step] when chains = 0 (AIS:
//   every run at the step's β; AIS's base-rate term lives only on the visible side).
//
// Layout (row-major f32): vis [R, V], W [V, H], c [H], x and hid [R, H];
// betas f32; counter u32 (word 0 = the sweep or β step).
// One GEMM (gemm.wgsl, appended): β scales the epilogue, so no scaled copy of W is made.
// Dims and tempered_beta_index come from tempered.wgsl (linked before this file).

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
  let beta = betas[tempered_beta_index(m, step, dims.chains)];
  hid[e] = select(0.0, 1.0, uniform01(dims.seed, step, e, dims.phase) < sigmoid(beta * x));
}
