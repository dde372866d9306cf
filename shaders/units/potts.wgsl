// Potts (categorical) visible units: the visible layer is L sites of q states
// each, one-hot coded, visible index i = site·q + state (V = L·q), with
//   E(v, h) = −bᵀv − vᵀWh − cᵀh,   v one-hot per site,
//   p(v_site = s | h) = softmax_s(x_site,s),   x_i = W_i·h + b_i.
// The softmax couples the q units of a site, which an elementwise epilogue
// cannot compute: this module's unit_mean and unit_sample pass the field x
// through unchanged (the visible kernels store x in vis_prob and vis), and the
// group pass shaders/potts_group.wgsl, dispatched right after every visible
// pass, turns each site's q fields into probabilities and a one-hot draw.
// The functions every file in shaders/units/ defines (see bernoulli.wgsl for
// the contract); x is the unit's field (tempered: (1 − β)·b_base,i + β·(W_i·h + b_i),
// which is the field of the tempered Potts layer: the base model is
// independent sites with softmax(b_base) per site):
//   unit_mean(x)                          the field x itself (the group pass takes the softmax)
//   unit_sample(mean, seed, step, e, ph)  the field again (the group pass draws the state)
//   unit_free_energy_term(v, b)           unit i's bias term of F(v) (and of E)       −b·v (v one-hot: Σ = −b_{site, state})
//   unit_add_bias_difference(acc, v, b, b_base)
//                                         acc + the term at b_base − the term at b   acc + (b − b_base)·v, one fma
// Needs nothing linked besides (rng.wgsl and math.wgsl are linked with every unit module).

fn unit_mean(x: f32) -> f32 {
  return x;
}

fn unit_sample(mean: f32, seed: u32, step: u32, element: u32, phase: u32) -> f32 {
  return mean;
}

fn unit_free_energy_term(v: f32, b: f32) -> f32 {
  return -(b * v);
}

fn unit_add_bias_difference(acc: f32, v: f32, b: f32, b_base: f32) -> f32 {
  return fma(b - b_base, v, acc);
}
