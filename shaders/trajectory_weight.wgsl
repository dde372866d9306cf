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
// Accumulation as in ais_weight.wgsl: logw[2r + 1] collects a block of BLOCK
// steps and is folded into logw[2r] at every BLOCK-th step (k = counter[0]);
// the log-weight is logw[2r] + logw[2r + 1].
//
// Layout (f32): x_a, x_b [R, H], vis [R, V], b_a, b_b [V], logw [2R]; counter [1] u32.
// One workgroup per run, invocations stride over units, tree reduction.

struct Dims {
  rows: u32,
  n_vis: u32,
  n_hid: u32,
}

const WORKGROUP_SIZE: u32 = 64u;
const BLOCK: u32 = 64u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> x_a: array<f32>;
@group(0) @binding(3) var<storage, read> x_b: array<f32>;
@group(0) @binding(4) var<storage, read> vis: array<f32>;
@group(0) @binding(5) var<storage, read> b_a: array<f32>;
@group(0) @binding(6) var<storage, read> b_b: array<f32>;
@group(0) @binding(7) var<storage, read_write> logw: array<f32>;

var<workgroup> red_lin: array<f32, WORKGROUP_SIZE>;
var<workgroup> red_log: array<f32, WORKGROUP_SIZE>;

// log(1 + e^{−|x|}), in (0, log 2].
fn log1p_exp_neg(x: f32) -> f32 {
  let t = exp(-abs(x));
  // log(1 + t) = 2·atanh(t / (2 + t)); for t ≤ 1, |z| ≤ 1/3 and the series below is f32-exact.
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

  var lin = 0.0; // Σ_j [max(x_b, 0) − max(x_a, 0)] + the visible-bias term
  var lg = 0.0;  // Σ_j [log1p(e^{−|x_b|}) − log1p(e^{−|x_a|})]
  if (r < dims.rows) {
    for (var j = lid; j < H; j = j + WORKGROUP_SIZE) {
      let xa = x_a[r * H + j];
      let xb = x_b[r * H + j];
      lin = lin + (max(xb, 0.0) - max(xa, 0.0));
      lg = lg + (log1p_exp_neg(xb) - log1p_exp_neg(xa));
    }
    for (var i = lid; i < V; i = i + WORKGROUP_SIZE) {
      lin = unit_add_bias_difference(lin, vis[r * V + i], b_b[i], b_a[i]);
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
    let block = logw[2u * r + 1u] + (red_lin[0] + red_log[0]);
    if (k % BLOCK == 0u) {
      logw[2u * r] = logw[2u * r] + block;
      logw[2u * r + 1u] = 0.0;
    } else {
      logw[2u * r + 1u] = block;
    }
  }
}
