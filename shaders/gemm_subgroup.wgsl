// Subgroup variant of gemm.wgsl's direct-load GEMM, appended after it (the
// module also starts with `enable subgroups;`); entry point main_subgroup.
//
//   C[m, n] = Σ_k A[m, k] · B[k, n], the same block per invocation and the
//   same order of k as main, so results are bit-identical to it.
//
// Invocations of one workgroup row need the same A rows. Without workgroup
// memory each would load all of them; here, for every run of S = subgroup
// size values of k, lane j loads A[row, k0 + j] for its THREAD_ROWS rows and
// subgroupShuffle hands lane j's value to all lanes at step j: S times fewer
// A loads, no barriers. B is read straight from storage (neighbouring lanes,
// neighbouring columns). If a subgroup spans two workgroup rows (WG_COLS not a
// multiple of S, or an unusual lane order) the lanes' rows differ and every
// lane loads its own A instead, still in the same order of k.

@compute @workgroup_size(WG_COLS, WG_ROWS)
fn main_subgroup(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) lanes: u32,
) {
  let size = gemm_size();
  let M = size.x;
  let N = size.y;
  let K = size.z;
  let row0 = wg.y * TILE_M + lid.y * THREAD_ROWS;
  let col0 = wg.x * TILE_N + lid.x * 4u;
  var acc: array<vec4<f32>, MAX_THREAD_ROWS * MAX_VEC_COLS>;
  // Every lane stays active to the end (shuffles need them all): out-of-range
  // rows and columns read a clamped neighbour and are never stored.
  let same_rows = subgroupAll(row0 == subgroupBroadcastFirst(row0));
  var cols: array<vec4<u32>, MAX_VEC_COLS>;
  for (var v = 0u; v < VEC_COLS; v = v + 1u) {
    let c = col0 + v * 4u * WG_COLS;
    cols[v] = min(vec4<u32>(c, c + 1u, c + 2u, c + 3u), vec4<u32>(N - 1u));
  }
  for (var k0 = 0u; k0 < K; k0 = k0 + lanes) {
    var a_mine: array<f32, MAX_THREAD_ROWS>;
    let k_mine = min(k0 + lane, K - 1u);
    for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
      a_mine[r] = load_a(min(row0 + r, M - 1u), k_mine);
    }
    let steps = min(lanes, K - k0);
    for (var j = 0u; j < steps; j = j + 1u) {
      let k = k0 + j;
      var b: array<vec4<f32>, MAX_VEC_COLS>;
      for (var v = 0u; v < VEC_COLS; v = v + 1u) {
        let cv = cols[v];
        b[v] = vec4<f32>(load_b(k, cv.x), load_b(k, cv.y), load_b(k, cv.z), load_b(k, cv.w));
      }
      for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
        var a_r = subgroupShuffle(a_mine[r], j);
        if (!same_rows) {
          a_r = load_a(min(row0 + r, M - 1u), k);
        }
        let a = vec4<f32>(a_r);
        for (var v = 0u; v < VEC_COLS; v = v + 1u) {
          let i = r * MAX_VEC_COLS + v;
          acc[i] = fma(a, b[v], acc[i]);
        }
      }
    }
  }
  store_block(row0, col0, &acc);
}
