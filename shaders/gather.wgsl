// gather: copies the next mini-batch from the GPU-resident data set into the
// data rows of the stacked batch buffer, through the epoch's permutation,
// unpacking the stored format and binarizing on the way.
//
//   r = e / V, i = e % V, for e in [0, B·V)
//   src      = perm[counter[1] · B + r]          (counter[1] = batch cursor; a global row)
//   x        = the value of row src, column i    (see "Storage" below)
//   vis[e]   = x                                  mode NONE (data already binary, or Gaussian units)
//            = 1 if x > threshold else 0          mode THRESHOLD
//            = 1 if uniform01(seed, epoch, src·V + i, BINARIZE_PHASE) < x   mode STOCHASTIC
//
// Stochastic binarization keys the RNG by (seed, epoch) and counts by the
// pixel's place in the whole data set, so each epoch sees a fresh, reproducible
// draw whatever the storage format or sharding. A streamed block (FLAG_ROW_IDS,
// src/rbm/streamed-dataset.ts) holds rows in epoch order, so src is a position;
// it carries each row's global id, and the draw counts by that id instead, the
// same draw as resident training.
//
// Storage (src/rbm/dataset.ts writes it): the data set is split into shards of
// whole rows, one storage buffer each. A shard is self-describing: words
// [0, HEADER_WORDS) are its header, then (Gaussian standardisation only) the
// per-column mean and inverse std as f32 bits, then the packed values of its
// rows. One dispatch gathers from one shard: an invocation whose row lies in
// another shard writes nothing, so dispatching every shard (in any order) with
// the same dims, counter and perm writes each batch row exactly once.
//   l = (src − first_row) · V + i                the value's index within the shard
//   FORMAT_F32:  x = bitcast<f32>(data[payload + l])                    (the float32 bits as given)
//   FORMAT_U8:   b = (data[payload + l/4] >> 8·(l%4)) & 0xff            (little-endian bytes in order)
//                x = bitcast<f32>(U8_BITS[b]) = fround(b / 255)
//   FORMAT_BITS: x = f32((data[payload + l/32] >> (l%32)) & 1)          (LSB first)
// A row may start in the middle of a word: values are indexed by l, never by row.
// With FLAG_STANDARDIZE, x = (x − mean[i]) · inv_std[i] (f32 − and ·, correctly rounded in WGSL; no division).
// With FLAG_ROW_IDS, data[row_ids + local_row] is the global id of the shard's row local_row (the RNG's row).
// Layout: perm [N] u32 (global row ids), vis [2B, V] (rows [0, B) written).

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

// The shard header (src/rbm/dataset.ts SHARD_HEADER; test/data/compact.test.ts checks they agree).
const HEADER_WORDS: u32 = 8u;
const H_FORMAT: u32 = 0u;      // FORMAT_*
const H_FIRST_ROW: u32 = 1u;   // the global id of the shard's first row
const H_ROWS: u32 = 2u;        // rows in the shard
const H_N_VIS: u32 = 3u;       // values per row
const H_PAYLOAD: u32 = 4u;     // word offset of the packed values
const H_FLAGS: u32 = 5u;       // FLAG_*
const H_STATS: u32 = 6u;       // word offset of mean [V] then inv_std [V] (FLAG_STANDARDIZE)
const H_ROW_IDS: u32 = 7u;     // word offset of the rows' global ids [rows] (FLAG_ROW_IDS)
const FORMAT_F32: u32 = 0u;
const FORMAT_U8: u32 = 1u;
const FORMAT_BITS: u32 = 2u;
const FLAG_STANDARDIZE: u32 = 1u;
const FLAG_ROW_IDS: u32 = 2u;

