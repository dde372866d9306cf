// trajectory_weight: adds one step's importance weight to each run of
// trajectory AIS (src/rbm/trajectory.ts), which anneals between two parameter
// sets θ_a → θ_b (neighbouring points of a training trajectory) instead of
// two temperatures:
//
//   inc_r = F_a(v_r) − F_b(v_r)
//         = Σ_j [softplus(x_b,j) − softplus(x_a,j)] + Σ_i [t(v_i, b_a,i) − t(v_i, b_b,i)]
//   x_a = v W_a + c_a, x_b = v W_b + c_b (from tempered_hidden at β = 1),
//   t = unit_free_energy_term of the linked unit module; the visible sum is
//   unit_add_bias_difference(acc, v, b_b, b_a) (Bernoulli: (b_b − b_a)·v).
// softplus(x_b) − softplus(x_a) is split as [max(x_b, 0) − max(x_a, 0)] +
// [log1p(e^{−|x_b|}) − log1p(e^{−|x_a|})]: each part is bounded (no large
// softplus values cancel), and x_a = x_b gives exactly 0.
//
// Layout (f32): x_a, x_b [R, H], vis [R, V], b_a, b_b [V], logw [2R]; counter [1] u32.
//
// Linked after the unit module (and its rng.wgsl, math.wgsl) and before
// log_weight.wgsl, as ais_weight.wgsl: log_weight.wgsl has Dims, log1p_small
// and main (one workgroup per run, the tree reduction, the blocked accumulation
// into logw with k = counter[0]).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> x_a: array<f32>;
@group(0) @binding(3) var<storage, read> x_b: array<f32>;
@group(0) @binding(4) var<storage, read> vis: array<f32>;
@group(0) @binding(5) var<storage, read> b_a: array<f32>;
@group(0) @binding(6) var<storage, read> b_b: array<f32>;
@group(0) @binding(7) var<storage, read_write> logw: array<f32>;

// log(1 + e^{−|x|}), in (0, log 2].
fn log1p_exp_neg(x: f32) -> f32 {
  return log1p_small(exp(-abs(x)));
}

// (Σ_j [max(x_b, 0) − max(x_a, 0)] + the visible-bias term,
//  Σ_j [log1p(e^{−|x_b|}) − log1p(e^{−|x_a|})]) over invocation lid's units.
fn partial_sums(r: u32, k: u32, lid: u32) -> vec2<f32> {
  let V = dims.n_vis;
  let H = dims.n_hid;
  var lin = 0.0;
  var lg = 0.0;
  for (var j = lid; j < H; j = j + WORKGROUP_SIZE) {
    let xa = x_a[r * H + j];
    let xb = x_b[r * H + j];
    lin = lin + (max(xb, 0.0) - max(xa, 0.0));
    lg = lg + (log1p_exp_neg(xb) - log1p_exp_neg(xa));
  }
  for (var i = lid; i < V; i = i + WORKGROUP_SIZE) {
    lin = unit_add_bias_difference(lin, vis[r * V + i], b_b[i], b_a[i]);
  }
  return vec2<f32>(lin, lg);
}

// inc_r = lin + log (the step index does not enter: the path point is in x_a, x_b, b_a, b_b).
fn increment(k: u32, sums: vec2<f32>) -> f32 {
  return sums.x + sums.y;
}
