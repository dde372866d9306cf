// softmax_update: one gradient step with momentum on W and b from the
// probabilities softmax_forward.wgsl wrote for the same mini-batch; one
// invocation per parameter.
//
//   (start, n) = softmax_batch(dims, state[0]);  src_m = perm[start + m]
//   e_{m,k} = prob[m·K + k] − [labels[src_m] = k]            (∂ loss_m / ∂ z_k)
//   u < D·K (W, d = u / K, k = u mod K):
//     g = (1/n) Σ_{m<n} e_{m,k} · x[src_m·D + d] + weight_decay · W[u]
//     w_vel[u] = momentum · w_vel[u] − learning_rate · g;   W[u] += w_vel[u]
//   D·K ≤ u < D·K + K (b, k = u − D·K):
//     g = (1/n) Σ_{m<n} e_{m,k}                                   (no decay)
//     b_vel[k] = momentum · b_vel[k] − learning_rate · g;   b[k] += b_vel[k]
//
// Layout and structs: softmax.wgsl (linked before this file). The step counter
// state[0] is advanced by a separate dispatch (advance.wgsl) after this one.
// Invocations beyond maxComputeWorkgroupsPerDimension workgroups go to y.

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> optim: Optim;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read> perm: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read> labels: array<u32>;
@group(0) @binding(6) var<storage, read> prob: array<f32>;
@group(0) @binding(7) var<storage, read_write> W: array<f32>;
@group(0) @binding(8) var<storage, read_write> b: array<f32>;
@group(0) @binding(9) var<storage, read_write> w_vel: array<f32>;
@group(0) @binding(10) var<storage, read_write> b_vel: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let u = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let D = dims.n_in;
  let K = dims.classes;
  let weights = D * K;
  if (u >= weights + K) {
    return;
  }
  let range = softmax_batch(dims, state[0]);
  let is_bias = u >= weights;
  var k = u % K;
  var d = u / K;
  if (is_bias) {
    k = u - weights;
  }
  var g = 0.0;
  for (var m = 0u; m < range.count; m = m + 1u) {
    let src = perm[range.start + m];
    var e = prob[m * K + k];
    if (labels[src] == k) {
      e = e - 1.0;
    }
    if (is_bias) {
      g = g + e;
    } else {
      g = g + e * x[src * D + d];
    }
  }
  g = g / f32(range.count);
  if (is_bias) {
    let v = optim.momentum * b_vel[k] - optim.learning_rate * g;
    b_vel[k] = v;
    b[k] = b[k] + v;
  } else {
    g = g + optim.weight_decay * W[u];
    let v = optim.momentum * w_vel[u] - optim.learning_rate * g;
    w_vel[u] = v;
    W[u] = W[u] + v;
  }
}
