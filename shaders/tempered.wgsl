// What tempered_hidden.wgsl and tempered_visible.wgsl share (prepended to each):
// their uniform, and which β a row runs at.

struct Dims {
  rows: u32,
  chains: u32,
  n_in: u32,
  n_out: u32,
  seed: u32,
  phase: u32,
  // Gaussian visible units (tempered_visible, AIS only); 0 in the hidden pass.
  gaussian: u32,
  _pad: u32,
}

// β of row m: per replica when chains > 0 (PT: rows stacked by replica,
// `chains` rows each), the step's when chains = 0 (AIS: every run at betas[step]).
fn tempered_beta(m: u32, step: u32) -> f32 {
  if (dims.chains > 0u) {
    return betas[m / dims.chains];
  }
  return betas[step];
}
