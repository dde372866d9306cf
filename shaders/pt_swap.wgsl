// pt_swap: one round of replica-exchange moves between neighbouring
// temperatures, for every chain at once, and the h of swapped rows redrawn.
//
// Runs between tempered_hidden and tempered_visible of a sweep. Pairs (m, m+1) with
// m ≡ parity (mod 2) are tried (even and odd rounds alternate, so no row is
// in two pairs of one round). With A = v_m, B = v_{m+1} and F_β the free
// energy of the tempered model, F_β(v) = −β bᵀv − Σ_j softplus(β x_j(v)),
// x_j(v) = vᵀw_j + c_j (stored by tempered_hidden), the swap is accepted with
// probability min(1, r),
//
//   log r = F_{β_m}(A) + F_{β_{m+1}}(B) − F_{β_m}(B) − F_{β_{m+1}}(A)
//         = δ·[bᵀ(A − B) + Σ_j (max(x_j(A), 0) − max(x_j(B), 0))]
//           + Σ_j [L(β_{m+1}|x_j(A)|) − L(β_m|x_j(A)|) − L(β_{m+1}|x_j(B)|) + L(β_m|x_j(B)|)]
//
// with δ = β_{m+1} − β_m and L(t) = log(1 + e^{−t}) ∈ (0, log 2], from
// (b here stands for b − b_base: with a base-rate visible bias b_base the tempered
// model is p_β ∝ exp(−β E + (1 − β) b_baseᵀv), whose bias term is β b + (1 − β) b_base;
// b_base = 0 tempers toward the uniform distribution, b_base = b tempers only W and c;)
// softplus(βx) = β·max(x, 0) + L(β|x|): no two large numbers are subtracted,
// and for β_m = β_{m+1} log r is exactly 0 (always accepted).
// Decision: accept iff log r ≥ 0 or u < e^{log r}, u = uniform01(seed, step, row_A, decide_phase).
// An accepted swap exchanges the visible rows, adds 1 to accepted[m], and
// redraws the rows' hidden states from their new replica's conditional
// (h_A ~ σ(β_m x(B)), h_B ~ σ(β_{m+1} x(A)), uniforms of resample_phase at
// the element index), so the sweep's visible pass continues from a state of
// the tempered joint distribution. The swap is a Metropolis move on the
// visible marginals; with h integrated out it accepts more often than a swap
// of joint (v, h) states, and it costs O(V + H) per chain because x is reused.
//
// Layout (f32 unless noted): vis [R, V], x and hid [R, H], R = replicas·chains
// rows stacked by replica (row of chain i in replica m: m·chains + i); b and b_base [V];
// betas [replicas]; counter [4] u32 (word 0 = sweep step); accepted
// [replicas − 1] atomic u32. One invocation per (pair, chain): invocation
// id = pair·chains + chain, m = 2·pair + parity; the grid spills into y.

struct Dims {
  chains: u32,
  n_vis: u32,
  n_hid: u32,
  parity: u32,
  pairs: u32,
  seed: u32,
  decide_phase: u32,
  resample_phase: u32,
}

const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> betas: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> vis: array<f32>;
@group(0) @binding(6) var<storage, read_write> hid: array<f32>;
@group(0) @binding(7) var<storage, read_write> accepted: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read> b_base: array<f32>;

// L(t) = log(1 + e^{−t}) for t ≥ 0.
fn log1p_exp_neg(t: f32) -> f32 {
  return log(1.0 + exp(-t));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (id >= dims.pairs * dims.chains) {
    return;
  }
  let V = dims.n_vis;
  let H = dims.n_hid;
  let m = 2u * (id / dims.chains) + dims.parity;
  let row_a = m * dims.chains + id % dims.chains;
  let row_b = row_a + dims.chains;
  let beta_a = betas[m];
  let beta_b = betas[m + 1u];
  let delta = beta_b - beta_a;

  var lin = 0.0;
  var lg = 0.0;
  for (var i = 0u; i < V; i = i + 1u) {
    lin = fma(b[i] - b_base[i], vis[row_a * V + i] - vis[row_b * V + i], lin);
  }
  for (var j = 0u; j < H; j = j + 1u) {
    let xa = x[row_a * H + j];
    let xb = x[row_b * H + j];
    lin = lin + (max(xa, 0.0) - max(xb, 0.0));
    lg = lg + ((log1p_exp_neg(beta_b * abs(xa)) - log1p_exp_neg(beta_a * abs(xa)))
             - (log1p_exp_neg(beta_b * abs(xb)) - log1p_exp_neg(beta_a * abs(xb))));
  }
  let log_ratio = delta * lin + lg;

  let step = counter[0];
  let u = uniform01(dims.seed, step, row_a, dims.decide_phase);
  if (!(log_ratio >= 0.0 || u < exp(log_ratio))) {
    return;
  }
  atomicAdd(&accepted[m], 1u);
  for (var i = 0u; i < V; i = i + 1u) {
    let t = vis[row_a * V + i];
    vis[row_a * V + i] = vis[row_b * V + i];
    vis[row_b * V + i] = t;
  }
  for (var j = 0u; j < H; j = j + 1u) {
    let ea = row_a * H + j;
    let eb = row_b * H + j;
    let pa = sigmoid(beta_a * x[eb]);
    let pb = sigmoid(beta_b * x[ea]);
    hid[ea] = select(0.0, 1.0, uniform01(dims.seed, step, ea, dims.resample_phase) < pa);
    hid[eb] = select(0.0, 1.0, uniform01(dims.seed, step, eb, dims.resample_phase) < pb);
  }
}
