// logz_chunk: one chunk of the exact log Z enumeration over the smaller layer.
//
// Every state s ∈ {0,1}^n of the enumerated layer (n ≤ 26 units, bit k of the
// state index = unit k) contributes the log of its unnormalised marginal
//   t(s) = aᵀs + Σ_l softplus(d_l + Σ_k M[l, k] s_k),   M[l, k] = W[l·stride_l + k·stride_k]
// enumerating h: a = c, d = b, l = visible i, k = hidden j (stride_l = H, stride_k = 1);
// enumerating v: a = b, d = c, l = hidden j,  k = visible i (stride_l = 1, stride_k = H).
// log Z = logsumexp_s t(s).
// mode 0: Bernoulli units of the other layer (the softplus above).
// mode 1, Gaussian visible units (unit variance; only h is enumerated):
// ∫ e^{−E(v,h)} dv = (2π)^{V/2} e^{t(h)} with
//   t(h) = cᵀh + Σ_i a_i·(b_i + a_i/2),   a_i = W_i·h,
// the host adding (V/2)·log 2π. Here d_l = b_i stays out of the pre-activation.
// mode 2, Potts visible units (q = dims.states per site, unit i = site·q + state;
// only h is enumerated): the sum over each site's q one-hot states gives
//   t(h) = cᵀh + Σ_site logsumexp_{s < q} x_{site·q + s},   x_i = b_i + W_i·h,
// accumulated online per site (running maximum and Σ exp(x − maximum)) as l walks
// the visible units, so a site may straddle two tiles of l.
// This kernel writes, per workgroup of 256 states,
//   partials[2g] = m = max_s t(s),   partials[2g + 1] = Σ_s exp(t(s) − m)  (in [1, 256])
// so nothing overflows whatever the weights; logz_combine.wgsl merges them.
//
// State index s = counter[0]·chunk_states + g·256 + local index. The 256 states
// of a workgroup share their high bits (k ≥ 8): their part of the pre-activation,
// base[l] = d_l + Σ_{k≥8} M[l, k] s_k, is computed once per tile of l in
// workgroup memory, so each state adds only its 8 low bits (two vec4 dots).
// Layout (f32): W [V, H] row-major, a [n], d [L]; counter [1] u32 (chunk index);
// partials [2 · groups per chunk]. L = dims.n_other.

struct Dims {
  n_enum: u32,
  n_other: u32,
  stride_l: u32,
  stride_k: u32,
  chunk_states: u32,
  mode: u32,
  states: u32,
  _pad2: u32,
}

const MODE_GAUSSIAN: u32 = 1u;
const MODE_POTTS: u32 = 2u;

const WORKGROUP_SIZE: u32 = 256u;
const LOW_BITS: u32 = 8u; // log2(WORKGROUP_SIZE)
const TILE_L: u32 = 64u;
const INVALID: f32 = -3.0e38; // a term that exp() turns into exactly 0

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> d: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

var<workgroup> base: array<f32, TILE_L>;
var<workgroup> d_tile: array<f32, TILE_L>;
// M[l, k] for the low bits k < 8, two vec4 per l (zero where k ≥ n).
var<workgroup> m_low: array<vec4<f32>, TILE_L * 2u>;
var<workgroup> red_max: array<f32, WORKGROUP_SIZE>;
var<workgroup> red_sum: array<f32, WORKGROUP_SIZE>;

fn weight(l: u32, k: u32) -> f32 {
  return W[l * dims.stride_l + k * dims.stride_k];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = dims.n_enum;
  let L = dims.n_other;
  let first = counter[0] * dims.chunk_states + wg.x * WORKGROUP_SIZE;
  let s = first + lid;
  let valid = s < (1u << n);
  let high = first >> LOW_BITS;
  let gaussian = dims.mode == MODE_GAUSSIAN;
  let potts = dims.mode == MODE_POTTS;
  // Potts: the running logsumexp of the current site, and the unit index within the site.
  var site_max = INVALID;
  var site_sum = 0.0;
  var state = 0u;

  let bits_lo = vec4<f32>(vec4<u32>(s, s >> 1u, s >> 2u, s >> 3u) & vec4<u32>(1u));
  let bits_hi = vec4<f32>(vec4<u32>(s >> 4u, s >> 5u, s >> 6u, s >> 7u) & vec4<u32>(1u));

  // Summed per tile, then tile sums added: keeps the f32 rounding of long rows small.
  var total = 0.0;
  for (var l0 = 0u; l0 < L; l0 = l0 + TILE_L) {
    for (var t = lid; t < TILE_L * LOW_BITS; t = t + WORKGROUP_SIZE) {
      let l = l0 + t / LOW_BITS;
      let k = t % LOW_BITS;
      var w = 0.0;
      if (l < L && k < n) {
        w = weight(l, k);
      }
      m_low[t / 4u][k % 4u] = w;
    }
    if (lid < TILE_L) {
      let l = l0 + lid;
      var x = 0.0;
      var dl = 0.0;
      if (l < L) {
        dl = d[l];
        for (var k = LOW_BITS; k < n; k = k + 1u) {
          if (((high >> (k - LOW_BITS)) & 1u) != 0u) {
            x = x + weight(l, k);
          }
        }
      }
      // Bernoulli: the bias joins the pre-activation; Gaussian: a_i is kept apart from b_i.
      base[lid] = select(x + dl, x, gaussian);
      d_tile[lid] = dl;
    }
    workgroupBarrier();

    let count = min(TILE_L, L - l0);
    var tile_sum = 0.0;
    for (var ll = 0u; ll < count; ll = ll + 1u) {
      let x = base[ll] + dot(bits_lo, m_low[2u * ll]) + dot(bits_hi, m_low[2u * ll + 1u]);
      if (gaussian) {
        tile_sum = fma(x, d_tile[ll] + 0.5 * x, tile_sum);
      } else if (potts) {
        if (x > site_max) {
          site_sum = fma(site_sum, exp(site_max - x), 1.0);
          site_max = x;
        } else {
          site_sum = site_sum + exp(x - site_max);
        }
        state = state + 1u;
        if (state == dims.states) {
          tile_sum = tile_sum + site_max + log(site_sum);
          site_max = INVALID;
          site_sum = 0.0;
          state = 0u;
        }
      } else {
        tile_sum = tile_sum + softplus(x);
      }
    }
    total = total + tile_sum;
    workgroupBarrier();
  }

  var term = INVALID;
  if (valid) {
    var lin = 0.0;
    for (var k = 0u; k < n; k = k + 1u) {
      if (((s >> k) & 1u) != 0u) {
        lin = lin + a[k];
      }
    }
    term = total + lin;
  }

  // Workgroup log-sum-exp: the maximum, then Σ exp(t − max) ≤ 256.
  red_max[lid] = term;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      red_max[lid] = max(red_max[lid], red_max[lid + width]);
    }
    workgroupBarrier();
  }
  let m = red_max[0];
  red_sum[lid] = select(0.0, exp(term - m), valid);
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      red_sum[lid] = red_sum[lid] + red_sum[lid + width];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[2u * wg.x] = m;
    partials[2u * wg.x + 1u] = red_sum[0];
  }
}
