// clamp: conditional (clamped) Gibbs sampling — after each visible pass, the
// clamped units are put back to their given values (inpainting).
//
//   vis[e] = values[e], vis_prob[e] = values[e]   where mask[e] ≥ 0.5
//   e in [0, n·V); mask and values are [n, V] like vis (one mask per chain).

struct Dims {
  count: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> vis: array<f32>;
@group(0) @binding(4) var<storage, read_write> vis_prob: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (e >= dims.count || mask[e] < 0.5) {
    return;
  }
  vis[e] = values[e];
  vis_prob[e] = values[e];
}
