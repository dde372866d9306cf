// softmax_forward: the class probabilities of one mini-batch's rows (or of a
// block of rows to predict), one workgroup per row.
//
//   (start, n) = softmax_batch(dims, state[0]);  for row m < n:
//   src  = perm[start + m]
//   z_k  = b[k] + Σ_d x[src·D + d] · W[d·K + k]                 k < K
//   prob[m·K + k] = exp(z_k − max_j z_j) / Σ_j exp(z_j − max_j z_j)
//
// Layout and structs: softmax.wgsl (linked before this file); D = dims.n_in,
// K = dims.classes ≤ MAX_CLASSES (the host checks). Invocation l of a
// workgroup computes the logits of classes l, l + WORKGROUP_SIZE, …; they wait
// in workgroup memory until every invocation can read all K, then each writes
// the probabilities of its own classes. Rows past n write nothing. Workgroups
// beyond maxComputeWorkgroupsPerDimension go to the y dimension.

const WORKGROUP_SIZE: u32 = 64u;
const MAX_CLASSES: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read_write> prob: array<f32>;

var<workgroup> logits: array<f32, MAX_CLASSES>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let m = wg.x + wg.y * nwg.x;
  let range = softmax_batch(dims, state[0]);
  let in_batch = m < range.count;
  let D = dims.n_in;
  let K = dims.classes;
  var src = 0u;
  if (in_batch) {
    src = perm[range.start + m];
  }
  let base = src * D;
  for (var k = lid; k < K; k = k + WORKGROUP_SIZE) {
    var z = b[k];
    if (in_batch) {
      for (var d = 0u; d < D; d = d + 1u) {
        z = z + x[base + d] * W[d * K + k];
      }
    }
    logits[k] = z;
  }
  workgroupBarrier();
  if (!in_batch) {
    return;
  }
  var zmax = logits[0];
  for (var j = 1u; j < K; j = j + 1u) {
    zmax = max(zmax, logits[j]);
  }
  var total = 0.0;
  for (var j = 0u; j < K; j = j + 1u) {
    total = total + exp(logits[j] - zmax);
  }
  for (var k = lid; k < K; k = k + WORKGROUP_SIZE) {
    prob[m * K + k] = exp(logits[k] - zmax) / total;
  }
}
