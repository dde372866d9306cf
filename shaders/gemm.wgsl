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

// The register block. In the k loop every index into it is a constant and
// every loop over rows or column groups is unrolled by hand, guarded by the
// override constants (folded away when the pipeline is built): some compilers
// (SwiftShader) keep a dynamically indexed private array in memory, which made
// the whole GEMM 3–5× slower there. (store_block, run once, may loop.)
//
// One invocation's results: block[r · MAX_VEC_COLS + v] holds row row0 + r,
// columns col0 + 4·WG_COLS·v + (0..3).
alias Block = array<vec4<f32>, MAX_THREAD_ROWS * MAX_VEC_COLS>;
// One k's A values for the block's rows; its B values for the column groups, and their column indices.
alias ARows = array<f32, MAX_THREAD_ROWS>;
alias BRow = array<vec4<f32>, MAX_VEC_COLS>;
alias BCols = array<vec4<u32>, MAX_VEC_COLS>;

// (row0, col0): the first row and column of an invocation's block.
fn block_origin(wg: vec3<u32>, lid: vec3<u32>) -> vec2<u32> {
  return vec2<u32>(wg.y * TILE_M + lid.y * THREAD_ROWS, wg.x * TILE_N + lid.x * 4u);
}

// The block's columns, clamped to N − 1: out-of-range ones read a neighbour and are never stored.
fn clamped_cols(col0: u32) -> BCols {
  let last = vec4<u32>(gemm_size().y - 1u);
  let step = vec4<u32>(0u, 1u, 2u, 3u);
  var cols: BCols;
  cols[0] = min(vec4<u32>(col0) + step, last);
  if (VEC_COLS > 1u) { cols[1] = min(vec4<u32>(col0 + 4u * WG_COLS) + step, last); }
  return cols;
}

fn load_b_row(k: u32, cols: BCols) -> BRow {
  var b: BRow;
  b[0] = vec4<f32>(load_b(k, cols[0].x), load_b(k, cols[0].y), load_b(k, cols[0].z), load_b(k, cols[0].w));
  if (VEC_COLS > 1u) {
    b[1] = vec4<f32>(load_b(k, cols[1].x), load_b(k, cols[1].y), load_b(k, cols[1].z), load_b(k, cols[1].w));
  }
  return b;
}

// A[row0 + r, k] for the block's rows, rows past M − 1 clamped (never stored).
fn load_a_rows(row0: u32, k: u32) -> ARows {
  let last = gemm_size().x - 1u;
  var a: ARows;
  a[0] = load_a(min(row0, last), k);
  if (THREAD_ROWS > 1u) { a[1] = load_a(min(row0 + 1u, last), k); }
  if (THREAD_ROWS > 2u) { a[2] = load_a(min(row0 + 2u, last), k); }
  if (THREAD_ROWS > 3u) { a[3] = load_a(min(row0 + 3u, last), k); }
  if (THREAD_ROWS > 4u) { a[4] = load_a(min(row0 + 4u, last), k); }
  if (THREAD_ROWS > 5u) { a[5] = load_a(min(row0 + 5u, last), k); }
  if (THREAD_ROWS > 6u) { a[6] = load_a(min(row0 + 6u, last), k); }
  if (THREAD_ROWS > 7u) { a[7] = load_a(min(row0 + 7u, last), k); }
  return a;
}

// The block's A values at step kk of the staged tile; its rows start at row `first` of the tile.
fn tile_a_rows(first: u32, kk: u32) -> ARows {
  var a: ARows;
  a[0] = a_tile[first * TILE_K + kk];
  if (THREAD_ROWS > 1u) { a[1] = a_tile[(first + 1u) * TILE_K + kk]; }
  if (THREAD_ROWS > 2u) { a[2] = a_tile[(first + 2u) * TILE_K + kk]; }
  if (THREAD_ROWS > 3u) { a[3] = a_tile[(first + 3u) * TILE_K + kk]; }
  if (THREAD_ROWS > 4u) { a[4] = a_tile[(first + 4u) * TILE_K + kk]; }
  if (THREAD_ROWS > 5u) { a[5] = a_tile[(first + 5u) * TILE_K + kk]; }
  if (THREAD_ROWS > 6u) { a[6] = a_tile[(first + 6u) * TILE_K + kk]; }
  if (THREAD_ROWS > 7u) { a[7] = a_tile[(first + 7u) * TILE_K + kk]; }
  return a;
}

// block += a ⊗ b: one fma per row and column group.
fn fma_block(acc: ptr<function, Block>, a: ARows, b: BRow) {
  {
    (*acc)[0] = fma(vec4<f32>(a[0]), b[0], (*acc)[0]);
    if (VEC_COLS > 1u) { (*acc)[1] = fma(vec4<f32>(a[0]), b[1], (*acc)[1]); }
  }
  if (THREAD_ROWS > 1u) {
    (*acc)[2] = fma(vec4<f32>(a[1]), b[0], (*acc)[2]);
    if (VEC_COLS > 1u) { (*acc)[3] = fma(vec4<f32>(a[1]), b[1], (*acc)[3]); }
  }
  if (THREAD_ROWS > 2u) {
    (*acc)[4] = fma(vec4<f32>(a[2]), b[0], (*acc)[4]);
    if (VEC_COLS > 1u) { (*acc)[5] = fma(vec4<f32>(a[2]), b[1], (*acc)[5]); }
  }
  if (THREAD_ROWS > 3u) {
    (*acc)[6] = fma(vec4<f32>(a[3]), b[0], (*acc)[6]);
    if (VEC_COLS > 1u) { (*acc)[7] = fma(vec4<f32>(a[3]), b[1], (*acc)[7]); }
  }
  if (THREAD_ROWS > 4u) {
    (*acc)[8] = fma(vec4<f32>(a[4]), b[0], (*acc)[8]);
    if (VEC_COLS > 1u) { (*acc)[9] = fma(vec4<f32>(a[4]), b[1], (*acc)[9]); }
  }
  if (THREAD_ROWS > 5u) {
    (*acc)[10] = fma(vec4<f32>(a[5]), b[0], (*acc)[10]);
    if (VEC_COLS > 1u) { (*acc)[11] = fma(vec4<f32>(a[5]), b[1], (*acc)[11]); }
  }
  if (THREAD_ROWS > 6u) {
    (*acc)[12] = fma(vec4<f32>(a[6]), b[0], (*acc)[12]);
    if (VEC_COLS > 1u) { (*acc)[13] = fma(vec4<f32>(a[6]), b[1], (*acc)[13]); }
  }
  if (THREAD_ROWS > 7u) {
    (*acc)[14] = fma(vec4<f32>(a[7]), b[0], (*acc)[14]);
    if (VEC_COLS > 1u) { (*acc)[15] = fma(vec4<f32>(a[7]), b[1], (*acc)[15]); }
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
        b[0] = b_tile[kk * TILE_VEC4S + lid.x];
        if (VEC_COLS > 1u) { b[1] = b_tile[kk * TILE_VEC4S + WG_COLS + lid.x]; }
        fma_block(&acc, tile_a_rows(lid.y * THREAD_ROWS, kk), b);
      }
      workgroupBarrier();
    }
  } else if (row0 < M && origin.y < size.y) {
    // Out-of-range rows read a clamped neighbour too.
    let cols = clamped_cols(origin.y);
    for (var k = 0u; k < K; k = k + 1u) {
      fma_block(&acc, load_a_rows(row0, k), load_b_row(k, cols));
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
