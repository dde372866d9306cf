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
// center_bias.wgsl (run after bias_update.wgsl) needs to move the ordinary biases.
// μ = λ = 0 gives update.wgsl's step exactly.
//
// Layout (row-major f32): vis [R, V], hid_prob [R, H] (R = B + N, data rows
// first); W, vel [V, H]; mu [V]; lambda [H] (center_offsets.wgsl keeps them).
//
// Linked as update.wgsl, with this file in its place: hyper.wgsl,
// update_batch.wgsl (Dims, the rows' weights s_r), update_step.wgsl (bindings
// 0–5 dims, hyper, vis, hid_prob, W, vel; the GEMM's size and the epilogue),
// this file (the offsets' bindings and the centered operands), gemm.wgsl.

@group(0) @binding(6) var<storage, read> mu: array<f32>;
@group(0) @binding(7) var<storage, read> lambda: array<f32>;

fn load_a(m: u32, k: u32) -> f32 {
  return vis[k * dims.n_vis + m] - mu[m];
}

fn load_b(k: u32, n: u32) -> f32 {
  return phase_weighted(k, hid_prob[k * dims.n_hid + n] - lambda[n]);
}
