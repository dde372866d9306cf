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
// Accumulation: logw[2r + 1] collects a block of BLOCK steps and is folded into
// logw[2r] at every BLOCK-th step, so adding thousands of small increments to
// a large total costs only a few f32 roundings (and no compiler can
// reassociate it away, unlike a Kahan sum). log-weight = logw[2r] + logw[2r + 1].
//
// Layout (f32): x [R, H], vis [R, V], b and b_A [V], betas [K + 1], logw [2R];
// counter [1] u32. One workgroup per run, invocations stride over units, tree reduction.

struct Dims {
  rows: u32,
  n_vis: u32,
  n_hid: u32,
}

const WORKGROUP_SIZE: u32 = 64u;
const BLOCK: u32 = 64u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> betas: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> vis: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read> b_base: array<f32>;
@group(0) @binding(7) var<storage, read_write> logw: array<f32>;

var<workgroup> red_lin: array<f32, WORKGROUP_SIZE>;
var<workgroup> red_log: array<f32, WORKGROUP_SIZE>;

// log(1 + t) for t in (−1/2, 1]: 2·atanh(t / (2 + t)) by its series, |z| ≤ 1/3.
fn log1p_small(t: f32) -> f32 {
  let z = t / (2.0 + t);
  let z2 = z * z;
  var s = 1.0 / 17.0;
  s = fma(s, z2, 1.0 / 15.0);
  s = fma(s, z2, 1.0 / 13.0);
  s = fma(s, z2, 1.0 / 11.0);
  s = fma(s, z2, 1.0 / 9.0);
  s = fma(s, z2, 1.0 / 7.0);
  s = fma(s, z2, 1.0 / 5.0);
  s = fma(s, z2, 1.0 / 3.0);
  s = fma(s, z2, 1.0);
  return 2.0 * z * s;
}

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = wg.x + wg.y * nwg.x;
  let V = dims.n_vis;
  let H = dims.n_hid;
  let k = counter[0];
  let beta = betas[k];
  let beta_prev = betas[k - 1u];
  let delta = beta - beta_prev;
  let beta_lo = min(beta, beta_prev);
  let abs_delta = abs(delta);

  var lin = 0.0; // Σ_j max(x_j, 0) + the visible-bias term, later times δ
  var lg = 0.0;
  if (r < dims.rows) {
    for (var j = lid; j < H; j = j + WORKGROUP_SIZE) {
      let xj = x[r * H + j];
      let ax = abs(xj);
      lin = lin + max(xj, 0.0);
      lg = lg + log1p_small(sigmoid(-beta_lo * ax) * expm1_neg(-abs_delta * ax));
    }
    for (var i = lid; i < V; i = i + WORKGROUP_SIZE) {
      lin = unit_add_bias_difference(lin, vis[r * V + i], b[i], b_base[i]);
    }
  }
  red_lin[lid] = lin;
  red_log[lid] = lg;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      red_lin[lid] = red_lin[lid] + red_lin[lid + width];
      red_log[lid] = red_log[lid] + red_log[lid + width];
    }
    workgroupBarrier();
  }
  if (lid == 0u && r < dims.rows) {
    let block = logw[2u * r + 1u] + fma(delta, red_lin[0], sign(delta) * red_log[0]);
    if (k % BLOCK == 0u) {
      logw[2u * r] = logw[2u * r] + block;
      logw[2u * r + 1u] = 0.0;
    } else {
      logw[2u * r + 1u] = block;
    }
  }
}