// U8_BITS[b] = the float32 bits of Math.fround(b / 255): the value the host computes for byte b,
// exact (WGSL's division is not correctly rounded). test/data/compact.test.ts checks every entry.
const U8_BITS = array<u32, 256>(
  0x00000000u, 0x3b808081u, 0x3c008081u, 0x3c40c0c1u, 0x3c808081u, 0x3ca0a0a1u, 0x3cc0c0c1u, 0x3ce0e0e1u,
  0x3d008081u, 0x3d109091u, 0x3d20a0a1u, 0x3d30b0b1u, 0x3d40c0c1u, 0x3d50d0d1u, 0x3d60e0e1u, 0x3d70f0f1u,
  0x3d808081u, 0x3d888889u, 0x3d909091u, 0x3d989899u, 0x3da0a0a1u, 0x3da8a8a9u, 0x3db0b0b1u, 0x3db8b8b9u,
  0x3dc0c0c1u, 0x3dc8c8c9u, 0x3dd0d0d1u, 0x3dd8d8d9u, 0x3de0e0e1u, 0x3de8e8e9u, 0x3df0f0f1u, 0x3df8f8f9u,
  0x3e008081u, 0x3e048485u, 0x3e088889u, 0x3e0c8c8du, 0x3e109091u, 0x3e149495u, 0x3e189899u, 0x3e1c9c9du,
  0x3e20a0a1u, 0x3e24a4a5u, 0x3e28a8a9u, 0x3e2cacadu, 0x3e30b0b1u, 0x3e34b4b5u, 0x3e38b8b9u, 0x3e3cbcbdu,
  0x3e40c0c1u, 0x3e44c4c5u, 0x3e48c8c9u, 0x3e4ccccdu, 0x3e50d0d1u, 0x3e54d4d5u, 0x3e58d8d9u, 0x3e5cdcddu,
  0x3e60e0e1u, 0x3e64e4e5u, 0x3e68e8e9u, 0x3e6cecedu, 0x3e70f0f1u, 0x3e74f4f5u, 0x3e78f8f9u, 0x3e7cfcfdu,
  0x3e808081u, 0x3e828283u, 0x3e848485u, 0x3e868687u, 0x3e888889u, 0x3e8a8a8bu, 0x3e8c8c8du, 0x3e8e8e8fu,
  0x3e909091u, 0x3e929293u, 0x3e949495u, 0x3e969697u, 0x3e989899u, 0x3e9a9a9bu, 0x3e9c9c9du, 0x3e9e9e9fu,
  0x3ea0a0a1u, 0x3ea2a2a3u, 0x3ea4a4a5u, 0x3ea6a6a7u, 0x3ea8a8a9u, 0x3eaaaaabu, 0x3eacacadu, 0x3eaeaeafu,
  0x3eb0b0b1u, 0x3eb2b2b3u, 0x3eb4b4b5u, 0x3eb6b6b7u, 0x3eb8b8b9u, 0x3ebababbu, 0x3ebcbcbdu, 0x3ebebebfu,
  0x3ec0c0c1u, 0x3ec2c2c3u, 0x3ec4c4c5u, 0x3ec6c6c7u, 0x3ec8c8c9u, 0x3ecacacbu, 0x3ecccccdu, 0x3ecececfu,
  0x3ed0d0d1u, 0x3ed2d2d3u, 0x3ed4d4d5u, 0x3ed6d6d7u, 0x3ed8d8d9u, 0x3edadadbu, 0x3edcdcddu, 0x3edededfu,
  0x3ee0e0e1u, 0x3ee2e2e3u, 0x3ee4e4e5u, 0x3ee6e6e7u, 0x3ee8e8e9u, 0x3eeaeaebu, 0x3eececedu, 0x3eeeeeefu,
  0x3ef0f0f1u, 0x3ef2f2f3u, 0x3ef4f4f5u, 0x3ef6f6f7u, 0x3ef8f8f9u, 0x3efafafbu, 0x3efcfcfdu, 0x3efefeffu,
  0x3f008081u, 0x3f018182u, 0x3f028283u, 0x3f038384u, 0x3f048485u, 0x3f058586u, 0x3f068687u, 0x3f078788u,
  0x3f088889u, 0x3f09898au, 0x3f0a8a8bu, 0x3f0b8b8cu, 0x3f0c8c8du, 0x3f0d8d8eu, 0x3f0e8e8fu, 0x3f0f8f90u,
  0x3f109091u, 0x3f119192u, 0x3f129293u, 0x3f139394u, 0x3f149495u, 0x3f159596u, 0x3f169697u, 0x3f179798u,
  0x3f189899u, 0x3f19999au, 0x3f1a9a9bu, 0x3f1b9b9cu, 0x3f1c9c9du, 0x3f1d9d9eu, 0x3f1e9e9fu, 0x3f1f9fa0u,
  0x3f20a0a1u, 0x3f21a1a2u, 0x3f22a2a3u, 0x3f23a3a4u, 0x3f24a4a5u, 0x3f25a5a6u, 0x3f26a6a7u, 0x3f27a7a8u,
  0x3f28a8a9u, 0x3f29a9aau, 0x3f2aaaabu, 0x3f2babacu, 0x3f2cacadu, 0x3f2dadaeu, 0x3f2eaeafu, 0x3f2fafb0u,
  0x3f30b0b1u, 0x3f31b1b2u, 0x3f32b2b3u, 0x3f33b3b4u, 0x3f34b4b5u, 0x3f35b5b6u, 0x3f36b6b7u, 0x3f37b7b8u,
  0x3f38b8b9u, 0x3f39b9bau, 0x3f3ababbu, 0x3f3bbbbcu, 0x3f3cbcbdu, 0x3f3dbdbeu, 0x3f3ebebfu, 0x3f3fbfc0u,
  0x3f40c0c1u, 0x3f41c1c2u, 0x3f42c2c3u, 0x3f43c3c4u, 0x3f44c4c5u, 0x3f45c5c6u, 0x3f46c6c7u, 0x3f47c7c8u,
  0x3f48c8c9u, 0x3f49c9cau, 0x3f4acacbu, 0x3f4bcbccu, 0x3f4ccccdu, 0x3f4dcdceu, 0x3f4ececfu, 0x3f4fcfd0u,
  0x3f50d0d1u, 0x3f51d1d2u, 0x3f52d2d3u, 0x3f53d3d4u, 0x3f54d4d5u, 0x3f55d5d6u, 0x3f56d6d7u, 0x3f57d7d8u,
  0x3f58d8d9u, 0x3f59d9dau, 0x3f5adadbu, 0x3f5bdbdcu, 0x3f5cdcddu, 0x3f5ddddeu, 0x3f5ededfu, 0x3f5fdfe0u,
  0x3f60e0e1u, 0x3f61e1e2u, 0x3f62e2e3u, 0x3f63e3e4u, 0x3f64e4e5u, 0x3f65e5e6u, 0x3f66e6e7u, 0x3f67e7e8u,
  0x3f68e8e9u, 0x3f69e9eau, 0x3f6aeaebu, 0x3f6bebecu, 0x3f6cecedu, 0x3f6dedeeu, 0x3f6eeeefu, 0x3f6feff0u,
  0x3f70f0f1u, 0x3f71f1f2u, 0x3f72f2f3u, 0x3f73f3f4u, 0x3f74f4f5u, 0x3f75f5f6u, 0x3f76f6f7u, 0x3f77f7f8u,
  0x3f78f8f9u, 0x3f79f9fau, 0x3f7afafbu, 0x3f7bfbfcu, 0x3f7cfcfdu, 0x3f7dfdfeu, 0x3f7efeffu, 0x3f800000u,
);

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read> data: array<u32>;
@group(0) @binding(4) var<storage, read_write> vis: array<f32>;

