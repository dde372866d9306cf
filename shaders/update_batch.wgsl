// update_batch: the stacked batch the update kernels read, and their Dims
// uniform (UPDATE_DIMS in src/gpu/kernels.ts). Linked before update.wgsl,
// update_centered.wgsl, bias_update.wgsl and center_bias.wgsl, each of which
// declares the binding `dims: Dims`; the functions below read it.
//
// Rows: R = n_rows = B + N, data rows first.
//   r < neg_start = B   positive phase (the data),                 weight +1
//   r ≥ B               negative phase (N = R − B chains or samples), weight −ρ, ρ = B / N
// so a weighted row sum times inv_batch = 1/B (hyper.wgsl) is
//   (positive sum) / B − (negative sum) / N.
// When N = B (ρ = 1) the weight is the sign alone, as before chains could differ.
//
// Layout (row-major f32): vis [R, V], hid_prob [R, H]; V = n_vis, H = n_hid.

struct Dims {
  n_vis: u32,
  n_hid: u32,
  n_rows: u32,
  neg_start: u32,
}

// x, a value of row k, times its row's weight: x, −x or −ρ·x.
fn phase_weighted(k: u32, x: f32) -> f32 {
  if (k < dims.neg_start) {
    return x;
  }
  let chains = dims.n_rows - dims.neg_start;
  if (chains == dims.neg_start) {
    return -x;
  }
  return -x * (f32(dims.neg_start) / f32(chains));
}

// A column's weighted sum from its (positive-phase sum, negative-phase sum): positive − ρ · negative.
fn phase_difference(s: vec2<f32>) -> f32 {
  let chains = dims.n_rows - dims.neg_start;
  if (chains == dims.neg_start) {
    return s.x - s.y;
  }
  return s.x - s.y * (f32(dims.neg_start) / f32(chains));
}
