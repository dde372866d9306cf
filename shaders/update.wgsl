// update: the CD/PCD weight step, one GEMM over the stacked batch.
//
//   G[i, j]  = Σ_r s_r · vis[r·V + i] · hid_prob[r·H + j],  s_r = +1 for r < neg_start, −1 after
//            = (v₀ᵀp₀ − v_kᵀp_k)[i, j]
//   grad     = G · inv_batch − weight_decay · W[i, j]
//   vel[i,j] = momentum · vel[i, j] + learning_rate · grad
//   W[i, j] += vel[i, j]                                   (in place)
//
// Layout (row-major f32): vis [R, V] and hid_prob [R, H] with R = 2B rows
// (data rows first, negative-phase rows from neg_start = B); W, vel [V, H].
// The reduction runs over the batch (K = R), the output is the V × H matrix.

struct Dims {
  n_vis: u32,
  n_hid: u32,
  n_rows: u32,
  neg_start: u32,
}

struct Hyper {
  learning_rate: f32,
  momentum: f32,
  weight_decay: f32,
  inv_batch: f32,
  sparsity_target: f32,
  sparsity_cost: f32,
  sparsity_decay: f32,
  _pad: f32,
}

const ROWS_PER_THREAD: u32 = 4u;
const COLS_PER_THREAD: u32 = 4u;
override WG_COLS: u32 = 16u;
override WG_ROWS: u32 = 16u;
override TILE_K: u32 = 16u;
override TILE_M: u32 = WG_ROWS * ROWS_PER_THREAD;
override TILE_N: u32 = WG_COLS * COLS_PER_THREAD;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(2) var<storage, read> vis: array<f32>;
@group(0) @binding(3) var<storage, read> hid_prob: array<f32>;
@group(0) @binding(4) var<storage, read_write> W: array<f32>;
@group(0) @binding(5) var<storage, read_write> vel: array<f32>;

var<workgroup> a_tile: array<f32, TILE_M * TILE_K>;
var<workgroup> b_tile: array<f32, TILE_K * TILE_N>;

@compute @workgroup_size(WG_COLS, WG_ROWS)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) lindex: u32,
) {
  let M = dims.n_vis;
  let N = dims.n_hid;
  let K = dims.n_rows;
  let m0 = wg.y * TILE_M;
  let n0 = wg.x * TILE_N;
  let threads = WG_COLS * WG_ROWS;

  var acc: array<array<f32, COLS_PER_THREAD>, ROWS_PER_THREAD>;
  for (var k0 = 0u; k0 < K; k0 = k0 + TILE_K) {
    // visᵀ[i, r] = vis[r, i]: walk i fastest for coalesced loads.
    for (var t = lindex; t < TILE_M * TILE_K; t = t + threads) {
      let kk = t / TILE_M;
      let mm = t % TILE_M;
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < M && k < K) {
        v = vis[k * M + m];
      }
      a_tile[mm * TILE_K + kk] = v;
    }
    // The sign folds the negative phase into the same sum.
    for (var t = lindex; t < TILE_K * TILE_N; t = t + threads) {
      let kk = t / TILE_N;
      let nn = t % TILE_N;
      let k = k0 + kk;
      let n = n0 + nn;
      var p = 0.0;
      if (k < K && n < N) {
        p = hid_prob[k * N + n];
        if (k >= dims.neg_start) {
          p = -p;
        }
      }
      b_tile[kk * TILE_N + nn] = p;
    }
    workgroupBarrier();

    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      var a: array<f32, ROWS_PER_THREAD>;
      var bp: array<f32, COLS_PER_THREAD>;
      for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
        a[r] = a_tile[(lid.y + r * WG_ROWS) * TILE_K + kk];
      }
      for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
        bp[q] = b_tile[kk * TILE_N + lid.x + q * WG_COLS];
      }
      for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
        for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
          acc[r][q] = fma(a[r], bp[q], acc[r][q]);
        }
      }
    }
    workgroupBarrier();
  }

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
      let e = m * N + n;
      let w = W[e];
      let grad = acc[r][q] * hyper.inv_batch - hyper.weight_decay * w;
      let v = hyper.momentum * vel[e] + hyper.learning_rate * grad;
      vel[e] = v;
      W[e] = w + v;
    }
  }
}
