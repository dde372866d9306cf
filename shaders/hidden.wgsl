// hidden: P = σ(V·W + c), H ~ Bernoulli(P), for `rows` rows of a batch.
//
//   x[m, n] = Σ_k vis[(row_offset + m)·K + k] · W[k·N + n] + c[n]
//   hid_prob[e]   = σ(x[m, n])
//   hid_sample[e] = 1 if uniform01(seed, step, e, phase) < hid_prob[e] else 0
//   with e = (row_offset + m)·N + n, the element's index in the stacked buffer.
//
// Layout (row-major f32): vis [R, K], W [K, N] (K = visible, N = hidden),
// c [N], hid_prob and hid_sample [R, N]; R = rows of the stacked batch buffer.
// counter[0] = the update step that keys the RNG (advanced on the GPU).
//
// One tiled GEMM: each workgroup stages a TILE_M × TILE_K block of vis and a
// TILE_K × TILE_N block of W in workgroup memory; each invocation keeps a
// ROWS_PER_THREAD × COLS_PER_THREAD block of sums in registers. Bias, sigmoid
// and sampling are fused into the epilogue, so x never touches memory.

struct Dims {
  rows: u32,
  row_offset: u32,
  n_in: u32,
  n_out: u32,
  phase: u32,
  seed: u32,
}

const ROWS_PER_THREAD: u32 = 4u;
const COLS_PER_THREAD: u32 = 4u;
override WG_COLS: u32 = 16u;
override WG_ROWS: u32 = 16u;
override TILE_K: u32 = 16u;
override TILE_M: u32 = WG_ROWS * ROWS_PER_THREAD;
override TILE_N: u32 = WG_COLS * COLS_PER_THREAD;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> hid_prob: array<f32>;
@group(0) @binding(6) var<storage, read_write> hid_sample: array<f32>;

var<workgroup> a_tile: array<f32, TILE_M * TILE_K>;
var<workgroup> b_tile: array<f32, TILE_K * TILE_N>;

@compute @workgroup_size(WG_COLS, WG_ROWS)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) lindex: u32,
) {
  let M = dims.rows;
  let K = dims.n_in;
  let N = dims.n_out;
  let m0 = wg.y * TILE_M;
  let n0 = wg.x * TILE_N;
  let threads = WG_COLS * WG_ROWS;

  var acc: array<array<f32, COLS_PER_THREAD>, ROWS_PER_THREAD>;
  for (var k0 = 0u; k0 < K; k0 = k0 + TILE_K) {
    // Stage vis[m0.., k0..] (coalesced along k) and W[k0.., n0..] (along n).
    for (var i = lindex; i < TILE_M * TILE_K; i = i + threads) {
      let mm = i / TILE_K;
      let kk = i % TILE_K;
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < M && k < K) {
        v = vis[(dims.row_offset + m) * K + k];
      }
      a_tile[mm * TILE_K + kk] = v;
    }
    for (var i = lindex; i < TILE_K * TILE_N; i = i + threads) {
      let kk = i / TILE_N;
      let nn = i % TILE_N;
      let k = k0 + kk;
      let n = n0 + nn;
      var w = 0.0;
      if (k < K && n < N) {
        w = W[k * N + n];
      }
      b_tile[kk * TILE_N + nn] = w;
    }
    workgroupBarrier();

    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      var a: array<f32, ROWS_PER_THREAD>;
      var b: array<f32, COLS_PER_THREAD>;
      for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
        a[r] = a_tile[(lid.y + r * WG_ROWS) * TILE_K + kk];
      }
      for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
        b[q] = b_tile[kk * TILE_N + lid.x + q * WG_COLS];
      }
      for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
        for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
          acc[r][q] = fma(a[r], b[q], acc[r][q]);
        }
      }
    }
    workgroupBarrier();
  }

  let step = counter[0];
  for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
    let m = m0 + lid.y + r * WG_ROWS;
    if (m >= M) {
      continue;
    }
    for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
      let n = n0 + lid.x + q * WG_COLS;
      if (n >= N) {
        continue;
      }
      let e = (dims.row_offset + m) * N + n;
      let p = sigmoid(acc[r][q] + c[n]);
      hid_prob[e] = p;
      hid_sample[e] = select(0.0, 1.0, uniform01(dims.seed, step, e, dims.phase) < p);
    }
  }
}
