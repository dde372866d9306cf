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
  let K = size.z;
  let origin = block_origin(wg, lid);
  let row0 = origin.x;
  var acc: Block;
  // Every lane stays active to the end (shuffles need them all): out-of-range
  // rows and columns read a clamped neighbour and are never stored.
  let same_rows = subgroupAll(row0 == subgroupBroadcastFirst(row0));
  let cols = clamped_cols(origin.y);
  for (var k0 = 0u; k0 < K; k0 = k0 + lanes) {
    var a_mine: array<f32, MAX_THREAD_ROWS>;
    let k_mine = min(k0 + lane, K - 1u);
    for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
      a_mine[r] = load_a(min(row0 + r, M - 1u), k_mine);
    }
    let steps = min(lanes, K - k0);
    for (var j = 0u; j < steps; j = j + 1u) {
      let k = k0 + j;
      let b = load_b_row(k, cols);
      for (var r = 0u; r < THREAD_ROWS; r = r + 1u) {
        var a = subgroupShuffle(a_mine[r], j);
        if (!same_rows) {
          a = load_a(min(row0 + r, M - 1u), k);
        }
        fma_row(&acc, r, a, b);
      }
    }
  }
  store_block(origin, &acc);
}
