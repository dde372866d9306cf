// finite_check: counts the non-finite values (NaN, +Inf, −Inf) of the
// training state, so a diverging run is caught within one submitted chunk.
//
//   flags[PARAMS]     += #{ e : W[e], b[e] or c[e] is not finite }
//   flags[VELOCITIES] += #{ e : w_vel[e], b_vel[e] or c_vel[e] is not finite }
//   flags[METRICS]    += #{ s < n_metrics : metrics[s] is not finite }
//
// A value is non-finite when its exponent bits are all ones, tested on the bit
// pattern (WGSL has no isnan, and a compiler may fold x != x away under
// fast-math): (bitcast<u32>(x) & EXPONENT_MASK) == EXPONENT_MASK.
//
// Layout: W [n_w] (V·H), b [n_b] (V), c [n_c] (H), their velocities alike,
// metrics [n_metrics] (the trainer's reconstruction-error ring), all f32;
// flags [4] u32, cleared by the host before the dispatch (word 3 unused).
// Reads only: no parameter is changed. A 1-D grid of any size strides over
// the longest array (grid-stride loop); an invocation adds its counts with one
// atomic only when it found something, so a healthy run does no atomics.

struct Dims {
  n_w: u32,
  n_b: u32,
  n_c: u32,
  n_metrics: u32,
}

const WORKGROUP_SIZE: u32 = 256u;
const EXPONENT_MASK: u32 = 0x7f800000u;
// Words of flags: FINITE_FLAG in src/gpu/kernels.ts (test/gpu/bindings.test.ts checks they agree).
const PARAMS: u32 = 0u;
const VELOCITIES: u32 = 1u;
const METRICS: u32 = 2u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> w_vel: array<f32>;
@group(0) @binding(5) var<storage, read> b_vel: array<f32>;
@group(0) @binding(6) var<storage, read> c_vel: array<f32>;
@group(0) @binding(7) var<storage, read> metrics: array<f32>;
@group(0) @binding(8) var<storage, read_write> flags: array<atomic<u32>, 4>;

fn non_finite(x: f32) -> u32 {
  return select(0u, 1u, (bitcast<u32>(x) & EXPONENT_MASK) == EXPONENT_MASK);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * WORKGROUP_SIZE;
  let longest = max(max(dims.n_w, dims.n_metrics), max(dims.n_b, dims.n_c));
  var params = 0u;
  var velocities = 0u;
  var bad_metrics = 0u;
  for (var e = gid.x; e < longest; e = e + stride) {
    if (e < dims.n_w) {
      params = params + non_finite(w[e]);
      velocities = velocities + non_finite(w_vel[e]);
    }
    if (e < dims.n_b) {
      params = params + non_finite(b[e]);
      velocities = velocities + non_finite(b_vel[e]);
    }
    if (e < dims.n_c) {
      params = params + non_finite(c[e]);
      velocities = velocities + non_finite(c_vel[e]);
    }
    if (e < dims.n_metrics) {
      bad_metrics = bad_metrics + non_finite(metrics[e]);
    }
  }
  if (params > 0u) {
    atomicAdd(&flags[PARAMS], params);
  }
  if (velocities > 0u) {
    atomicAdd(&flags[VELOCITIES], velocities);
  }
  if (bad_metrics > 0u) {
    atomicAdd(&flags[METRICS], bad_metrics);
  }
}
