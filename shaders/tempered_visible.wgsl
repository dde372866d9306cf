// tempered_visible: the visible pass of a tempered RBM, for parallel tempering
// (β per replica) and AIS (β per step, mixed with a base-rate model):
//
//   y[q, i]        = (1 − β_q)·b_base[i] + β_q · (Σ_j hid[q·H + j] · W[i·H + j] + b[i])
//   vis_prob[q, i] = unit_mean(y[q, i]),  vis[q, i] = unit_sample(vis_prob[q, i], seed, step, q·V + i, phase)
//   step = counter[0];  β_q = betas[q / chains] when chains > 0 (PT: rows stacked
//   by replica, `chains` rows each; b_base = 0, so y = β_q·(hWᵀ + b)), betas[step]
//   when chains = 0 (AIS: every run at the step's β; at β_0 = 0 this is the
//   base-rate model's exact sample, whatever hid holds).
// The unit type is a linked module (shaders/units/<type>.wgsl): Bernoulli units
// give σ(y) and a 0/1 draw; Gaussian ones (AIS only: their base model is N(b_base, I),
// and the mixture keeps unit variance) y and y + N(0, 1).
//
// Layout (row-major f32): hid [R, H], W [V, H] (read transposed), b and b_base [V],
// vis and vis_prob [R, V]; betas f32; counter u32 (word 0 = the sweep or β step).
// One GEMM (gemm.wgsl, appended): β scales the epilogue, so no scaled copy of W is made.
// Dims and tempered_beta_index come from tempered.wgsl (linked before this file).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> betas: array<f32>;
@group(0) @binding(3) var<storage, read> hid: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read> b_base: array<f32>;
@group(0) @binding(7) var<storage, read_write> vis_prob: array<f32>;
@group(0) @binding(8) var<storage, read_write> vis: array<f32>;

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
  let beta = betas[tempered_beta_index(m, step, dims.chains)];
  let e = m * dims.n_out + n;
  let y = (1.0 - beta) * b_base[n] + beta * (acc + b[n]);
  let p = unit_mean(y);
  vis_prob[e] = p;
  vis[e] = unit_sample(p, dims.seed, step, e, dims.phase);
}
