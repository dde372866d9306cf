// recon_error: the batch's reconstruction error, reduced on the GPU.
//
//   metrics[counter[1] % capacity] = Σ_e (vis[e] − vis_prob[B·V + e])² / (B·V),  e in [0, B·V)
//
// vis rows [0, B) hold the data v₀; vis_prob rows [B, 2B) hold σ(h₀·Wᵀ + b),
// the one-step reconstruction, written by the first visible pass of the update.
// One workgroup; invocations stride over the batch, then a tree reduction.

struct Dims {
  batch: u32,
  n_vis: u32,
  capacity: u32,
  _pad: u32,
}

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> vis_prob: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  let n = dims.batch * dims.n_vis;
  var s = 0.0;
  for (var e = lid; e < n; e = e + WORKGROUP_SIZE) {
    let d = vis[e] - vis_prob[n + e];
    s = fma(d, d, s);
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      partial[lid] = partial[lid] + partial[lid + width];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    metrics[counter[1] % dims.capacity] = partial[0] / f32(n);
  }
}
