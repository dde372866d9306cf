// trajectory_lerp: one parameter tensor of a point on a training trajectory,
// the linear interpolation between two saved snapshots (trajectory AIS,
// src/rbm/trajectory.ts; Béreux et al. 2024 anneal along the training path):
//
//   out[e] = a[e] + s·(b[e] − a[e]),   but out[e] = b[e] when s = 1
//   s = s_values[counter[0]] (the step's position in its segment, in [0, 1])
//
// This form is exact at both ends (s = 0 gives a, s = 1 gives b) and gives a
// exactly wherever a = b, so a path between identical snapshots adds exactly 0.
// The trajectory code dispatches it once per tensor (W, b, c) of a step.
//
// Layout (f32): a, b, out [count]; s_values [steps + 1]; counter u32 (word 0 = the step).

struct Dims {
  count: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> s_values: array<f32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (e >= dims.count) {
    return;
  }
  let s = s_values[counter[0]];
  if (s == 1.0) {
    out[e] = b[e];
  } else {
    out[e] = a[e] + s * (b[e] - a[e]);
  }
}
