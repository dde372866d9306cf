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
  let K = size.z;
  let origin = block_origin(wg, lid);
  let row0 = origin.x;
  var acc: Block;
  // Every lane stays active to the end (shuffles need them all): out-of-range
  // rows and columns read a clamped neighbour and are never stored.
  let same_rows = subgroupAll(row0 == subgroupBroadcastFirst(row0));
  let cols = clamped_cols(origin.y);
  for (var k0 = 0u; k0 < K; k0 = k0 + lanes) {
    let a_mine = load_a_rows(row0, min(k0 + lane, K - 1u));
    let steps = min(lanes, K - k0);
    for (var j = 0u; j < steps; j = j + 1u) {
      let k = k0 + j;
      var a = shuffle_rows(a_mine, j);
      if (!same_rows) {
        a = load_a_rows(row0, k);
      }
      fma_block(&acc, a, load_b_row(k, cols));
    }
  }
  store_block(origin, &acc);
}

// Lane `lane`'s A values, for every lane (constant indices, as in gemm.wgsl).
fn shuffle_rows(a: ARows, lane: u32) -> ARows {
  var s: ARows;
  s[0] = subgroupShuffle(a[0], lane);
  if (THREAD_ROWS > 1u) { s[1] = subgroupShuffle(a[1], lane); }
  if (THREAD_ROWS > 2u) { s[2] = subgroupShuffle(a[2], lane); }
  if (THREAD_ROWS > 3u) { s[3] = subgroupShuffle(a[3], lane); }
  if (THREAD_ROWS > 4u) { s[4] = subgroupShuffle(a[4], lane); }
  if (THREAD_ROWS > 5u) { s[5] = subgroupShuffle(a[5], lane); }
  if (THREAD_ROWS > 6u) { s[6] = subgroupShuffle(a[6], lane); }
  if (THREAD_ROWS > 7u) { s[7] = subgroupShuffle(a[7], lane); }
  return s;
}
