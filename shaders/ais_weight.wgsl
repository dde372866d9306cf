// ais_weight: adds one β step's importance weight to each AIS run's log-weight.
//
//   log p*_β(v) = (1 − β) b_Aᵀv + β bᵀv + Σ_j softplus(β x_j),  x_j = vᵀw_j + c_j (from tempered_hidden)
//   inc_r = log p*_{β_k}(v_r) − log p*_{β_{k−1}}(v_r)
//         = δ·[Σ_j max(x_j, 0) + (b − b_A)ᵀv_r] + sign(δ)·Σ_j log1p(σ(−β_lo|x_j|) · expm1(−|δ||x_j|))
//   with δ = β_k − β_{k−1} (exact in f32 for neighbouring βs), β_lo = min(β_k, β_{k−1})
//   and k = counter[0]. (softplus(βx) = β·max(x, 0) + log1p(e^{−β|x|}), and
//   log1p(e^{−a−d}) − log1p(e^{−a}) = log1p(σ(−a)·expm1(−d)) for d ≥ 0.)
// That is for Bernoulli visible units. In general the visible part of log p*_β(v) is
// −(1 − β)·Σ_i t(v_i, b_A,i) − β·Σ_i t(v_i, b_i) with t = unit_free_energy_term of the
// linked unit module (shaders/units/<type>.wgsl), and (b − b_A)ᵀv above is
// Σ_i [t(v_i, b_A,i) − t(v_i, b_i)], each added by unit_add_bias_difference:
// Gaussian units (base model N(b_A, I)) add (b_i − b_A,i)(v_i − (b_i + b_A,i)/2).
// This form of softplus(β_k x) − softplus(β_{k−1} x) never subtracts two
// large numbers: δ is tiny near β = 1 and the naive difference would lose it.
// log1p and expm1 use series where 1 + x would round, so tiny steps keep
// their relative precision. Either direction of schedule works (δ < 0 for reverse AIS).
//
// Layout (f32): x [R, H], vis [R, V], b and b_A [V], betas [K + 1], logw [2R];
// counter [1] u32.
//
// Linked after the unit module (and its rng.wgsl, math.wgsl) and before
// log_weight.wgsl, which has Dims, log1p_small and main: one workgroup per run,
// the tree reduction of partial_sums' (lin, log) shares, and the blocked
// accumulation of increment's inc_r into logw.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> betas: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> vis: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read> b_base: array<f32>;
@group(0) @binding(7) var<storage, read_write> logw: array<f32>;

// e^t − 1 for t ≤ 0: Taylor series near 0, plain exp where nothing cancels.
fn expm1_neg(t: f32) -> f32 {
  if (t < -0.5) {
    return exp(t) - 1.0;
  }
  var s = 1.0 / 362880.0;
  s = fma(s, t, 1.0 / 40320.0);
  s = fma(s, t, 1.0 / 5040.0);
  s = fma(s, t, 1.0 / 720.0);
  s = fma(s, t, 1.0 / 120.0);
  s = fma(s, t, 1.0 / 24.0);
  s = fma(s, t, 1.0 / 6.0);
  s = fma(s, t, 0.5);
  s = fma(s, t, 1.0);
  return t * s;
}

// δ = β_k − β_{k−1}.
fn beta_step(k: u32) -> f32 {
  return betas[k] - betas[k - 1u];
}

// (Σ_j max(x_j, 0) + the visible-bias term, Σ_j log1p(…)) over invocation lid's units.
fn partial_sums(r: u32, k: u32, lid: u32) -> vec2<f32> {
  let V = dims.n_vis;
  let H = dims.n_hid;
  let abs_delta = abs(beta_step(k));
  let beta_lo = min(betas[k], betas[k - 1u]);
  var lin = 0.0;
  var lg = 0.0;
  for (var j = lid; j < H; j = j + WORKGROUP_SIZE) {
    let xj = x[r * H + j];
    let ax = abs(xj);
    lin = lin + max(xj, 0.0);
    lg = lg + log1p_small(sigmoid(-beta_lo * ax) * expm1_neg(-abs_delta * ax));
  }
  for (var i = lid; i < V; i = i + WORKGROUP_SIZE) {
    lin = unit_add_bias_difference(lin, vis[r * V + i], b[i], b_base[i]);
  }
  return vec2<f32>(lin, lg);
}

// inc_r = δ · lin + sign(δ) · log.
fn increment(k: u32, sums: vec2<f32>) -> f32 {
  let delta = beta_step(k);
  return fma(delta, sums.x, sign(delta) * sums.y);
}
