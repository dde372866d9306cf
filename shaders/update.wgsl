// update: the CD/PCD weight step, one GEMM over the stacked batch.
//
//   G[i, j]  = Σ_r s_r · vis[r·V + i] · hid_prob[r·H + j],  s_r = +1 for r < neg_start, −ρ after
//            = (v₀ᵀp₀ − ρ · v_kᵀp_k)[i, j]
//   grad     = G · inv_batch − weight_decay · W[i, j]
//            = v₀ᵀp₀ / B − v_kᵀp_k / N − weight_decay · W[i, j]
// with B = neg_start data rows and N = n_rows − neg_start negative-phase rows
// (persistent chains, which may outnumber or undernumber the batch), and
// ρ = B / N (exactly 1 when N = B: the sign alone, as before chains could differ).
//   vel[i,j] = momentum · vel[i, j] + learning_rate · grad
//   W[i, j] += vel[i, j]                                   (in place)
//
// Layout (row-major f32): vis [R, V] and hid_prob [R, H] with R = B + N rows
// (data rows first, negative-phase rows from neg_start = B); W, vel [V, H].
// The GEMM (gemm.wgsl) reduces over the batch (K = R); its output is V × H.

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

// visᵀ walks i (= m) contiguously; hid_prob walks j (= n).
const A_CONTIGUOUS_IN_K: bool = false;
const B_CONTIGUOUS_IN_K: bool = false;

fn gemm_size() -> vec3<u32> {
  return vec3<u32>(dims.n_vis, dims.n_hid, dims.n_rows);
}

fn load_a(m: u32, k: u32) -> f32 {
  return vis[k * dims.n_vis + m];
}

// The sign (and, with N ≠ B chains, the weight ρ = B / N) folds the negative phase into the same sum.
fn load_b(k: u32, n: u32) -> f32 {
  let p = hid_prob[k * dims.n_hid + n];
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
