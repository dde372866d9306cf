// center_offsets: the centered trainer's offsets, sliding averages of the data
// means (Melchior, Fischer & Wiskott 2016, Algorithm 1, step 10). Runs before
// update_centered.wgsl, after the positive hidden pass, so the step that follows
// uses the offsets this batch has moved (the paper's order).
//
//   unit u < V (visible i = u):   μ_i ← (1 − ν) · μ_i + ν · (1/B) Σ_{r<B} vis[r·V + i]
//   unit u ≥ V (hidden j = u − V): λ_j ← (1 − ν) · λ_j + ν · (1/B) Σ_{r<B} hid_prob[r·H + j]
// ν = rate (0 keeps the offsets fixed). Only the B data rows count: the offsets
// centre the data, not the model's samples. The ordinary parameters W, b, c are
// stored, so moving the offsets leaves the model unchanged (no reparametrisation).
//
// Layout: vis [R, V], hid_prob [R, H] (data rows [0, B)); mu [V]; lambda [H].

struct Dims {
  n_vis: u32,
  n_hid: u32,
  batch: u32,
  rate: f32,
}

const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> vis: array<f32>;
@group(0) @binding(2) var<storage, read> hid_prob: array<f32>;
@group(0) @binding(3) var<storage, read_write> mu: array<f32>;
@group(0) @binding(4) var<storage, read_write> lambda: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let u = gid.x;
  let inv_batch = 1.0 / f32(dims.batch);
  if (u < dims.n_vis) {
    var s = 0.0;
    for (var r = 0u; r < dims.batch; r = r + 1u) {
      s = s + vis[r * dims.n_vis + u];
    }
    mu[u] = (1.0 - dims.rate) * mu[u] + dims.rate * (s * inv_batch);
  } else if (u < dims.n_vis + dims.n_hid) {
    let j = u - dims.n_vis;
    var s = 0.0;
    for (var r = 0u; r < dims.batch; r = r + 1u) {
      s = s + hid_prob[r * dims.n_hid + j];
    }
    lambda[j] = (1.0 - dims.rate) * lambda[j] + dims.rate * (s * inv_batch);
  }
}
