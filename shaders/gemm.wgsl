// Shared GEMM skeleton, appended to hidden.wgsl, visible.wgsl and update.wgsl:
//
//   C[m, n] = Σ_{k=0}^{K−1} A[m, k] · B[k, n]   for m < M, n < N, then epilogue(m, n, C[m, n])
//
// The kernel file supplies the operands and what happens to each result:
//   fn gemm_size() -> vec3<u32>      (M, N, K)
//   fn load_a(m, k) -> f32, fn load_b(k, n) -> f32   (only called in bounds)
//   fn epilogue(m, n, c)             (only called in bounds)
//   const A_CONTIGUOUS_IN_K, B_CONTIGUOUS_IN_K: bool — which index walks memory,
//   so staging loads stay coalesced.
//
// Each invocation owns THREAD_ROWS consecutive rows × VEC_COLS groups of 4
// consecutive columns (vec4 accumulators); group v of invocation x starts at
// column 4·(v·WG_COLS + x), so neighbouring invocations read neighbouring
// columns in every group. A workgroup covers TILE_M = WG_ROWS·THREAD_ROWS rows
// and TILE_N = WG_COLS·4·VEC_COLS columns. Two ways to feed it, picked per adapter:
//   USE_SHARED = true:  stage TILE_M×TILE_K of A and TILE_K×TILE_N of B in
//                       workgroup memory (GPUs);
//   USE_SHARED = false: read operands straight from storage, indices clamped
//                       in bounds, no barriers (CPU Vulkan such as lavapipe).
// Both sum k in the same order, so every variant gives bit-identical results.

const MAX_THREAD_ROWS: u32 = 8u;
const MAX_VEC_COLS: u32 = 2u;
override WG_COLS: u32 = 16u;
override WG_ROWS: u32 = 16u;
override THREAD_ROWS: u32 = 4u;
override VEC_COLS: u32 = 1u;
override TILE_K: u32 = 16u;
override USE_SHARED: bool = true;
override TILE_M: u32 = WG_ROWS * THREAD_ROWS;
override TILE_VEC4S: u32 = WG_COLS * VEC_COLS;
override TILE_N: u32 = TILE_VEC4S * 4u;

var<workgroup> a_tile: array<f32, TILE_M * TILE_K>;
var<workgroup> b_tile: array<vec4<f32>, TILE_K * TILE_VEC4S>;

fn stage_tiles(wg: vec3<u32>, lindex: u32, k0: u32, size: vec3<u32>) {
  let threads = WG_COLS * WG_ROWS;
  for (var i = lindex; i < TILE_M * TILE_K; i = i + threads) {
    var mm: u32;
    var kk: u32;
    if (A_CONTIGUOUS_IN_K) {
      mm = i / TILE_K;
      kk = i % TILE_K;
    } else {
      kk = i / TILE_M;
      mm = i % TILE_M;
    }
    let m = wg.y * TILE_M + mm;
    let k = k0 + kk;
    var a = 0.0;
    if (m < size.x && k < size.z) {
      a = load_a(m, k);
    }
    a_tile[mm * TILE_K + kk] = a;
  }
  let cols = TILE_N;
  for (var i = lindex; i < TILE_K * cols; i = i + threads) {
    var nn: u32;
    var kk: u32;
    if (B_CONTIGUOUS_IN_K) {
      nn = i / TILE_K;
      kk = i % TILE_K;
    } else {
      kk = i / cols;
      nn = i % cols;
    }
    let n = wg.x * TILE_N + nn;
    let k = k0 + kk;
    var b = 0.0;
    if (n < size.y && k < size.z) {
      b = load_b(k, n);
    }
    b_tile[kk * TILE_VEC4S + nn / 4u][nn % 4u] = b;
  }
}

// One invocation's results: block[r · MAX_VEC_COLS + v] holds row row0 + r,
// columns col0 + 4·WG_COLS·v + (0..3).
alias Block = array<vec4<f32>, MAX_THREAD_ROWS * MAX_VEC_COLS>;
// One k's B values for an invocation's VEC_COLS column groups, and their column indices.
alias BRow = array<vec4<f32>, MAX_VEC_COLS>;
alias BCols = array<vec4<u32>, MAX_VEC_COLS>;

// (row0, col0): the first row and column of an invocation's block.
fn block_origin(wg: vec3<u32>, lid: vec3<u32>) -> vec2<u32> {
  return vec2<u32>(wg.y * TILE_M + lid.y * THREAD_ROWS, wg.x * TILE_N + lid.x * 4u);
}

// The block's columns, clamped to N − 1: out-of-range ones read a neighbour and are never stored.
fn clamped_cols(col0: u32) -> BCols {
  let last = gemm_size().y - 1u;
  var cols: BCols;
  for (var v = 0u; v < VEC_COLS; v = v + 1u) {
    let c = col0 + v * 4u * WG_COLS;
    cols[v] = min(vec4<u32>(c, c + 1u, c + 2u, c + 3u), vec4<u32>(last));
  }
  return cols;
}

fn load_b_row(k: u32, cols: BCols) -> BRow {
  var b: BRow;
  for (var v = 0u; v < VEC_COLS; v = v + 1u) {
    let cv = cols[v];
    b[v] = vec4<f32>(load_b(k, cv.x), load_b(k, cv.y), load_b(k, cv.z), load_b(k, cv.w));
  }
  return b;
}

// Row r of the block += a · b, one fma per column group.
fn fma_row(acc: ptr<function, Block>, r: u32, a: f32, b: BRow) {
  for (var v = 0u; v < VEC_COLS; v = v + 1u) {
    let i = r * MAX_VEC_COLS + v;
    (*acc)[i] = fma(vec4<f32>(a), b[v], (*acc)[i]);
  }
}

@compute @workgroup_size(WG_COLS, WG_ROWS)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) lindex: u32,
) {
  let size = gemm_size();
  let M = size.x;
  let K = size.z;
  let origin = block_origin(wg, lid);
  let row0 = origin.x;
  var acc: Block;

  if (USE_SHARED) {
    for (var k0 = 0u; k0 < K; k0 = k0 + TILE_K) {
      stage_tiles(wg, lindex, k0, size);
      workgroupBarrier();
      for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
        var b: BRow;
        for (var v = 0u; v < VEC_COLS; v = v + 1u) {
          b[v] = b_tile[kk * TILE_VEC4S + v * WG_COLS + lid.x];
        }
        for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
          fma_row(&acc, r, a_tile[(lid.y * THREAD_ROWS + r) * TILE_K + kk], b);
        }
      }
      workgroupBarrier();
    }
  } else if (row0 < M && origin.y < size.y) {
    // Out-of-range rows read a clamped neighbour too.
    let cols = clamped_cols(origin.y);
    for (var k = 0u; k < K; k = k + 1u) {
      let b = load_b_row(k, cols);
      for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
        fma_row(&acc, r, load_a(min(row0 + r, M - 1u), k), b);
      }
    }
  }

  store_block(origin, &acc);
}

// Hands each in-range result of an invocation's block to the kernel's epilogue.
fn store_block(origin: vec2<u32>, acc: ptr<function, Block>) {
  let size = gemm_size();
  let row0 = origin.x;
  let col0 = origin.y;
  for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
    let m = row0 + r;
    if (m >= size.x) {
      break;
    }
    for (var v = 0u; v < VEC_COLS; v = v + 1u) {
      for (var q = 0u; q < 4u; q = q + 1u) {
        let n = col0 + v * 4u * WG_COLS + q;
        if (n < size.y) {
          epilogue(m, n, (*acc)[r * MAX_VEC_COLS + v][q]);
        }
      }
    }
  }
}
