// visible: Pv = σ(H·Wᵀ + b), V ~ Bernoulli(Pv) — the transposed direction.
//
//   x[m, n] = Σ_k hid_sample[(in_offset + m)·K + k] · W[n·K + k] + b[n]
//   vis_prob[e] = σ(x[m, n])
//   vis[e]      = 1 if uniform01(seed, step, e, phase) < vis_prob[e] else 0
//   with e = (out_offset + m)·N + n.
//   flags: WRITE_PROB and/or WRITE_SAMPLE select which outputs are stored
//   (a reconstruction for metrics writes only probabilities; later Gibbs
//   steps of CD-k write only samples, keeping the first reconstruction).
//
// Layout (row-major f32): hid_sample [R, K], W [N, K] (N = visible,
// K = hidden: the model's own W, read transposed), b [N], vis and vis_prob
// [R, N]. counter[0] = the update step keying the RNG.
//
// Same tiling as hidden.wgsl; W is staged column-block by column-block so the
// loads stay coalesced along the hidden index.

struct Dims {
  rows: u32,
  in_offset: u32,
  out_offset: u32,
  n_in: u32,
  n_out: u32,
  phase: u32,
  seed: u32,
  flags: u32,
}

const WRITE_PROB: u32 = 1u;
const WRITE_SAMPLE: u32 = 2u;

const ROWS_PER_THREAD: u32 = 4u;
const COLS_PER_THREAD: u32 = 4u;
override WG_COLS: u32 = 16u;
override WG_ROWS: u32 = 16u;
override TILE_K: u32 = 16u;
override TILE_M: u32 = WG_ROWS * ROWS_PER_THREAD;
override TILE_N: u32 = WG_COLS * COLS_PER_THREAD;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read> hid_sample: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> vis_prob: array<f32>;
@group(0) @binding(6) var<storage, read_write> vis: array<f32>;

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
    for (var i = lindex; i < TILE_M * TILE_K; i = i + threads) {
      let mm = i / TILE_K;
      let kk = i % TILE_K;
      let m = m0 + mm;
      let k = k0 + kk;
      var h = 0.0;
      if (m < M && k < K) {
        h = hid_sample[(dims.in_offset + m) * K + k];
      }
      a_tile[mm * TILE_K + kk] = h;
    }
    // Wᵀ[k, n] = W[n, k]: walk k fastest so neighbouring invocations read neighbouring words.
    for (var i = lindex; i < TILE_K * TILE_N; i = i + threads) {
      let nn = i / TILE_K;
      let kk = i % TILE_K;
      let k = k0 + kk;
      let n = n0 + nn;
      var w = 0.0;
      if (k < K && n < N) {
        w = W[n * K + k];
      }
      b_tile[kk * TILE_N + nn] = w;
    }
    workgroupBarrier();

    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      var a: array<f32, ROWS_PER_THREAD>;
      var bw: array<f32, COLS_PER_THREAD>;
      for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
        a[r] = a_tile[(lid.y + r * WG_ROWS) * TILE_K + kk];
      }
      for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
        bw[q] = b_tile[kk * TILE_N + lid.x + q * WG_COLS];
      }
      for (var r = 0u; r < ROWS_PER_THREAD; r = r + 1u) {
        for (var q = 0u; q < COLS_PER_THREAD; q = q + 1u) {
          acc[r][q] = fma(a[r], bw[q], acc[r][q]);
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
      let e = (dims.out_offset + m) * N + n;
      let p = sigmoid(acc[r][q] + b[n]);
      if ((dims.flags & WRITE_PROB) != 0u) {
        vis_prob[e] = p;
      }
      if ((dims.flags & WRITE_SAMPLE) != 0u) {
        vis[e] = select(0.0, 1.0, uniform01(dims.seed, step, e, dims.phase) < p);
      }
    }
  }
}
