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
//
// Linked from: hyper.wgsl (Hyper), update_batch.wgsl (Dims, the rows' weights
// s_r), update_step.wgsl (bindings 0–5 dims, hyper, vis, hid_prob, W, vel; the
// GEMM's size and the epilogue: the momentum step), this file (the operands),
// gemm.wgsl.

fn load_a(m: u32, k: u32) -> f32 {
  return vis[k * dims.n_vis + m];
}

// The sign (and, with N ≠ B chains, the weight ρ = B / N) folds the negative phase into the same sum.
fn load_b(k: u32, n: u32) -> f32 {
  return phase_weighted(k, hid_prob[k * dims.n_hid + n]);
}
