// update_centered: the centered CD/PCD weight step (Montavon & Müller 2012;
// Melchior, Fischer & Wiskott 2016, Algorithm 1), one GEMM over the stacked batch.
//
// With offsets μ (visible, [V]) and λ (hidden, [H]) the centered weight gradient is
//   G[i, j]  = Σ_r s_r · (vis[r·V + i] − μ_i) · (hid_prob[r·H + j] − λ_j)
//            = ⟨(v − μ)(h − λ)ᵀ⟩_d · B − ⟨(v − μ)(h − λ)ᵀ⟩_m · B
//            = [v₀ᵀp₀/B − v_kᵀp_k/N − μ(p̄₀ − p̄_k)ᵀ − (v̄₀ − v̄_k)λᵀ] · B
// with s_r = +1 for the B data rows (r < neg_start) and −ρ = −B/N for the N
// negative-phase rows, as update.wgsl (Σ_r s_r = 0, so the μλᵀ term cancels).
//   grad     = G · inv_batch − weight_decay · W[i, j]
//   vel[i,j] = momentum · vel[i, j] + learning_rate · grad
//   W[i, j] += vel[i, j]                                   (in place)
// W is the same matrix in the centered and the ordinary parametrisation, so the
// step is that of update.wgsl with centered operands; vel ends holding ΔW, which
// bias_update_centered.wgsl (run next) needs to move the ordinary biases.
// μ = λ = 0 gives update.wgsl's step exactly.
//
// Layout (row-major f32): vis [R, V], hid_prob [R, H] (R = B + N, data rows
// first); W, vel [V, H]; mu [V]; lambda [H] (center_offsets.wgsl keeps them).

struct Dims {
  n_vis: u32,
  n_hid: u32,
  n_rows: u32,
  neg_start: u32,
}

// struct Hyper: shaders/hyper.wgsl (prepended).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> hid_prob: array<f32>;
@group(0) @binding(4) var<storage, read_write> W: array<f32>;
@group(0) @binding(5) var<storage, read_write> vel: array<f32>;
@group(0) @binding(6) var<storage, read> mu: array<f32>;
@group(0) @binding(7) var<storage, read> lambda: array<f32>;

const A_CONTIGUOUS_IN_K: bool = false;
const B_CONTIGUOUS_IN_K: bool = false;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.n_vis, dims.n_hid, dims.n_rows);
}

fn load_a(m: u32, k: u32) -> f32 {
  return vis[k * dims.n_vis + m] - mu[m];
}

fn load_b(k: u32, n: u32) -> f32 {
  let p = hid_prob[k * dims.n_hid + n] - lambda[n];
  if (k < dims.neg_start) {
    return p;
  }
  let chains = dims.n_rows - dims.neg_start;
  if (chains == dims.neg_start) {
    return -p;
  }
  return -p * (f32(dims.neg_start) / f32(chains));
}

fn epilogue(m: u32, n: u32, g: f32) {
  let e = m * dims.n_hid + n;
  let w = W[e];
  let grad = g * hyper.inv_batch - hyper.weight_decay * w;
  let v = hyper.momentum * vel[e] + hyper.learning_rate * grad;
  vel[e] = v;
  W[e] = w + v;
}