// The stored value of element l of this shard (before binarization).
fn stored_value(l: u32) -> f32 {
  let format = data[H_FORMAT];
  let payload = data[H_PAYLOAD];
  if (format == FORMAT_U8) {
    let byte = (data[payload + (l >> 2u)] >> ((l & 3u) * 8u)) & 0xffu;
    return bitcast<f32>(U8_BITS[byte]);
  }
  if (format == FORMAT_BITS) {
    return f32((data[payload + (l >> 5u)] >> (l & 31u)) & 1u);
  }
  return bitcast<f32>(data[payload + l]);
}

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
  // Rows of other shards are written by their own dispatch (unsigned: src < first_row wraps past rows).
  let local_row = src - data[H_FIRST_ROW];
  if (local_row >= data[H_ROWS]) {
    return;
  }
  var x = stored_value(local_row * V + i);
  if ((data[H_FLAGS] & FLAG_STANDARDIZE) != 0u) {
    let stats = data[H_STATS];
    x = (x - bitcast<f32>(data[stats + i])) * bitcast<f32>(data[stats + V + i]);
  }
  var v = x;
  if (dims.mode == MODE_THRESHOLD) {
    v = select(0.0, 1.0, x > dims.threshold);
  } else if (dims.mode == MODE_STOCHASTIC) {
    var row = src;
    if ((data[H_FLAGS] & FLAG_ROW_IDS) != 0u) {
      row = data[data[H_ROW_IDS] + local_row];
    }
    v = select(0.0, 1.0, uniform01(dims.seed, dims.epoch, row * V + i, BINARIZE_PHASE) < x);
  }
  vis[e] = v;
}
