// What tempered_hidden.wgsl and tempered_visible.wgsl share (linked before each):
// their uniform's struct, and which β a row runs at. Self-contained: it reads
// no binding; the includer passes what it needs.

struct Dims {
  rows: u32,
  chains: u32,
  n_in: u32,
  n_out: u32,
  seed: u32,
  phase: u32,
}

// Index into betas of row m's β: per replica when chains > 0 (PT: rows stacked
// by replica, `chains` rows each), the step's when chains = 0 (AIS: every run
// at betas[step]). The includer reads β = betas[tempered_beta_index(m, step, dims.chains)].
fn tempered_beta_index(m: u32, step: u32, chains: u32) -> u32 {
  if (chains > 0u) {
    return m / chains;
  }
  return step;
}
