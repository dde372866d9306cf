// logz_combine: merges one chunk's per-workgroup log-sum-exp partials and
// advances the chunk counter, so a whole enumeration is one command stream.
//
//   in:  partials[2g] = m_g, partials[2g + 1] = s_g = Σ exp(t − m_g), g < dims.groups
//   out: results[2c] = M = max_g m_g, results[2c + 1] = Σ_g s_g · exp(m_g − M),  c = counter[0]
//   then counter[0] += 1 (the next logz_chunk dispatch reads the next chunk).
// The host merges the per-chunk pairs in float64: log Z = M* + log Σ_c S_c e^{M_c − M*}.
// One workgroup; each invocation folds a strided run of pairs with a running
// maximum, then a tree merge of (max, sum) pairs.
// Layout (f32): partials [2 · groups], results [2 · chunks]; counter [1] u32.

struct Dims {
  groups: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

const WORKGROUP_SIZE: u32 = 256u;
const EMPTY: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> counter: array<u32>;
@group(0) @binding(2) var<storage, read> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> results: array<f32>;

var<workgroup> red_max: array<f32, WORKGROUP_SIZE>;
var<workgroup> red_sum: array<f32, WORKGROUP_SIZE>;

// (m1, s1) ⊕ (m2, s2) = (M, s1·e^{m1−M} + s2·e^{m2−M}), M = max(m1, m2).
fn merge(m1: f32, s1: f32, m2: f32, s2: f32) -> vec2<f32> {
  let m = max(m1, m2);
  return vec2<f32>(m, s1 * exp(m1 - m) + s2 * exp(m2 - m));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  let chunk = counter[0];
  var acc = vec2<f32>(EMPTY, 0.0);
  for (var g = lid; g < dims.groups; g = g + WORKGROUP_SIZE) {
    acc = merge(acc.x, acc.y, partials[2u * g], partials[2u * g + 1u]);
  }
  red_max[lid] = acc.x;
  red_sum[lid] = acc.y;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      let r = merge(red_max[lid], red_sum[lid], red_max[lid + width], red_sum[lid + width]);
      red_max[lid] = r.x;
      red_sum[lid] = r.y;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    results[2u * chunk] = red_max[0];
    results[2u * chunk + 1u] = red_sum[0];
    counter[0] = chunk + 1u;
  }
}
