// gather: copies the next mini-batch from the GPU-resident data set into the
// data rows of the stacked batch buffer, through the epoch's permutation,
// binarizing on the way.
//
//   r = e / V, i = e % V, for e in [0, B·V)
//   src      = perm[counter[1] · B + r]          (counter[1] = batch cursor)
//   x        = data[src · V + i]                 (intensities in [0, 1])
//   vis[e]   = x                                  mode NONE (data already binary)
//            = 1 if x > threshold else 0          mode THRESHOLD
//            = 1 if uniform01(seed, epoch, src·V + i, BINARIZE_PHASE) < x   mode STOCHASTIC
//
// Stochastic binarization keys the RNG by (seed, epoch) and counts by the
// pixel's place in the data set, so each epoch sees a fresh, reproducible draw.
// Layout: data [N, V], perm [N] u32, vis [2B, V] (rows [0, B) written).

struct Dims {
  batch: u32,
  n_vis: u32,
  mode: u32,
  seed: u32,
  epoch: u32,
  threshold: f32,
}

const MODE_NONE: u32 = 0u;
const MODE_THRESHOLD: u32 = 1u;
const MODE_STOCHASTIC: u32 = 2u;
// The stream id of src/host/rng-streams.ts BINARIZE_PHASE (test/host/rng-streams.test.ts checks they agree).
const BINARIZE_PHASE: u32 = 0x5EEDu;
const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read> data: array<f32>;
@group(0) @binding(4) var<storage, read_write> vis: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let V = dims.n_vis;
  if (e >= dims.batch * V) {
    return;
  }
  let r = e / V;
  let i = e % V;
  let src = perm[counter[1] * dims.batch + r];
  let x = data[src * V + i];
  var v = x;
  if (dims.mode == MODE_THRESHOLD) {
    v = select(0.0, 1.0, x > dims.threshold);
  } else if (dims.mode == MODE_STOCHASTIC) {
    v = select(0.0, 1.0, uniform01(dims.seed, dims.epoch, src * V + i, BINARIZE_PHASE) < x);
  }
  vis[e] = v;
}
