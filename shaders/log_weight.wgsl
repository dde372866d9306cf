// log_weight: the skeleton of the AIS weight kernels (ais_weight.wgsl,
// trajectory_weight.wgsl), linked after the kernel file. Each adds one step's
// importance weight to each run's log-weight; the increment is a difference of
// free energies,
//   inc_r = Σ_j [hidden unit j's softplus difference] + Σ_i [visible unit i's bias-term difference],
// which the kernel file splits into two sums, each term bounded (no large values cancel):
//   lin  the linear parts: max(x, 0) terms and the visible-bias terms
//   log  the log1p parts (log1p_small below)
//
// The kernel file declares the bindings `dims: Dims`, `counter` (counter[0] = k,
// this step) and `logw` (read_write), and supplies
//   fn partial_sums(r, k, lid) -> vec2<f32>   invocation lid's share (lin, log) of run r's
//                                            sums (invocations stride over units by WORKGROUP_SIZE)
//   fn increment(k, sums) -> f32               inc_r from the workgroup's total (lin, log)
// main adds the shares over the workgroup (tree reduction) and the increment to logw.
//
// Accumulation: logw[2r + 1] collects a block of BLOCK steps and is folded into
// logw[2r] at every BLOCK-th step, so adding thousands of small increments to
// a large total costs only a few f32 roundings (and no compiler can
// reassociate it away, unlike a Kahan sum). log-weight = logw[2r] + logw[2r + 1].
//
// Layout: logw [2R] f32; counter [1] u32. One workgroup per run r < rows.

struct Dims {
  rows: u32,
  n_vis: u32,
  n_hid: u32,
}

const WORKGROUP_SIZE: u32 = 64u;
const BLOCK: u32 = 64u;

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = wg.x + wg.y * nwg.x;
  let k = counter[0];
  var sums = vec2<f32>(0.0, 0.0);
  if (r < dims.rows) {
    sums = partial_sums(r, k, lid);
  }
  red_lin[lid] = sums.x;
  red_log[lid] = sums.y;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      red_lin[lid] = red_lin[lid] + red_lin[lid + width];
      red_log[lid] = red_log[lid] + red_log[lid + width];
    }
    workgroupBarrier();
  }
  if (lid == 0u && r < dims.rows) {
    let block = logw[2u * r + 1u] + increment(k, vec2<f32>(red_lin[0], red_log[0]));
    if (k % BLOCK == 0u) {
      logw[2u * r] = logw[2u * r] + block;
      logw[2u * r + 1u] = 0.0;
    } else {
      logw[2u * r + 1u] = block;
    }
  }
}
